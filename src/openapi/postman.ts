/**
 * The Postman collection and environment, generated from the OpenAPI document: one folder per
 * tag, one request per documented operation with the documented examples as its values, a
 * collection-level script that fetches an access token with client credentials, and a test
 * script per request checking the documented status and response schema. The output depends
 * on the document only (ids are derived from operation ids), so it changes when the API does.
 */
import { createHash } from 'node:crypto';

type JsonObject = Record<string, unknown>;

/** The parts of an OpenAPI 3.1 document the generator reads. */
export interface OpenApiDocument {
  info?: { title?: string; description?: string };
  tags?: { name: string; description?: string }[];
  paths?: Record<string, Record<string, unknown>>;
  security?: Record<string, string[]>[];
  components?: JsonObject;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  description?: string;
  required?: boolean;
  schema?: JsonObject;
  example?: unknown;
  examples?: Record<string, { value?: unknown }>;
  content?: Record<string, MediaType>;
}

interface MediaType {
  schema?: JsonObject;
  example?: unknown;
  examples?: Record<string, { value?: unknown }>;
}

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, MediaType> };
  responses?: Record<string, { content?: Record<string, MediaType> }>;
  security?: Record<string, string[]>[];
  'x-save'?: Record<string, string>;
  'x-postman'?: string;
  'x-postman-status'?: number;
  'x-order'?: number;
}

export interface PostmanVariable {
  key: string;
  value: string;
  type?: string;
  description?: string;
  disabled?: boolean;
}

export interface PostmanScript {
  listen: 'prerequest' | 'test';
  script: { type: 'text/javascript'; exec: string[] };
}

export interface PostmanRequestItem {
  id: string;
  name: string;
  request: {
    method: string;
    description?: string;
    auth?: { type: 'noauth' };
    header: PostmanVariable[];
    url: {
      raw: string;
      host: string[];
      path: string[];
      query?: PostmanVariable[];
      variable?: PostmanVariable[];
    };
    body?:
      | { mode: 'raw'; raw: string; options?: { raw: { language: 'json' | 'text' } } }
      | { mode: 'urlencoded'; urlencoded: PostmanVariable[] }
      | { mode: 'formdata'; formdata: PostmanVariable[] };
  };
  protocolProfileBehavior?: { followRedirects: false };
  event: PostmanScript[];
  response: [];
}

export interface PostmanFolder {
  name: string;
  description?: string;
  item: PostmanRequestItem[];
}

export interface PostmanCollection {
  info: { _postman_id: string; name: string; description: string; schema: string };
  item: PostmanFolder[];
  auth: { type: 'bearer'; bearer: PostmanVariable[] };
  event: PostmanScript[];
  variable: PostmanVariable[];
}

export interface PostmanEnvironment {
  id: string;
  name: string;
  values: (PostmanVariable & { enabled: boolean })[];
  _postman_variable_scope: 'environment';
}

export interface PostmanOptions {
  /** The environment's `apiBaseURL`, without a final slash; `http://127.0.0.1:8080` if absent. */
  apiBaseUrl?: string;
}

export const COLLECTION_SCHEMA_URL =
  'https://schema.getpostman.com/json/collection/v2.1.0/collection.json';
export const DEFAULT_API_BASE_URL = 'http://127.0.0.1:8080';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** The collection variables the pre-request script keeps the access token in. */
const TOKEN_VARIABLES = ['accessToken', 'accessTokenExpiresAt'];
const VARIABLE_REFERENCE = /\{\{([^{}]+)\}\}/g;

/** Keywords holding one schema, an array of schemas, or a map of names to schemas. */
const SUBSCHEMA = ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains'];
const SUBSCHEMA_MORE = ['propertyNames', 'additionalItems', 'unevaluatedProperties'];
const SUBSCHEMA_ARRAYS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions'];
/** Keywords that only document; a test script's schema leaves them out (formats too, as the
 * project's own response checks do). */
const ANNOTATIONS = new Set([
  '$id',
  '$schema',
  '$comment',
  'title',
  'description',
  'examples',
  'x-postman-example',
]);
const ANNOTATIONS_MORE = ['example', 'default', 'deprecated', 'readOnly', 'writeOnly', 'format'];
for (const keyword of ANNOTATIONS_MORE) ANNOTATIONS.add(keyword);

function resolvePointer(document: OpenApiDocument, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((part) => decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, part) => (node as JsonObject | undefined)?.[part], document);
}

/**
 * A schema with every `$ref` into the document replaced by what it points at (a cycle becomes
 * `{}`), so it stands alone. With `forTests`, annotations, formats and `x-` keywords are left
 * out: the test scripts' validator (Ajv 6, draft-07) needs none of them.
 */
export function inlineSchema(
  document: OpenApiDocument,
  schema: unknown,
  forTests: boolean,
  seen: readonly string[] = [],
): unknown {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const node = schema as JsonObject;
  const inline = (child: unknown, refs = seen) => inlineSchema(document, child, forTests, refs);
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' || (forTests && (ANNOTATIONS.has(key) || key.startsWith('x-')))) continue;
    if (SUBSCHEMA_MAPS.includes(key) && value && typeof value === 'object') {
      result[key] = Object.fromEntries(
        Object.entries(value as JsonObject).map(([name, child]) => [name, inline(child)]),
      );
    } else if (SUBSCHEMA_ARRAYS.includes(key) && Array.isArray(value)) {
      result[key] = value.map((child) => inline(child));
    } else if (SUBSCHEMA.includes(key) || SUBSCHEMA_MORE.includes(key)) {
      result[key] = inline(value);
    } else {
      result[key] = value;
    }
  }
  const ref = node['$ref'];
  if (typeof ref !== 'string') return result;
  const target = seen.includes(ref)
    ? {}
    : inline(resolvePointer(document, ref) ?? {}, [...seen, ref]);
  return Object.keys(result).length === 0 ? target : { allOf: [target, result] };
}

/** A UUID-shaped id derived from a name, so the same operation always gets the same id. */
export function stableId(name: string): string {
  const hex = createHash('sha1').update(`graticule:${name}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `5${hex.slice(13, 16)}`,
    `${variant}${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join('-');
}

/** The id of the request made for an operation. */
export function operationItemId(method: string, path: string, operationId?: string): string {
  return stableId(`operation:${operationId ?? `${method.toUpperCase()} ${path}`}`);
}

/**
 * The first documented example: the Postman form (`x-postman-example`), `example`, then the
 * first of `examples` (object or array).
 */
export function firstExample(holder: {
  example?: unknown;
  examples?: unknown;
  'x-postman-example'?: unknown;
  schema?: JsonObject;
}): unknown {
  if (holder['x-postman-example'] !== undefined) return holder['x-postman-example'];
  if (holder.example !== undefined) return holder.example;
  const { examples } = holder;
  if (Array.isArray(examples) && examples.length > 0) return examples[0];
  if (examples && typeof examples === 'object') {
    const first = Object.values(examples as Record<string, { value?: unknown }>)[0];
    if (first?.value !== undefined) return first.value;
  }
  return holder.schema ? firstExample(holder.schema) : undefined;
}

/** A body's example: the whole-body example, else one made of each property's first example. */
function bodyExample(media: MediaType, document: OpenApiDocument): unknown {
  const schema = inlineSchema(document, media.schema ?? {}, false) as JsonObject;
  const whole = firstExample({ ...media, schema });
  if (whole !== undefined) return whole;
  const properties = (schema['properties'] ?? {}) as Record<string, JsonObject>;
  const entries = Object.entries(properties)
    .map(([name, property]) => [name, firstExample(property)] as const)
    .filter(([, value]) => value !== undefined);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/** A value as Postman text: strings as they are, anything else as JSON. */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Query values are stored readable and sent as Postman encodes them (spaces, quotes, `#`);
 * characters a server would read differently (`%`, `+`, `&`, `#`) are percent-encoded here.
 */
function queryText(value: unknown): string {
  return asText(value).replace(/[%+&#]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The object with a `description` when there is a non-empty one. */
function withDescription<T extends object>(target: T, description: unknown): T {
  return typeof description === 'string' && description !== ''
    ? { ...target, description }
    : target;
}

function parameterEntry(parameter: Parameter, text: (value: unknown) => string) {
  const example = firstExample(parameter);
  const entry = { key: parameter.name, value: example === undefined ? '' : text(example) };
  return withDescription(
    example === undefined ? { ...entry, disabled: true } : entry,
    parameter.description,
  );
}

function buildUrl(path: string, parameters: Parameter[]): PostmanRequestItem['request']['url'] {
  const byName = new Map(parameters.filter((p) => p.in === 'path').map((p) => [p.name, p]));
  const variable: PostmanVariable[] = [];
  const segments = path
    .split('/')
    .filter(Boolean)
    .map((segment) => {
      const whole = /^\{([^{}]+)\}$/.exec(segment);
      if (whole) {
        const parameter = byName.get(whole[1]!) ?? { name: whole[1]!, in: 'path' as const };
        variable.push(parameterEntry(parameter, asText));
        return `:${whole[1]}`;
      }
      // A parameter inside a segment cannot be a Postman path variable: put its example in.
      return segment.replace(/\{([^{}]+)\}/g, (_match, name: string) => {
        const example = byName.get(name) ? firstExample(byName.get(name)!) : undefined;
        return example === undefined ? `:${name}` : asText(example);
      });
    });
  const query = parameters.filter((p) => p.in === 'query').map((p) => parameterEntry(p, queryText));
  const enabled = query.filter((entry) => !('disabled' in entry));
  const search = enabled.map((entry) => `${entry.key}=${entry.value}`).join('&');
  return {
    raw: `{{apiBaseURL}}/${segments.join('/')}${search ? `?${search}` : ''}`,
    host: ['{{apiBaseURL}}'],
    path: segments,
    ...(query.length > 0 ? { query } : {}),
    ...(variable.length > 0 ? { variable } : {}),
  };
}

const BODY_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
] as const;

type PostmanBody = NonNullable<PostmanRequestItem['request']['body']>;

function buildBody(
  operation: Operation,
  document: OpenApiDocument,
): { type: string | undefined; body: PostmanBody } | undefined {
  const content = operation.requestBody?.content ?? {};
  const type = Object.keys(content).find((t) => BODY_TYPES.some((known) => t.startsWith(known)));
  const fallback = Object.keys(content)[0];
  if (!type) {
    if (!fallback) return undefined;
    const example = firstExample(content[fallback]!);
    const raw = example === undefined ? '' : asText(example);
    return { type: fallback, body: { mode: 'raw' as const, raw } };
  }
  const media = content[type]!;
  const example = bodyExample(media, document);
  if (type.startsWith('application/json')) {
    const raw = example === undefined ? '' : JSON.stringify(example, null, 2);
    return { type, body: { mode: 'raw' as const, raw, options: { raw: { language: 'json' } } } };
  }

  const schema = media.schema ? (inlineSchema(document, media.schema, false) as JsonObject) : {};
  const properties = (schema['properties'] ?? {}) as Record<string, JsonObject>;
  const values = (example ?? {}) as Record<string, unknown>;
  const names = [...new Set([...Object.keys(values), ...Object.keys(properties)])];
  const fields = names.map((name) => {
    const value = values[name];
    const entry = { key: name, value: value === undefined ? '' : asText(value), type: 'text' };
    const description = properties[name]?.['description'];
    return withDescription(value === undefined ? { ...entry, disabled: true } : entry, description);
  });
  if (type.startsWith('multipart/form-data')) {
    return { type: undefined, body: { mode: 'formdata' as const, formdata: fields } };
  }
  return { type, body: { mode: 'urlencoded' as const, urlencoded: fields } };
}

/** The status the example request answers: `x-postman-status`, else the first 2xx or 3xx. */
function expectedStatus(operation: Operation): number | undefined {
  if (typeof operation['x-postman-status'] === 'number') return operation['x-postman-status'];
  const statuses = Object.keys(operation.responses ?? {});
  const found =
    statuses.find((status) => /^2\d\d$/.test(status)) ??
    statuses.find((status) => /^3\d\d$/.test(status));
  return found === undefined ? undefined : Number(found);
}

const isJsonType = (type: string) => /^application\/([\w.+-]*\+)?json(;|$)/i.test(type);

/** Lines checking the answer's media type and, for JSON, its body against the schema. */
function bodyChecks(content: Record<string, MediaType>, document: OpenApiDocument): string[] {
  const types = Object.keys(content);
  if (types.length === 0) return [];
  const lines = [
    `const documentedTypes = ${JSON.stringify(types)};`,
    "const contentType = (pm.response.headers.get('Content-Type') || '')",
    "  .split(';')[0].trim().toLowerCase();",
    "pm.test('answers a documented media type', function () {",
    '  const matches = documentedTypes.some(function (type) {',
    "    const [main, sub] = type.toLowerCase().split('/');",
    "    const [actualMain, actualSub] = contentType.split('/');",
    "    return (main === '*' || main === actualMain) && (sub === '*' || sub === actualSub);",
    '  });',
    "  pm.expect(matches, contentType + ' is not one of ' + documentedTypes).to.equal(true);",
    '});',
  ];
  const jsonType = types.find(isJsonType);
  if (!jsonType) return lines;
  const schema = inlineSchema(document, content[jsonType]!.schema ?? {}, true);
  return [
    ...lines,
    `const schema = ${JSON.stringify(schema, null, 2)};`,
    'if (/^application\\/([\\w.+-]*\\+)?json$/.test(contentType)) {',
    "  pm.test('the body matches the documented schema', function () {",
    '    pm.response.to.have.jsonSchema(schema);',
    '  });',
    '}',
  ];
}

/**
 * The test script: the documented status; then, when it is that status, the media type, the
 * JSON body against its schema, and the `x-save` fields stored in collection variables.
 */
function testScript(method: string, operation: Operation, document: OpenApiDocument): string[] {
  const status = expectedStatus(operation);
  if (status === undefined) return [];
  const content = method === 'head' ? {} : (operation.responses?.[status]?.content ?? {});
  const saves = Object.entries(operation['x-save'] ?? {}).flatMap(([variable, field]) => [
    `pm.test('saves ${field} as {{${variable}}}', function () {`,
    `  const value = pm.response.json()[${JSON.stringify(field)}];`,
    `  pm.expect(value, ${JSON.stringify(`field ${field}`)}).to.not.equal(undefined);`,
    `  pm.collectionVariables.set(${JSON.stringify(variable)},`,
    "    typeof value === 'string' ? value : JSON.stringify(value));",
    '});',
  ]);
  const checks = [...bodyChecks(content, document), ...saves]
    .join('\n')
    .split('\n')
    .map((line) => `  ${line}`);
  return [
    `pm.test('answers ${status}', function () {`,
    `  pm.response.to.have.status(${status});`,
    '});',
    ...(checks.length > 0 ? [`if (pm.response.code === ${status}) {`, ...checks, '}'] : []),
  ];
}

/**
 * Where a request runs within its folder, so a run works on a fresh server: requests that
 * save a variable (`x-save`) first, then the other requests, then updates (PUT, PATCH), then
 * deletions. `x-order` replaces the rank; equal ranks keep the document's order.
 */
export function requestRank(method: string, operation: Operation): number {
  if (typeof operation['x-order'] === 'number') return operation['x-order'];
  if (method === 'delete') return 4;
  if (method === 'put' || method === 'patch') return 3;
  return operation['x-save'] ? 1 : 2;
}

function sendsToken(operation: Operation, document: OpenApiDocument): boolean {
  return (operation.security ?? document.security ?? []).length > 0;
}

function buildRequest(
  method: string,
  path: string,
  operation: Operation,
  document: OpenApiDocument,
): PostmanRequestItem {
  const parameters = operation.parameters ?? [];
  const body = buildBody(operation, document);
  const header = parameters
    .filter((p) => p.in === 'header')
    .map((p) => parameterEntry(p, asText))
    .concat(body?.type ? [{ key: 'Content-Type', value: body.type }] : []);
  const status = expectedStatus(operation);
  return {
    id: operationItemId(method, path, operation.operationId),
    name: operation.summary ?? `${method.toUpperCase()} ${path}`,
    request: {
      method: method.toUpperCase(),
      ...withDescription({}, operation.description),
      ...(sendsToken(operation, document) ? {} : { auth: { type: 'noauth' as const } }),
      header,
      url: buildUrl(path, parameters),
      ...(body ? { body: body.body } : {}),
    },
    ...(status !== undefined && status >= 300 && status < 400
      ? { protocolProfileBehavior: { followRedirects: false as const } }
      : {}),
    event: [
      {
        listen: 'test',
        script: { type: 'text/javascript', exec: testScript(method, operation, document) },
      },
    ],
    response: [],
  };
}

const TOKEN_SCRIPT = `// Fetches an access token with the environment's client credentials (OAuth 2 client
// credentials grant) and keeps it in the collection variable accessToken, reusing it until a
// minute before it expires. Requests that send no token do not need one.
const sendsToken = !pm.request.auth || pm.request.auth.type !== 'noauth';
const cachedToken = pm.collectionVariables.get('accessToken');
const expiresAt = Number(pm.collectionVariables.get('accessTokenExpiresAt') || 0);
if (sendsToken && (!cachedToken || Date.now() > expiresAt - 60 * 1000)) {
  pm.sendRequest(
    {
      url: pm.variables.replaceIn('{{apiBaseURL}}/oauth/token'),
      method: 'POST',
      header: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: {
        mode: 'urlencoded',
        urlencoded: [
          { key: 'grant_type', value: 'client_credentials' },
          { key: 'client_id', value: pm.variables.get('clientId') || '' },
          { key: 'client_secret', value: pm.variables.get('clientSecret') || '' },
          { key: 'audience', value: 'carto-cloud-native-api' },
        ],
      },
    },
    function (error, response) {
      pm.test('gets an access token with clientId and clientSecret', function () {
        pm.expect(error, 'the token request failed').to.equal(null);
        pm.expect(response.code, response.text()).to.equal(200);
      });
      if (error || response.code !== 200) return;
      const body = response.json();
      pm.collectionVariables.set('accessToken', body.access_token);
      const lifetimeMs = Number(body.expires_in || 0) * 1000;
      pm.collectionVariables.set('accessTokenExpiresAt', String(Date.now() + lifetimeMs));
    },
  );
}`;

interface DocumentedOperation {
  method: string;
  path: string;
  operation: Operation;
}

/** Every documented operation in the document's order, with its path-level parameters. */
export function documentedOperations(document: OpenApiDocument): DocumentedOperation[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({
        method,
        path,
        operation: {
          ...(operation as Operation),
          parameters: [
            ...((item['parameters'] as Parameter[] | undefined) ?? []).filter(
              (p) => !(operation as Operation).parameters?.some((o) => o.name === p.name),
            ),
            ...((operation as Operation).parameters ?? []),
          ],
        },
      })),
  );
}

function environmentValues(apiBaseUrl: string): PostmanEnvironment['values'] {
  const entry = (key: string, value: string, description: string, type = 'default') => ({
    key,
    value,
    type,
    description,
    enabled: true,
  });
  return [
    entry('apiBaseURL', apiBaseUrl, "The Graticule server's base URL, without a final slash"),
    entry('clientId', '', 'Client id of a Machine to Machine application'),
    entry('clientSecret', '', 'Its client secret', 'secret'),
    entry('connectionName', 'carto_dw', 'The connection the examples query'),
    entry('pgHost', '127.0.0.1', 'A PostgreSQL/PostGIS database for the Connections examples'),
    entry('pgPort', '5432', "The database's port"),
    entry('pgDatabase', 'postgres', "The database's name"),
    entry('pgUser', '', 'A role of that database'),
    entry('pgPassword', '', "The role's password", 'secret'),
  ];
}

/**
 * Builds the Postman collection (format v2.1.0) and its environment from an OpenAPI document.
 * Operations marked `x-postman: 'skip'` are left out.
 */
export function generatePostman(
  document: OpenApiDocument,
  options: PostmanOptions = {},
): { collection: PostmanCollection; environment: PostmanEnvironment } {
  const title = document.info?.title ?? 'API';
  const operations = documentedOperations(document).filter(
    ({ operation }) => operation['x-postman'] !== 'skip',
  );
  const tagNames = [
    ...(document.tags ?? []).map((tag) => tag.name),
    ...operations.map(({ operation }) => operation.tags?.[0] ?? 'Other'),
  ];
  const folders = [...new Set(tagNames)]
    .map((name) => {
      const members = operations
        .filter(({ operation }) => (operation.tags?.[0] ?? 'Other') === name)
        .map((entry, index) => ({ ...entry, index }))
        .sort(
          (a, b) =>
            requestRank(a.method, a.operation) - requestRank(b.method, b.operation) ||
            a.index - b.index,
        );
      const description = document.tags?.find((tag) => tag.name === name)?.description;
      return withDescription(
        {
          name,
          item: members.map(({ method, path, operation }) =>
            buildRequest(method, path, operation, document),
          ),
        },
        description,
      );
    })
    .filter((folder) => folder.item.length > 0);
  const saved = operations.flatMap(({ operation }) => Object.keys(operation['x-save'] ?? {}));

  const collection: PostmanCollection = {
    info: {
      _postman_id: stableId(`collection:${title}`),
      name: title,
      description:
        `${document.info?.description ?? ''}\n\nFill the environment's clientId and ` +
        "clientSecret with a Machine to Machine application's credentials: the collection " +
        'fetches an access token itself.',
      schema: COLLECTION_SCHEMA_URL,
    },
    item: folders,
    auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{accessToken}}', type: 'string' }] },
    event: [
      { listen: 'prerequest', script: { type: 'text/javascript', exec: TOKEN_SCRIPT.split('\n') } },
    ],
    variable: [...new Set([...TOKEN_VARIABLES, ...saved])].map((key) => ({ key, value: '' })),
  };
  const environment: PostmanEnvironment = {
    id: stableId(`environment:${title}`),
    name: title.replace(/ API$/, ''),
    values: environmentValues((options.apiBaseUrl ?? DEFAULT_API_BASE_URL).replace(/\/+$/, '')),
    _postman_variable_scope: 'environment',
  };
  return { collection, environment };
}

function variablesIn(item: PostmanRequestItem): string[] {
  const { request } = item;
  const texts = [
    request.url.raw,
    ...(request.url.variable ?? []).map((v) => v.value),
    ...request.header.filter((h) => !h.disabled).map((h) => h.value),
    request.body ? JSON.stringify(request.body) : '',
  ];
  return texts.flatMap((text) => [...text.matchAll(VARIABLE_REFERENCE)].map((m) => m[1]!.trim()));
}

/**
 * Variables a request uses before anything defines them (the environment, the token script or
 * an earlier request's `x-save`), as messages; Postman's dynamic variables (`{{$guid}}`) count
 * as defined. A run in collection order needs this list to be empty.
 */
export function findUndefinedVariables(
  collection: PostmanCollection,
  environment: PostmanEnvironment,
): string[] {
  const defined = new Set([...environment.values.map((v) => v.key), ...TOKEN_VARIABLES]);
  const problems: string[] = [];
  for (const folder of collection.item) {
    for (const item of folder.item) {
      for (const name of variablesIn(item)) {
        if (!name.startsWith('$') && !defined.has(name)) {
          problems.push(`${folder.name} / ${item.name} uses {{${name}}} before it is set`);
        }
      }
      const exec = item.event.flatMap((event) => event.script.exec).join('\n');
      for (const match of exec.matchAll(/pm\.collectionVariables\.set\("([^"]+)"/g)) {
        defined.add(match[1]!);
      }
    }
  }
  return problems;
}
