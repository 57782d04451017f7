/**
 * The OpenAPI document: a valid OpenAPI 3.1 description of every public route, generated from
 * the route schemas, served as JSON, YAML and a reference page.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedServer } from './support/api.js';
import { fetchOpenApi, openApiPath, type OpenApiDocument } from './support/openapi-check.js';
import { registeredRoutes } from './support/registered-routes.js';

const AUTH_OPERATIONS = [
  'POST /oauth/token',
  'GET /.well-known/openid-configuration',
  'GET /.well-known/jwks.json',
  'GET /userinfo',
  'GET /v2/logout',
];

interface DescribedParameter {
  name: string;
  in: string;
  description?: string;
}

interface DescribedSchema {
  description?: string;
}

let document: OpenApiDocument;

beforeAll(async () => {
  document = await fetchOpenApi(sharedServer().baseUrl);
});

function operations() {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
  );
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
  });

  it('documents every /v3 route and the OAuth endpoints CARTO clients call', () => {
    const documented = new Set(
      operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`),
    );
    const routes = registeredRoutes('/v3').map((route) => {
      const [method, path] = route.split(' ');
      return `${method} ${openApiPath(path!)}`;
    });
    const missing = [...routes, ...AUTH_OPERATIONS].filter((route) => !documented.has(route));
    expect(missing).toEqual([]);
  });

  it('names, tags and describes every operation, with unique operation ids', () => {
    const tags = new Set(
      (document as unknown as { tags: { name: string }[] }).tags.map((t) => t.name),
    );
    const ids = new Set<string>();
    for (const { path, method, operation } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(operation.summary, where).toBeTruthy();
      expect(operation.operationId, where).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(ids.has(operation.operationId!), `${where} reuses ${operation.operationId}`).toBe(
        false,
      );
      ids.add(operation.operationId!);
      expect(operation.tags?.length, where).toBe(1);
      expect(tags.has(operation.tags![0]!), `${where}: unknown tag`).toBe(true);
      const statuses = Object.keys(operation.responses);
      expect(
        statuses.some((status) => /^(2|3)/.test(status)),
        `${where} documents no success`,
      ).toBe(true);
    }
  });

  it('describes every parameter and every top-level body field', () => {
    const undescribed: string[] = [];
    for (const { path, method, operation } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      const parameters = (operation.parameters ?? []) as DescribedParameter[];
      for (const { name, in: location, description } of parameters) {
        if (!description) undescribed.push(`${where}: ${location} parameter ${name}`);
      }
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
        const properties = (media.schema?.properties ?? {}) as Record<string, DescribedSchema>;
        for (const [name, property] of Object.entries(properties)) {
          if (!property.description) undescribed.push(`${where}: ${type} body field ${name}`);
        }
      }
    }
    expect(undescribed).toEqual([]);
  });

  it('gives JSON body examples its own body schemas accept', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    const rejected: string[] = [];
    let checked = 0;
    for (const { path, method, operation } of operations()) {
      const media = operation.requestBody?.content['application/json'] as
        | { schema?: object; example?: unknown; examples?: Record<string, { value: unknown }> }
        | undefined;
      if (!media?.schema) continue;
      const examples = [
        ...(media.example === undefined ? [] : [media.example]),
        ...Object.values(media.examples ?? {}).map((example) => example.value),
      ];
      const validate = ajv.compile(media.schema);
      for (const example of examples) {
        checked += 1;
        if (!validate(example)) {
          rejected.push(`${method.toUpperCase()} ${path}: ${ajv.errorsText(validate.errors)}`);
        }
      }
    }
    expect(rejected).toEqual([]);
    expect(checked).toBeGreaterThan(10);
  });

  it('requires a new connection to name its provider, in either spelling', () => {
    for (const path of ['/v3/connections', '/v3/connections/test']) {
      const schema = document.paths[path]!.post!.requestBody!.content['application/json']!.schema!;
      expect(schema.anyOf, path).toEqual([
        { required: ['provider_id'] },
        { required: ['provider'] },
      ]);
      const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(schema);
      const body = { name: 'a_pg', config: { host: 'h', database: 'd', username: 'u' } };
      const config = { ...body.config, password: 'p' };
      expect(validate({ ...body, config }), path).toBe(false);
      expect(validate({ ...body, config, provider: 'postgres' }), path).toBe(true);
      expect(validate({ ...body, config, provider_id: 'postgres' }), path).toBe(true);
    }
  });

  it('lets a public map be read with or without a token', () => {
    const operation = document.paths['/v3/maps/public/{id}']!.get as { security?: unknown };
    expect(operation.security).toEqual([{}, { bearerAuth: [] }]);
  });

  it('documents the error shape on every operation', () => {
    for (const { path, method, operation } of operations()) {
      const error = operation.responses['4XX']?.content?.['application/json']?.schema;
      expect(error, `${method.toUpperCase()} ${path}`).toBeTruthy();
    }
    expect(document.components?.schemas?.Error).toMatchObject({
      required: ['error', 'status', 'code'],
    });
  });

  it('is served as YAML with the same content and as a reference page', async () => {
    const { baseUrl } = sharedServer();
    const yaml = await fetch(`${baseUrl}/openapi.yaml`);
    expect(yaml.status).toBe(200);
    expect(yaml.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(parseYaml(await yaml.text())).toEqual(document);
    const page = await fetch(`${baseUrl}/docs/api/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('swagger');
  });

  it('shows readers real example values, keeping the Postman variables aside', () => {
    const withoutPostmanForms = JSON.stringify(document, (key, value: unknown) =>
      key === 'x-postman-example' ? undefined : value,
    );
    expect(withoutPostmanForms).not.toContain('{{');
    expect(JSON.stringify(document)).toContain('"x-postman-example":"{{connectionName}}"');
  });

  it('answers conditional requests for the document', async () => {
    const { baseUrl } = sharedServer();
    for (const path of ['/openapi.json', '/openapi.yaml']) {
      const first = await fetch(`${baseUrl}${path}`);
      const etag = first.headers.get('etag');
      expect(etag, path).toBeTruthy();
      const again = await fetch(`${baseUrl}${path}`, { headers: { 'If-None-Match': etag! } });
      expect(again.status, path).toBe(304);
    }
  });

  it('lets the reference page style itself and stay on plain HTTP', async () => {
    const page = await fetch(`${sharedServer().baseUrl}/docs/api/static/index.html`);
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("style-src 'self' 'unsafe-inline'");
    expect(policy).not.toContain('upgrade-insecure-requests');
  });

  it("names this server's public address as the server", () => {
    const servers = (document as unknown as { servers: { url: string }[] }).servers;
    expect(servers).toEqual([{ url: sharedServer().baseUrl }]);
  });
});
