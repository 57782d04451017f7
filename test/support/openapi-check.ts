import { Ajv2020 } from 'ajv/dist/2020.js';

/** The parts of an OpenAPI document the checks read. */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, unknown> };
}

export interface OpenApiOperation {
  operationId?: string;
  tags?: string[];
  summary?: string;
  parameters?: { name: string; in: string; schema?: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema?: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  [extension: `x-${string}`]: unknown;
}

/** Fetches the server's OpenAPI document. */
export async function fetchOpenApi(baseUrl: string): Promise<OpenApiDocument> {
  const response = await fetch(`${baseUrl}/openapi.json`);
  if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}`);
  return (await response.json()) as OpenApiDocument;
}

/** `/v3/tokens/:token` or a concrete path → the document's `/v3/tokens/{token}` form. */
export function openApiPath(fastifyPath: string): string {
  return fastifyPath.replace(/:(\w+)/g, '{$1}');
}

const escapePointer = (part: string) => part.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Checks real responses against the documented ones: `check(method, path, status, body)`
 * answers the validation errors (none when the body matches the documented schema).
 */
export function responseChecker(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(document, 'openapi');
  return (method: string, path: string, status: number, body: unknown): string[] => {
    const operation = document.paths[openApiPath(path)]?.[method.toLowerCase()];
    if (!operation) return [`${method} ${path} is not documented`];
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find(
      (candidate) => operation.responses[candidate],
    );
    if (!key) return [`${method} ${path} does not document status ${status}`];
    const content = operation.responses[key]?.content;
    if (!content?.['application/json']) return [];
    const pointer = [
      'paths',
      openApiPath(path),
      method.toLowerCase(),
      'responses',
      key,
      'content',
      'application/json',
      'schema',
    ]
      .map(escapePointer)
      .join('/');
    const validate = ajv.getSchema(`openapi#/${pointer}`);
    if (!validate) return [`no schema at ${pointer}`];
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
  };
}
