/**
 * The data-plane routes (SQL, Maps, widgets and stats, tilesets, saved maps) as the OpenAPI
 * document describes them: each is documented with its tag, and each answers the request its
 * documented examples make, with a body its documented schema accepts and a documented media
 * type. Other requests check the answers the examples do not reach (exports, 204, 304, every
 * widget model).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import {
  fetchOpenApi,
  openApiPath,
  responseChecker,
  type OpenApiDocument,
  type OpenApiOperation,
} from './support/openapi-check.js';
import { pollUntil } from './support/postgres.js';
import { registeredRoutes } from './support/registered-routes.js';
import { firstExample } from '../src/openapi/postman.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
const suffix = randomBytes(3).toString('hex');

/** Every data-plane operation and the tag it belongs to. */
const OPERATIONS: [method: string, path: string, tag: string][] = [
  ['GET', '/v3/sql/{connection}/query', 'SQL'],
  ['POST', '/v3/sql/{connection}/query', 'SQL'],
  ['POST', '/v3/sql/{connection}/job', 'SQL'],
  ['GET', '/v3/sql/{connection}/job/{jobId}', 'SQL'],
  ['DELETE', '/v3/sql/{connection}/job/{jobId}', 'SQL'],
  ['GET', '/v3/sql/jobs', 'SQL'],
  ['GET', '/v3/maps/{connection}/{type}', 'Maps'],
  ['POST', '/v3/maps/{connection}/{type}', 'Maps'],
  ['GET', '/v3/maps/{connection}/{type}/{z}/{x}/{y}', 'Maps'],
  ['GET', '/v3/maps/{connection}/{type}/{index}', 'Maps'],
  ['GET', '/v3/sql/{connection}/model/{model}', 'Widgets'],
  ['POST', '/v3/sql/{connection}/model/{model}', 'Widgets'],
  ['GET', '/v3/stats/{connection}/{table}/{column}', 'Widgets'],
  ['POST', '/v3/stats/{connection}/{table}/{column}', 'Widgets'],
  ['GET', '/v3/stats/{connection}/{name}', 'Widgets'],
  ['POST', '/v3/stats/{connection}/{name}', 'Widgets'],
  ['GET', '/v3/maps/{connection}/boundary', 'Maps'],
  ['POST', '/v3/maps/{connection}/boundary', 'Maps'],
  ['GET', '/v3/maps/{connection}/boundary/{z}/{x}/{y}', 'Maps'],
  ['GET', '/v3/maps/{connection}/raster', 'Maps'],
  ['POST', '/v3/maps/{connection}/raster', 'Maps'],
  ['GET', '/v3/maps/{connection}/raster/{index}', 'Maps'],
  ['GET', '/v3/maps/{connection}/tileset', 'Tilesets'],
  ['POST', '/v3/maps/{connection}/tileset', 'Tilesets'],
  ['GET', '/v3/maps/{connection}/tileset/{z}/{x}/{y}', 'Tilesets'],
  ['POST', '/v3/maps/{connection}/tileset/jobs', 'Tilesets'],
  ['GET', '/v3/maps/{connection}/tileset/jobs/{jobId}', 'Tilesets'],
  ['DELETE', '/v3/maps/{connection}/tileset/jobs/{jobId}', 'Tilesets'],
  ['GET', '/v3/maps', 'Saved maps'],
  ['POST', '/v3/maps', 'Saved maps'],
  ['GET', '/v3/maps/{id}', 'Saved maps'],
  ['PATCH', '/v3/maps/{id}', 'Saved maps'],
  ['DELETE', '/v3/maps/{id}', 'Saved maps'],
  ['GET', '/v3/maps/public/{id}', 'Saved maps'],
];

let document: OpenApiDocument;
let check: ReturnType<typeof responseChecker>;
let token: string;
/** The Postman variables the examples name, as the collection would have set them. */
const variables: Record<string, string> = { connectionName: 'carto_dw' };

beforeAll(async () => {
  document = await fetchOpenApi(baseUrl);
  check = responseChecker(document);
  token = await fetchToken(baseUrl, clientId, clientSecret);
});

interface Parameter {
  name: string;
  in: string;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}

interface Operation extends OpenApiOperation {
  security?: unknown[];
  requestBody?: {
    content: Record<string, { schema?: Record<string, unknown>; example?: unknown }>;
  };
}

function operationOf(method: string, path: string): Operation {
  const operation = document.paths[path]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${path} is not documented`);
  return operation as Operation;
}

/** `{{name}}` replaced by the variable's value, in text and inside JSON values. */
function withVariables<T>(value: T): T {
  const text = JSON.stringify(value);
  const replaced = text.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => {
    const found = variables[name];
    if (found === undefined) throw new Error(`the example uses {{${name}}}, not set yet`);
    return found;
  });
  return JSON.parse(replaced) as T;
}

function exampleOf(parameter: Parameter): unknown {
  return firstExample(parameter as Parameters<typeof firstExample>[0]);
}

const asText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** The JSON body the documented examples make: the whole-body example, else each field's. */
function exampleBody(operation: Operation): Record<string, unknown> | undefined {
  const media = operation.requestBody?.content['application/json'];
  if (!media) return undefined;
  const whole = firstExample({ ...media, schema: undefined } as Parameters<typeof firstExample>[0]);
  if (whole !== undefined) return whole as Record<string, unknown>;
  const properties = (media.schema?.properties ?? {}) as Record<string, object>;
  const fields = Object.entries(properties)
    .map(([name, schema]) => [name, firstExample(schema)])
    .filter(([, example]) => example !== undefined);
  return Object.fromEntries(fields) as Record<string, unknown>;
}

interface Answer {
  method: string;
  path: string;
  status: number;
  type: string;
  headers: Headers;
  body: unknown;
}

interface CallOptions {
  /** Path parameters instead of their examples. */
  params?: Record<string, string>;
  /** Query parameters over (or, when undefined, instead of) the examples. */
  query?: Record<string, string | undefined>;
  /** A body instead of the example; `merge` lays fields over the example's. */
  body?: unknown;
  merge?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Calls an operation with its documented examples, changed by `options`. */
async function call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const operation = operationOf(method, path);
  const parameters = withVariables((operation.parameters ?? []) as Parameter[]);
  const url = new URL(
    path.replace(/\{(\w+)\}/g, (_match, name: string) => {
      const parameter = parameters.find((p) => p.in === 'path' && p.name === name);
      const value = options.params?.[name] ?? exampleOf(parameter ?? { name, in: 'path' });
      if (value === undefined) throw new Error(`no example for {${name}} of ${method} ${path}`);
      return encodeURIComponent(asText(value));
    }),
    baseUrl,
  );
  for (const parameter of parameters.filter((p) => p.in === 'query')) {
    const value = exampleOf(parameter);
    if (value !== undefined) url.searchParams.set(parameter.name, asText(value));
  }
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value === undefined) url.searchParams.delete(name);
    else url.searchParams.set(name, value);
  }
  const example = exampleBody(operation);
  const body =
    options.body ?? (example ? withVariables({ ...example, ...options.merge }) : undefined);
  const response = await fetch(url, {
    method,
    headers: {
      ...(operation.security ? { Authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...options.headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const raw = Buffer.from(await response.arrayBuffer());
  const isJson = /^application\/([\w.+-]*\+)?json$/.test(type);
  return {
    method,
    path,
    status: response.status,
    type,
    headers: response.headers,
    body: isJson ? (JSON.parse(raw.toString('utf8')) as unknown) : raw,
  };
}

/**
 * The answer is documented: its status, its media type among the status's, and a JSON body
 * that the documented schema accepts.
 */
function expectDocumented(answer: Answer, status: number): void {
  const where = `${answer.method} ${answer.path} → ${answer.status}`;
  expect(answer.status, `${where}: ${JSON.stringify(answer.body).slice(0, 300)}`).toBe(status);
  const documented = operationOf(answer.method, answer.path).responses[String(status)];
  expect(documented, `${where} is not documented`).toBeDefined();
  const types = Object.keys(documented?.content ?? {});
  if (types.length === 0) {
    expect(answer.type, `${where} has no documented body`).toBe('');
    return;
  }
  expect(types, where).toContain(answer.type);
  if (answer.type === 'application/json') {
    expect(check(answer.method, answer.path, answer.status, answer.body), where).toEqual([]);
  }
}

/** An error answer: its status, and CARTO's error body as the document describes it. */
function expectDocumentedError(answer: Answer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.body).toMatchObject({ code });
  expect(check(answer.method, answer.path, answer.status, answer.body)).toEqual([]);
}

const json = (answer: Answer) => answer.body as Record<string, any>;

describe('the data-plane routes in the OpenAPI document', () => {
  it('documents each route with its tag, a summary, a description and an operation id', () => {
    for (const [method, path, tag] of OPERATIONS) {
      const operation = operationOf(method, path) as Operation & { description?: string };
      const where = `${method} ${path}`;
      expect(operation.tags, where).toEqual([tag]);
      expect(operation.summary, where).toMatch(/^[A-Z].*[^.]$/);
      expect(operation.description, where).toBeTruthy();
      expect(operation.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
    }
    const documented = new Set(OPERATIONS.map(([method, path]) => `${method} ${path}`));
    const routes = ['/v3/sql', '/v3/maps', '/v3/stats'].flatMap((prefix) =>
      registeredRoutes(prefix).map((route) => {
        const [method, path] = route.split(' ');
        return `${method} ${openApiPath(path!)}`;
      }),
    );
    expect(routes.filter((route) => !documented.has(route))).toEqual([]);
  });

  it('gives every path parameter an example, with variables the collection sets', () => {
    const saved = new Set(
      OPERATIONS.flatMap(([method, path]) =>
        Object.keys((operationOf(method, path)['x-save'] as object | undefined) ?? {}),
      ),
    );
    for (const [method, path] of OPERATIONS) {
      for (const parameter of (operationOf(method, path).parameters ?? []) as Parameter[]) {
        if (parameter.in !== 'path') continue;
        const example = asText(exampleOf(parameter));
        expect(example, `${method} ${path} {${parameter.name}}`).toBeTruthy();
        for (const [, name] of example.matchAll(/\{\{(\w+)\}\}/g)) {
          expect(name === 'connectionName' || saved.has(name!), `{{${name}}}`).toBe(true);
        }
      }
    }
  });
});

describe('SQL API', () => {
  const QUERY = '/v3/sql/{connection}/query';

  it('answers the query examples as documented: GET, JSON POST and form POST', async () => {
    const get = await call('GET', QUERY);
    expectDocumented(get, 200);
    expect(json(get).rows.length).toBeGreaterThan(0);
    expect(json(get).rows.every((row: { name: string }) => row.name.startsWith('S'))).toBe(true);

    const post = await call('POST', QUERY);
    expectDocumented(post, 200);
    expect(json(post).rows).toEqual(json(get).rows);

    const form = operationOf('POST', QUERY).requestBody!.content[
      'application/x-www-form-urlencoded'
    ]!.schema!.properties as Record<string, object>;
    const fields = Object.entries(form)
      .map(([name, schema]) => [name, firstExample(schema)] as const)
      .filter(([, example]) => example !== undefined);
    const response = await fetch(`${baseUrl}/v3/sql/carto_dw/query`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(
        Object.fromEntries(fields.map(([name, example]) => [name, String(example)])),
      ),
    });
    const posted = { ...post, status: response.status, body: await response.json() };
    expectDocumented(posted, 200);
    expect(json(posted).rows).toEqual(json(get).rows);
  });

  it('exports CSV and NDJSON with documented media types', async () => {
    const csv = await call('GET', QUERY, { query: { format: 'csv' } });
    expectDocumented(csv, 200);
    expect(String(csv.body).split('\n')[0]).toBe('name,iso_n3');
    const ndjson = await call('POST', QUERY, { merge: { format: 'ndjson' } });
    expectDocumented(ndjson, 200);
    const lines = String(ndjson.body).trim().split('\n');
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(
      json(await call('GET', QUERY)).rows,
    );
  });

  it('answers a statement without rows and a bad statement as documented', async () => {
    const ddl = await call('POST', QUERY, {
      body: { q: `CREATE TEMP TABLE docs_${suffix} (a int)` },
    });
    expectDocumented(ddl, 200);
    expect(json(ddl)).toMatchObject({ rows: [], schema: [] });
    const bad = await call('GET', QUERY, { query: { q: 'SELECT nope FROM demo.countries' } });
    expectDocumentedError(bad, 400, 'sql_error');
  });

  it('creates, cancels, reads and lists the example job as documented', async () => {
    const created = await call('POST', '/v3/sql/{connection}/job');
    expectDocumented(created, 200);
    const saved = operationOf('POST', '/v3/sql/{connection}/job')['x-save'] as object;
    expect(saved).toEqual({ jobId: 'externalId' });
    variables.jobId = json(created).externalId as string;

    const JOB = '/v3/sql/{connection}/job/{jobId}';
    const cancelled = await call('DELETE', JOB);
    if (cancelled.status === 200) {
      expectDocumented(cancelled, 200);
      expect(json(cancelled).status).toBe('cancelled');
    } else {
      // The one-second statement had already ended: a finished job cannot be cancelled.
      expectDocumentedError(cancelled, 400, 'job_already_finished');
    }

    const read = await call('GET', JOB);
    expectDocumented(read, 200);
    expect(json(read).externalId).toBe(variables.jobId);
    expect(['cancelled', 'success']).toContain(json(read).status);

    const listed = await call('GET', '/v3/sql/jobs');
    expectDocumented(listed, 200);
    expect(json(listed).data.map((job: { externalId: string }) => job.externalId)).toContain(
      variables.jobId,
    );
  });
});

describe('Maps API', () => {
  const SOURCE = '/v3/maps/{connection}/{type}';

  it('instantiates the example source, answers its TileJSON and its data', async () => {
    const instantiation = await call('GET', SOURCE);
    expectDocumented(instantiation, 200);
    expect(json(instantiation).tilejson.url[0]).toMatch(/format=tilejson/);

    const tilejson = await call('POST', SOURCE);
    expectDocumented(tilejson, 200);
    expect(json(tilejson)).toMatchObject({ tilejson: '3.0.0', scheme: 'xyz' });

    // The example table is small: its instantiation offers the whole data too.
    for (const format of ['geojson', 'json', 'ndjson']) {
      const url = new URL(json(instantiation)[format].url[0] as string);
      const data = await call('GET', SOURCE, {
        query: Object.fromEntries(url.searchParams),
      });
      expectDocumented(data, 200);
    }
  });

  it('instantiates the example query source', async () => {
    const query = await call('GET', SOURCE, {
      params: { type: 'query' },
      query: { format: 'tilejson' },
    });
    expectDocumented(query, 200);
    expect(json(query).tiles[0]).toMatch(/\/query\/\{z\}\/\{x\}\/\{y\}\?q=/);
  });

  it('serves the example vector tile, 304 for its ETag and 204 when empty', async () => {
    const TILE = '/v3/maps/{connection}/{type}/{z}/{x}/{y}';
    const tile = await call('GET', TILE);
    expectDocumented(tile, 200);
    expect(tile.type).toBe('application/vnd.mapbox-vector-tile');
    const binary = await call('GET', TILE, { query: { formatTiles: 'binary' } });
    expectDocumented(binary, 200);
    expect(binary.type).toBe('application/vnd.carto-vector-tile');

    const etag = tile.headers.get('etag')!;
    expectDocumented(await call('GET', TILE, { headers: { 'If-None-Match': etag } }), 304);
    // Far out in the Pacific, at zoom 10: no country.
    const empty = await call('GET', TILE, { params: { z: '10', x: '0', y: '511' } });
    expectDocumented(empty, 204);
  });

  it('serves the example h3 source: its TileJSON and the example cell tile', async () => {
    const CELL = '/v3/maps/{connection}/{type}/{index}';
    const query = Object.fromEntries(
      ((operationOf('GET', CELL).parameters ?? []) as Parameter[])
        .filter((p) => p.in === 'query' && exampleOf(p) !== undefined)
        .map((p) => [p.name, asText(exampleOf(p))]),
    );
    const tilejson = await call('GET', SOURCE, {
      query: { ...query, columns: undefined, v: undefined, format: 'tilejson' },
    });
    expectDocumented(tilejson, 200);
    expect(json(tilejson)).toMatchObject({ scheme: 'h3', tiles: [expect.stringMatching(/\{i\}/)] });

    const tile = await call('GET', CELL);
    expectDocumented(tile, 200);
    expect((tile.body as Buffer).length).toBeGreaterThan(0);
  });
});

describe('widgets and stats', () => {
  const MODEL = '/v3/sql/{connection}/model/{model}';

  it('answers the model examples as documented', async () => {
    const get = await call('GET', MODEL);
    expectDocumented(get, 200);
    const post = await call('POST', MODEL);
    expectDocumented(post, 200);
    expect(json(post)).toEqual(json(get));
    expect(json(get).rows[0].value).toBeGreaterThan(0);
  });

  it('answers every model with a documented body', async () => {
    const ids = await call('POST', '/v3/sql/{connection}/query', {
      body: {
        q: `SELECT md5(ST_AsBinary(geom)) AS id FROM demo.populated_places
            WHERE country = 'ES' ORDER BY population DESC LIMIT 2`,
      },
    });
    const featureIds = json(ids).rows.map((row: { id: string }) => row.id);
    const timeSource = `SELECT country, population, (id % 2 = 0) AS even,
      date '2024-01-01' + (id % 90) AS day FROM demo.populated_places`;
    const cases: [string, Record<string, unknown>, Record<string, string>?][] = [
      ['category', { column: 'country', operation: 'count', othersThreshold: 1 }],
      ['histogram', { column: 'population', ticks: [1000, 10000, 100000] }],
      ['range', { column: 'population' }],
      ['scatterplot', { xAxisColumn: 'population', yAxisColumn: 'id', limit: 5 }],
      ['table', { column: ['name', 'population'], sortBy: 'population', limit: 3 }],
      [
        'aggregations',
        { aggregations: [{ column: 'population', operation: 'max', alias: 'top' }] },
      ],
      ['aggregations', { aggregations: 'sum(population) AS total, count(*) AS n' }],
      ['pick', { featureIds, columns: ['name', 'population'] }],
      ['formula', { operation: 'avg', column: 'population', featureIds }],
      [
        'timeseries',
        { column: 'day', stepSize: 'month', splitByCategory: 'even' },
        { type: 'query', source: timeSource },
      ],
    ];
    for (const [model, params, source] of cases) {
      const answer = await call('GET', MODEL, {
        params: { model },
        query: { ...source, params: JSON.stringify(params) },
      });
      expectDocumented(answer, 200);
      expect(json(answer).rows.length, model).toBeGreaterThan(0);
    }
  });

  it('answers the stats examples as documented', async () => {
    const column = await call('GET', '/v3/stats/{connection}/{table}/{column}');
    expectDocumented(column, 200);
    expect(json(column)).toMatchObject({ attribute: 'population', type: 'Number' });

    const extent = await call('POST', '/v3/stats/{connection}/{table}/{column}');
    expectDocumented(extent, 200);
    expect(json(extent).extent.xmin).toBeLessThan(json(extent).extent.xmax);

    const ofQuery = await call('GET', '/v3/stats/{connection}/{name}');
    expectDocumented(ofQuery, 200);
    expect(json(ofQuery)).toMatchObject({ attribute: 'population', type: 'Number' });

    const table = await call('POST', '/v3/stats/{connection}/{name}');
    expectDocumented(table, 200);
    expect(json(table).count).toBe(2);
    expect(json(table).extent).toBeDefined();
  });

  it("answers an h3 source's cell extent as documented", async () => {
    const cells = await call('GET', '/v3/stats/{connection}/{table}/{column}', {
      params: { table: 'demo.places_h3', column: 'h3' },
      query: { filters: undefined, spatialDataType: 'h3' },
    });
    expectDocumented(cells, 200);
    expect(json(cells).extent.ymin).toBeLessThan(json(cells).extent.ymax);
  });
});

describe('tilesets', () => {
  const JOBS = '/v3/maps/{connection}/tileset/jobs';
  const JOB = '/v3/maps/{connection}/tileset/jobs/{jobId}';
  const exampleTileset = () => exampleBody(operationOf('POST', JOBS))!.name as string;
  const cancelledTileset = `public.docs_cancelled_${suffix}`;

  afterAll(async () => {
    for (const table of [exampleTileset(), cancelledTileset]) {
      await call('POST', '/v3/sql/{connection}/query', {
        body: { q: `DROP TABLE IF EXISTS ${table}` },
      });
    }
  });

  it('builds the example tileset and serves it as documented', async () => {
    const created = await call('POST', JOBS);
    expectDocumented(created, 201);
    expect(operationOf('POST', JOBS)['x-save']).toEqual({ tilesetJobId: 'id' });
    variables.tilesetJobId = json(created).id as string;

    let job: Answer | undefined;
    const ended = await pollUntil(async () => {
      job = await call('GET', JOB);
      return ['success', 'failure', 'cancelled'].includes(json(job).status as string);
    }, 60_000);
    expect(ended).toBe(true);
    expectDocumented(job!, 200);
    expect(json(job!).status).toBe('success');

    const instantiation = await call('GET', '/v3/maps/{connection}/tileset');
    expectDocumented(instantiation, 200);
    const tilejson = await call('POST', '/v3/maps/{connection}/tileset', {
      merge: { format: 'tilejson' },
    });
    expectDocumented(tilejson, 200);
    expect(json(tilejson)).toMatchObject({ tilejson: '3.0.0', maxzoom: 3 });

    const TILE = '/v3/maps/{connection}/tileset/{z}/{x}/{y}';
    const tile = await call('GET', TILE);
    expectDocumented(tile, 200);
    const etag = tile.headers.get('etag')!;
    expectDocumented(await call('GET', TILE, { headers: { 'If-None-Match': etag } }), 304);
    // Deeper than the tileset's last zoom.
    expectDocumented(await call('GET', TILE, { params: { z: '5', x: '15', y: '12' } }), 204);
  });

  it('cancels a job as documented', async () => {
    const created = await call('POST', JOBS, { merge: { name: cancelledTileset } });
    expectDocumented(created, 201);
    const cancelled = await call('DELETE', JOB, { params: { jobId: json(created).id } });
    if (cancelled.status === 200) expectDocumented(cancelled, 200);
    else expectDocumentedError(cancelled, 400, 'tileset_job_finished');
  });
});

describe('saved maps', () => {
  afterAll(async () => {
    if (variables.mapId) await call('DELETE', '/v3/maps/{id}');
  });

  it('saves, lists, reads, changes, shares and deletes the example map as documented', async () => {
    const created = await call('POST', '/v3/maps');
    expectDocumented(created, 201);
    expect(operationOf('POST', '/v3/maps')['x-save']).toEqual({ mapId: 'id' });
    variables.mapId = json(created).id as string;

    const listed = await call('GET', '/v3/maps', { query: { pageSize: '1000' } });
    expectDocumented(listed, 200);
    expect(json(listed).data.map((map: { id: string }) => map.id)).toContain(variables.mapId);
    expectDocumented(await call('GET', '/v3/maps/{id}'), 200);

    const changed = await call('PATCH', '/v3/maps/{id}');
    expectDocumented(changed, 200);
    expect(json(changed).title).toBe(exampleBody(operationOf('PATCH', '/v3/maps/{id}'))!.title);

    // The public route takes a token (private maps need one); a public map needs none.
    expect(operationOf('GET', '/v3/maps/public/{id}').security).toEqual([{}, { bearerAuth: [] }]);
    const shared = await call('GET', '/v3/maps/public/{id}');
    expectDocumented(shared, 200);
    const anonymous = await fetch(`${baseUrl}/v3/maps/public/${variables.mapId}`);
    expect(anonymous.status).toBe(200);
    expect(((await anonymous.json()) as { id: string }).id).toBe(variables.mapId);
    expect(json(shared).datasets[0].providerId).toBe('postgres');
    const etag = shared.headers.get('etag')!;
    const unchanged = await call('GET', '/v3/maps/public/{id}', {
      headers: { 'If-None-Match': etag },
    });
    expectDocumented(unchanged, 304);

    expectDocumented(await call('DELETE', '/v3/maps/{id}'), 204);
    expectDocumentedError(await call('GET', '/v3/maps/{id}'), 404, 'map_not_found');
    delete variables.mapId;
  });
});
