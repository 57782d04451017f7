import { describe, expect, it } from 'vitest';
import {
  COLLECTION_SCHEMA_URL,
  findUndefinedVariables,
  generatePostman,
  inlineSchema,
  operationItemId,
  type OpenApiDocument,
  type PostmanRequestItem,
} from './postman.js';

const bearer = [{ bearerAuth: [] }];
const json = (schema: Record<string, unknown>) => ({ content: { 'application/json': { schema } } });

/** A small API: a token endpoint, notes created, read, changed and deleted, a skipped page. */
const DOCUMENT: OpenApiDocument = {
  info: { title: 'Notes API', description: 'Notes.' },
  tags: [
    { name: 'Auth', description: 'Tokens' },
    { name: 'Notes', description: 'Notes of the account' },
    { name: 'Unused', description: 'No operation has this tag' },
  ],
  components: {
    schemas: {
      Note: {
        $id: 'Note',
        title: 'Note',
        type: 'object',
        required: ['id', 'text'],
        properties: {
          id: { type: 'string', description: 'Its id', examples: ['n1'] },
          text: { type: 'string', format: 'note-text' },
          parent: { $ref: '#/components/schemas/Note' },
        },
      },
    },
  },
  paths: {
    '/v3/notes/{noteId}': {
      parameters: [
        { name: 'noteId', in: 'path', required: true, example: '{{noteId}}', description: 'Id' },
      ],
      delete: {
        operationId: 'deleteNote',
        summary: 'Delete a note',
        tags: ['Notes'],
        security: bearer,
        responses: { 204: { description: 'Deleted' } },
      },
      get: {
        operationId: 'getNote',
        summary: 'Get a note',
        description: 'Reads one note.',
        tags: ['Notes'],
        security: bearer,
        parameters: [
          {
            name: 'fields',
            in: 'query',
            schema: { type: 'string' },
            examples: { a: { value: 'a' } },
          },
          { name: 'q', in: 'query', schema: { type: 'string' }, example: 'a + b = 100% & #1' },
          { name: 'filters', in: 'query', schema: { type: 'object' }, example: { x: 1 } },
          { name: 'limit', in: 'query', schema: { type: 'integer' }, description: 'At most' },
          { name: 'If-None-Match', in: 'header', schema: { type: 'string' }, example: '"e1"' },
        ],
        responses: { 200: json({ $ref: '#/components/schemas/Note' }), 304: {} },
      },
      patch: {
        operationId: 'changeNote',
        summary: 'Change a note',
        tags: ['Notes'],
        security: bearer,
        requestBody: {
          content: {
            'application/json': { schema: { type: 'object' }, example: { text: 'changed' } },
          },
        },
        responses: { 200: json({ $ref: '#/components/schemas/Note' }) },
      },
    },
    '/v3/notes': {
      get: {
        operationId: 'listNotes',
        summary: 'List notes',
        tags: ['Notes'],
        security: bearer,
        responses: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/Note' } }) },
      },
      post: {
        operationId: 'createNote',
        summary: 'Create a note',
        tags: ['Notes'],
        security: bearer,
        'x-save': { noteId: 'id' },
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  text: { type: 'string', examples: ['first', 'second'] },
                  pinned: { type: 'boolean', examples: [true] },
                  color: { type: 'string' },
                },
              },
            },
          },
        },
        responses: { 201: json({ $ref: '#/components/schemas/Note' }) },
      },
    },
    '/v3/notes/{noteId}/archive': {
      post: {
        operationId: 'archiveNote',
        summary: 'Archive a note',
        tags: ['Notes'],
        security: bearer,
        'x-order': 5,
        'x-postman-status': 202,
        parameters: [{ name: 'noteId', in: 'path', required: true, example: '{{noteId}}' }],
        responses: { 200: {}, 202: { description: 'Accepted' } },
      },
    },
    '/oauth/token': {
      post: {
        operationId: 'getToken',
        summary: 'Get a token',
        tags: ['Auth'],
        requestBody: {
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object',
                properties: {
                  grant_type: { type: 'string', examples: ['client_credentials'] },
                  client_id: { type: 'string', examples: ['{{clientId}}'], description: 'Client' },
                  scope: { type: 'string' },
                },
              },
            },
          },
        },
        responses: { 200: json({ type: 'object' }) },
      },
    },
    '/authorize': {
      get: {
        operationId: 'authorize',
        summary: 'Sign in',
        tags: ['Auth'],
        'x-postman': 'skip',
        responses: { 302: {} },
      },
    },
    '/metrics': {
      get: { operationId: 'getMetrics', summary: 'Metrics', tags: ['Ops'], responses: {} },
    },
  },
};

function requestsOf(folder: string): PostmanRequestItem[] {
  const { collection } = generatePostman(DOCUMENT);
  return collection.item.find((f) => f.name === folder)?.item ?? [];
}

function request(name: string): PostmanRequestItem {
  const { collection } = generatePostman(DOCUMENT);
  const found = collection.item.flatMap((f) => f.item).find((item) => item.name === name);
  if (!found) throw new Error(`no request ${name}`);
  return found;
}

const script = (item: PostmanRequestItem) => item.event[0]!.script.exec.join('\n');

describe('generatePostman', () => {
  it('makes a v2.1.0 collection with one folder per used tag, in the tag order', () => {
    const { collection } = generatePostman(DOCUMENT);

    expect(collection.info.schema).toBe(COLLECTION_SCHEMA_URL);
    expect(collection.info.name).toBe('Notes API');
    expect(collection.item.map((folder) => [folder.name, folder.description])).toEqual([
      ['Auth', 'Tokens'],
      ['Notes', 'Notes of the account'],
      ['Ops', undefined],
    ]);
  });

  it('names requests by summary and describes them by the description', () => {
    const item = request('Get a note');

    expect(item.request.method).toBe('GET');
    expect(item.request.description).toBe('Reads one note.');
    expect(item.id).toBe(operationItemId('get', '/v3/notes/{noteId}', 'getNote'));
  });

  it('leaves out operations marked x-postman skip', () => {
    expect(requestsOf('Auth').map((item) => item.name)).toEqual(['Get a token']);
  });

  it('orders creations first, then reads, updates, deletions, and x-order ranks', () => {
    expect(requestsOf('Notes').map((item) => item.name)).toEqual([
      'Create a note',
      'Get a note',
      'List notes',
      'Change a note',
      'Delete a note',
      'Archive a note',
    ]);
  });

  it('builds URLs from path and query examples, keeping undocumented values disabled', () => {
    const { url, header } = request('Get a note').request;

    expect(url.path).toEqual(['v3', 'notes', ':noteId']);
    expect(url.variable).toEqual([{ key: 'noteId', value: '{{noteId}}', description: 'Id' }]);
    expect(url.query).toEqual([
      { key: 'fields', value: 'a' },
      { key: 'q', value: 'a %2B b = 100%25 %26 %231' },
      { key: 'filters', value: '{"x":1}' },
      { key: 'limit', value: '', disabled: true, description: 'At most' },
    ]);
    expect(url.raw).toBe(
      '{{apiBaseURL}}/v3/notes/:noteId?fields=a&q=a %2B b = 100%25 %26 %231&filters={"x":1}',
    );
    expect(header).toEqual([{ key: 'If-None-Match', value: '"e1"' }]);
  });

  it('makes JSON bodies from the whole-body example or from each property', () => {
    const change = request('Change a note').request;
    const create = request('Create a note').request;

    expect(change.body).toEqual({
      mode: 'raw',
      raw: JSON.stringify({ text: 'changed' }, null, 2),
      options: { raw: { language: 'json' } },
    });
    expect(change.header).toContainEqual({ key: 'Content-Type', value: 'application/json' });
    expect(create.body?.mode === 'raw' && JSON.parse(create.body.raw)).toEqual({
      text: 'first',
      pinned: true,
    });
  });

  it('sends form bodies urlencoded, without a token', () => {
    const token = request('Get a token').request;

    expect(token.auth).toEqual({ type: 'noauth' });
    expect(token.body).toEqual({
      mode: 'urlencoded',
      urlencoded: [
        { key: 'grant_type', value: 'client_credentials', type: 'text' },
        { key: 'client_id', value: '{{clientId}}', type: 'text', description: 'Client' },
        { key: 'scope', value: '', type: 'text', disabled: true },
      ],
    });
  });

  it('sends the bearer token on secured operations, fetched by a pre-request script', () => {
    const { collection } = generatePostman(DOCUMENT);
    const prerequest = collection.event[0]!.script.exec.join('\n');

    expect(request('List notes').request.auth).toBeUndefined();
    expect(request('Metrics').request.auth).toEqual({ type: 'noauth' });
    expect(collection.auth).toEqual({
      type: 'bearer',
      bearer: [{ key: 'token', value: '{{accessToken}}', type: 'string' }],
    });
    expect(collection.event[0]!.listen).toBe('prerequest');
    expect(prerequest).toContain("pm.variables.replaceIn('{{apiBaseURL}}/oauth/token')");
    expect(prerequest).toContain("{ key: 'grant_type', value: 'client_credentials' }");
    expect(prerequest).toContain("{ key: 'audience', value: 'carto-cloud-native-api' }");
    expect(prerequest).toContain("pm.collectionVariables.set('accessTokenExpiresAt'");
  });

  it('tests the first documented 2xx, or x-postman-status, and the body schema', () => {
    expect(script(request('Get a note'))).toContain('pm.response.to.have.status(200);');
    expect(script(request('Create a note'))).toContain('pm.response.to.have.status(201);');
    expect(script(request('Archive a note'))).toContain('pm.response.to.have.status(202);');
    expect(script(request('Delete a note'))).not.toContain('jsonSchema');
    expect(script(request('Get a note'))).toContain('pm.response.to.have.jsonSchema(schema);');
    expect(script(request('Metrics'))).toBe('');
  });

  it('inlines referenced schemas in the test script, a cycle as {}, without annotations', () => {
    const text = script(request('List notes'));
    const schema = JSON.parse(/const schema = ([\s\S]*?\n {2}\});/.exec(text)![1]!);

    expect(schema).toEqual({
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'text'],
        properties: {
          id: { type: 'string' },
          text: { type: 'string' },
          parent: {},
        },
      },
    });
  });

  it('stores x-save fields in collection variables', () => {
    const { collection } = generatePostman(DOCUMENT);

    expect(script(request('Create a note'))).toContain(
      'pm.collectionVariables.set("noteId",\n' +
        "      typeof value === 'string' ? value : JSON.stringify(value));",
    );
    expect(collection.variable.map((v) => v.key)).toEqual([
      'accessToken',
      'accessTokenExpiresAt',
      'noteId',
    ]);
  });

  it('makes the environment with the API base URL, credentials and database variables', () => {
    const { environment } = generatePostman(DOCUMENT);
    const served = generatePostman(DOCUMENT, { apiBaseUrl: 'https://maps.example.org/' });
    const values = Object.fromEntries(environment.values.map((v) => [v.key, [v.value, v.type]]));

    expect(values).toEqual({
      apiBaseURL: ['http://127.0.0.1:8080', 'default'],
      clientId: ['', 'default'],
      clientSecret: ['', 'secret'],
      connectionName: ['carto_dw', 'default'],
      pgHost: ['127.0.0.1', 'default'],
      pgPort: ['5432', 'default'],
      pgDatabase: ['postgres', 'default'],
      pgUser: ['', 'default'],
      pgPassword: ['', 'secret'],
    });
    expect(served.environment.values[0]!.value).toBe('https://maps.example.org');
  });

  it('trims a public URL with a path and a final slash, and leaves the collection to it', () => {
    const { collection, environment } = generatePostman(DOCUMENT, {
      apiBaseUrl: 'https://maps.example.com/graticule/',
    });
    const baseUrl = environment.values.find((v) => v.key === 'apiBaseURL');

    expect(baseUrl?.value).toBe('https://maps.example.com/graticule');
    expect(collection.variable.map((v) => v.key)).not.toContain('apiBaseURL');
    expect(JSON.stringify(collection)).not.toContain('maps.example.com');
  });

  it('is deterministic', () => {
    const first = JSON.stringify(generatePostman(DOCUMENT));
    const second = JSON.stringify(generatePostman(structuredClone(DOCUMENT)));

    expect(second).toBe(first);
    expect(first).toMatch(/"_postman_id":"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab]/);
  });
});

describe('findUndefinedVariables', () => {
  it('accepts variables saved by earlier requests and the environment', () => {
    const { collection, environment } = generatePostman(DOCUMENT);

    expect(findUndefinedVariables(collection, environment)).toEqual([]);
  });

  it('reports a variable used before the request saving it', () => {
    const document = structuredClone(DOCUMENT);
    const create = document.paths!['/v3/notes']!['post'] as Record<string, unknown>;
    create['x-order'] = 6;

    const { collection, environment } = generatePostman(document);

    expect(findUndefinedVariables(collection, environment)).toEqual([
      'Notes / Get a note uses {{noteId}} before it is set',
      'Notes / Change a note uses {{noteId}} before it is set',
      'Notes / Delete a note uses {{noteId}} before it is set',
      'Notes / Archive a note uses {{noteId}} before it is set',
    ]);
  });
});

describe('inlineSchema', () => {
  it('keeps examples when building requests and wraps a $ref with siblings in allOf', () => {
    const schema = { $ref: '#/components/schemas/Note', description: 'A note' };

    const inlined = inlineSchema(DOCUMENT, schema, false) as { allOf: { title?: string }[] };

    expect(inlined.allOf).toHaveLength(2);
    expect(inlined.allOf[0]!.title).toBe('Note');
    expect(inlined.allOf[1]).toEqual({ description: 'A note' });
  });
});
