/**
 * The access matrix: every `/v3` route, called by every kind of caller, on one server with
 * two accounts. Account A owns the objects in the paths; the callers are A's own OAuth token,
 * account B's, an API access token of A whose grants cover the request and one whose grants
 * do not, no token at all, and a Viewer of A signed in through the authorization code flow.
 * A route added without a row here fails the route guard at the end.
 */
import { latLngToCell } from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToken } from './support/api.js';
import { createAccountWithCli } from './support/cli-async.js';
import { createApplication, createUser, uniqueEmail } from './support/identity.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { signInUser } from './support/user-login.js';
import { registeredRoutes } from './support/registered-routes.js';

const SUFFIX = Math.random().toString(36).slice(2, 8);
const PLACES = 'demo.populated_places';
const PLACES_H3 = 'demo.places_h3';
const TILESET = `public.matrix_tiles_${SUFFIX}`;
const STATES = 'demo.us_states';
const RASTER = 'demo.relief_raster';
const CONNECTION = `pg_matrix_${SUFFIX}`;
const SQL_QUERY = 'SELECT name, population FROM demo.populated_places WHERE population > 10000000';
const JOB_QUERY = 'SELECT count(*) AS n FROM demo.populated_places';
const MAP_QUERY = 'SELECT name, geom FROM demo.populated_places WHERE population > 5000000';
const H3_AGGREGATION = 'sum(population) AS population';
const PASSWORD = 'matrix viewer password';
const CALLBACK = 'http://127.0.0.1:9/callback';

const CALLERS = ['anonymous', 'ungranted', 'granted', 'other', 'viewer', 'owner'] as const;
type Caller = (typeof CALLERS)[number];

/** The ids of account A's objects, by the names path templates use in braces. */
type Ids = Record<string, string>;

/** A list answer (200): it names the ids under `has`, and none of those under `lacks`. */
interface ListOutcome {
  status: 200;
  has?: string[];
  /** Id names, or `'accountA'` for every id of account A. */
  lacks: string[] | 'accountA';
}

type Outcome = number | ListOutcome;

interface Row {
  /** The registered route: method and Fastify path pattern. */
  route: string;
  /** The path asked for, `{name}` standing for A's object `name`. */
  path: string;
  /** A fresh body for each call (unique names for creations). */
  body?: () => unknown;
  /**
   * What each caller must get. Left out for the Viewer where the documented roles do not say:
   * creating and cancelling SQL and tileset jobs, and testing connections.
   */
  outcomes: Partial<Record<Caller, Outcome>>;
}

const ids: Ids = {};
const tokens = {} as Record<Exclude<Caller, 'anonymous'>, string>;
let server: ServerProcess;
let counter = 0;
const unique = (prefix: string) => `${prefix}_${SUFFIX}_${(counter += 1)}`;

function query(params: Record<string, string>): string {
  return `?${new URLSearchParams(params).toString()}`;
}

const lacksA: ListOutcome = { status: 200, lacks: 'accountA' };

/** A control-plane route about one of A's objects: other accounts get 404, tokens 403. */
function control(
  route: string,
  path: string,
  owner: number,
  extra: { body?: Row['body']; viewer?: Outcome; other?: Outcome } = {},
): Row {
  const { viewer, other = 404, ...rest } = extra;
  return {
    route,
    path,
    ...rest,
    outcomes: { anonymous: 401, ungranted: 403, granted: 403, other, viewer, owner },
  };
}

/** A control-plane list: the owner's names `has`; another account's names nothing of A. */
function controlList(route: string, path: string, has: string[], viewer?: Outcome): Row {
  return {
    route,
    path,
    outcomes: {
      anonymous: 401,
      ungranted: 403,
      granted: 403,
      other: lacksA,
      viewer,
      owner: { status: 200, has, lacks: [] },
    },
  };
}

/**
 * A data-plane route: every account reads the warehouse all accounts share (`carto_dw`), an
 * API access token only what its grants cover. `outcomes` overrides single callers.
 */
function data(
  route: string,
  path: string,
  extra: { body?: Row['body']; outcomes?: Row['outcomes'] } = {},
): Row {
  return {
    route,
    path,
    ...extra,
    outcomes: {
      anonymous: 401,
      ungranted: 403,
      granted: 200,
      other: 200,
      viewer: 200,
      owner: 200,
      ...extra.outcomes,
    },
  };
}

const mapBody = (privacy = 'private') => ({
  title: unique('Matrix map'),
  privacy,
  datasets: [
    { id: 'countries', type: 'table', source: 'demo.countries', connectionName: 'carto_dw' },
  ],
  keplerMapConfig: {
    version: 'v1',
    config: {
      mapState: { latitude: 0, longitude: 0, zoom: 1 },
      mapStyle: { styleType: 'positron' },
      visState: { layers: [] },
    },
  },
});
const connectionBody = () => ({
  name: unique('pg_new'),
  provider_id: 'postgres',
  config: { host: '127.0.0.1', port: 1, database: 'x', username: 'u', password: 'not-used-1' },
});
const tilesetJobBody = () => ({
  name: `public.${unique('tiles')}`,
  table: 'demo.us_states',
  maxZoom: 0,
});

const h3Cell = latLngToCell(40.4, -3.7, 1);
const placesTable = query({ name: PLACES });
const h3Source = query({
  name: PLACES_H3,
  spatialDataType: 'h3',
  spatialDataColumn: 'h3',
  aggregationExp: H3_AGGREGATION,
});
const rasterSource = query({ name: RASTER });
/** A block of the demo raster at its coarsest resolution. */
const rasterBlock = '48462fffffffffff';
const boundarySource = query({ tilesetTableName: TILESET, propertiesTableName: STATES });
const formula = {
  type: 'table',
  source: PLACES,
  params: JSON.stringify({ column: '*', operation: 'count' }),
};

const ROWS: Row[] = [
  // SQL API: viewers have no `execute:sql`
  data('GET /v3/sql/:connection/query', `/v3/sql/carto_dw/query${query({ q: SQL_QUERY })}`, {
    outcomes: { viewer: 403 },
  }),
  data('POST /v3/sql/:connection/query', '/v3/sql/carto_dw/query', {
    body: () => ({ q: SQL_QUERY }),
    outcomes: { viewer: 403 },
  }),
  data(
    'GET /v3/sql/:connection/query',
    `/v3/sql/{connectionName}/query${query({ q: 'SELECT 1' })}`,
    {
      outcomes: { other: 404, granted: 403, viewer: 403, owner: 502 },
    },
  ),
  data('POST /v3/sql/:connection/job', '/v3/sql/carto_dw/job', {
    body: () => ({ query: JOB_QUERY }),
    outcomes: { viewer: 403 },
  }),
  data('GET /v3/sql/:connection/job/:jobId', '/v3/sql/carto_dw/job/{tokenJob}', {
    outcomes: { ungranted: 404, other: 404, viewer: 403 },
  }),
  data('GET /v3/sql/:connection/job/:jobId', '/v3/sql/carto_dw/job/{ownerJob}', {
    outcomes: { granted: 404, ungranted: 404, other: 404, viewer: 403 },
  }),
  // Both jobs have finished: cancelling answers 400 to whoever may see them.
  data('DELETE /v3/sql/:connection/job/:jobId', '/v3/sql/carto_dw/job/{tokenJob}', {
    outcomes: { granted: 400, ungranted: 404, other: 404, viewer: 403, owner: 400 },
  }),
  {
    route: 'GET /v3/sql/jobs',
    path: '/v3/sql/jobs',
    outcomes: {
      anonymous: 401,
      ungranted: { status: 200, lacks: ['tokenJob', 'ownerJob'] },
      granted: { status: 200, has: ['tokenJob'], lacks: ['ownerJob'] },
      other: lacksA,
      viewer: 403,
      owner: { status: 200, has: ['tokenJob', 'ownerJob'], lacks: [] },
    },
  },
  // Widgets and stats
  data('GET /v3/sql/:connection/model/:model', `/v3/sql/carto_dw/model/formula${query(formula)}`),
  data('POST /v3/sql/:connection/model/:model', '/v3/sql/carto_dw/model/formula', {
    body: () => formula,
  }),
  data('GET /v3/stats/:connection/:table/:column', `/v3/stats/carto_dw/${PLACES}/population`),
  data('POST /v3/stats/:connection/:table/:column', `/v3/stats/carto_dw/${PLACES}/population`, {
    body: () => ({}),
  }),
  data('GET /v3/stats/:connection/:name', `/v3/stats/carto_dw/${PLACES}`),
  data('POST /v3/stats/:connection/:name', `/v3/stats/carto_dw/${PLACES}`, { body: () => ({}) }),
  // Maps API
  data('GET /v3/maps/:connection/:type', `/v3/maps/carto_dw/table${placesTable}`),
  data('POST /v3/maps/:connection/:type', '/v3/maps/carto_dw/query', {
    body: () => ({ q: MAP_QUERY }),
  }),
  data('GET /v3/maps/:connection/:type', `/v3/maps/{connectionName}/table${placesTable}`, {
    outcomes: { other: 404, granted: 403, viewer: 502, owner: 502 },
  }),
  data('GET /v3/maps/:connection/:type/:z/:x/:y', `/v3/maps/carto_dw/table/0/0/0${placesTable}`),
  data('GET /v3/maps/:connection/:type/:index', `/v3/maps/carto_dw/table/${h3Cell}${h3Source}`),
  // Tilesets: A's tileset lives in the warehouse every account shares.
  data('GET /v3/maps/:connection/tileset', `/v3/maps/carto_dw/tileset${query({ name: TILESET })}`),
  data('POST /v3/maps/:connection/tileset', '/v3/maps/carto_dw/tileset', {
    body: () => ({ name: TILESET }),
  }),
  data(
    'GET /v3/maps/:connection/tileset/:z/:x/:y',
    `/v3/maps/carto_dw/tileset/0/0/0${query({ name: TILESET })}`,
  ),
  // Rasters: the demo raster and one of its blocks.
  data('GET /v3/maps/:connection/raster', `/v3/maps/carto_dw/raster${rasterSource}`),
  data('POST /v3/maps/:connection/raster', '/v3/maps/carto_dw/raster', {
    body: () => ({ name: RASTER }),
  }),
  data(
    'GET /v3/maps/:connection/raster/:index',
    `/v3/maps/carto_dw/raster/${rasterBlock}${rasterSource}`,
  ),
  // Boundaries: A's tileset joined with a demo table.
  data('GET /v3/maps/:connection/boundary', `/v3/maps/carto_dw/boundary${boundarySource}`),
  data('POST /v3/maps/:connection/boundary', '/v3/maps/carto_dw/boundary', {
    body: () => ({ tilesetTableName: TILESET, propertiesTableName: STATES }),
  }),
  data(
    'GET /v3/maps/:connection/boundary/:z/:x/:y',
    `/v3/maps/carto_dw/boundary/0/0/0${boundarySource}`,
  ),
  control('POST /v3/maps/:connection/tileset/jobs', '/v3/maps/carto_dw/tileset/jobs', 201, {
    body: tilesetJobBody,
    other: 201,
  }),
  control(
    'GET /v3/maps/:connection/tileset/jobs/:jobId',
    '/v3/maps/carto_dw/tileset/jobs/{tilesetJob}',
    200,
    { viewer: 200 },
  ),
  control(
    'DELETE /v3/maps/:connection/tileset/jobs/:jobId',
    '/v3/maps/carto_dw/tileset/jobs/{tilesetJob}',
    400,
  ),
  // Saved maps
  controlList('GET /v3/maps', '/v3/maps', ['privateMap', 'publicMap'], 200),
  control('POST /v3/maps', '/v3/maps', 201, { body: () => mapBody(), other: 201, viewer: 403 }),
  control('GET /v3/maps/:id', '/v3/maps/{privateMap}', 200, { viewer: 200 }),
  control('PATCH /v3/maps/:id', '/v3/maps/{privateMap}', 200, {
    body: () => ({ title: unique('Renamed map') }),
    viewer: 403,
  }),
  control('DELETE /v3/maps/:id', '/v3/maps/{doomedMap}', 204, { viewer: 403 }),
  {
    route: 'GET /v3/maps/public/:id',
    path: '/v3/maps/public/{publicMap}',
    outcomes: { anonymous: 200, ungranted: 200, granted: 200, other: 200, viewer: 200, owner: 200 },
  },
  {
    route: 'GET /v3/maps/public/:id',
    path: '/v3/maps/public/{privateMap}',
    outcomes: { anonymous: 404, ungranted: 404, granted: 404, other: 404, viewer: 200, owner: 200 },
  },
  // Connections
  controlList('GET /v3/connections', '/v3/connections', ['connection'], 200),
  control('POST /v3/connections', '/v3/connections', 201, {
    body: connectionBody,
    other: 201,
    viewer: 403,
  }),
  control('POST /v3/connections/test', '/v3/connections/test', 502, {
    body: () => ({ ...connectionBody(), name: 'unsaved' }),
    other: 502,
  }),
  control('GET /v3/connections/:id', '/v3/connections/{connection}', 200, { viewer: 200 }),
  control('GET /v3/connections/:id', '/v3/connections/{connectionName}', 200, { viewer: 200 }),
  control('PATCH /v3/connections/:id', '/v3/connections/{connection}', 200, {
    body: () => ({ config: { database: unique('db') } }),
    viewer: 403,
  }),
  control('DELETE /v3/connections/:id', '/v3/connections/{doomedConnection}', 204, {
    viewer: 403,
  }),
  control('POST /v3/connections/:id/test', '/v3/connections/{connection}/test', 502),
  // Tokens API
  controlList('GET /v3/tokens', '/v3/tokens', ['grantedToken', 'ungrantedToken'], 403),
  control('POST /v3/tokens', '/v3/tokens', 201, {
    body: () => ({
      name: unique('token'),
      grants: [{ connection_name: 'carto_dw', source: 'demo.countries' }],
      allowed_apis: ['maps'],
    }),
    other: 201,
    viewer: 403,
  }),
  control('GET /v3/tokens/:token', '/v3/tokens/{grantedToken}', 200, { viewer: 403 }),
  control('GET /v3/tokens/:token', '/v3/tokens/{grantedTokenString}', 200, { viewer: 403 }),
  control('PATCH /v3/tokens/:token', '/v3/tokens/{ungrantedToken}', 200, {
    body: () => ({ name: unique('renamed') }),
    viewer: 403,
  }),
  control('DELETE /v3/tokens/:token', '/v3/tokens/{doomedToken}', 204, { viewer: 403 }),
  // Applications API
  controlList('GET /v3/applications', '/v3/applications', ['application', 'spa'], 403),
  control('POST /v3/applications', '/v3/applications', 201, {
    body: () => ({ name: unique('App'), type: 'machine_to_machine' }),
    other: 201,
    viewer: 403,
  }),
  control('GET /v3/applications/:clientId', '/v3/applications/{application}', 200, {
    viewer: 403,
  }),
  control('PATCH /v3/applications/:clientId', '/v3/applications/{application}', 200, {
    body: () => ({ name: unique('Renamed app') }),
    viewer: 403,
  }),
  control('DELETE /v3/applications/:clientId', '/v3/applications/{doomedApplication}', 204, {
    viewer: 403,
  }),
  control('POST /v3/applications/:clientId/secret', '/v3/applications/{application}/secret', 200, {
    viewer: 403,
  }),
  // The caller, users and audit log
  {
    route: 'GET /v3/me',
    path: '/v3/me',
    outcomes: {
      anonymous: 401,
      ungranted: 403,
      granted: 403,
      other: lacksA,
      viewer: { status: 200, has: ['viewer'], lacks: ['admin'] },
      owner: { status: 200, has: ['admin', 'accountA'], lacks: [] },
    },
  },
  controlList('GET /v3/account/users', '/v3/account/users', ['user', 'viewer', 'admin'], 403),
  control('POST /v3/account/users', '/v3/account/users', 201, {
    body: () => ({ email: uniqueEmail('matrix'), role: 'editor' }),
    other: 201,
    viewer: 403,
  }),
  control('GET /v3/account/users/:userId', '/v3/account/users/{user}', 200, { viewer: 403 }),
  control('PATCH /v3/account/users/:userId', '/v3/account/users/{user}', 200, {
    body: () => ({ name: unique('Renamed user') }),
    viewer: 403,
  }),
  control('DELETE /v3/account/users/:userId', '/v3/account/users/{doomedUser}', 204, {
    viewer: 403,
  }),
  controlList('GET /v3/account/audit', '/v3/account/audit', ['application', 'user'], 403),
  controlList('GET /v3/account/invitations', '/v3/account/invitations', ['invitation'], 403),
  control('POST /v3/account/invitations', '/v3/account/invitations', 201, {
    body: () => ({ email: uniqueEmail('matrix-invitee'), role: 'viewer' }),
    other: 201,
    viewer: 403,
  }),
  control(
    'DELETE /v3/account/invitations/:invitationId',
    '/v3/account/invitations/{doomedInvitation}',
    204,
    { viewer: 403 },
  ),
  controlList(
    'GET /v3/account/tokens',
    '/v3/account/tokens',
    ['grantedToken', 'ungrantedToken'],
    403,
  ),
  control('DELETE /v3/account/tokens/:tokenId', '/v3/account/tokens/{adminDoomedToken}', 204, {
    viewer: 403,
  }),
  // The installation's accounts: A is the operator account; B's Admin is no operator.
  {
    route: 'GET /v3/accounts',
    path: '/v3/accounts',
    outcomes: {
      anonymous: 401,
      ungranted: 403,
      granted: 403,
      other: 403,
      viewer: 403,
      owner: { status: 200, has: ['accountA'], lacks: [] },
    },
  },
  control('GET /v3/accounts/:accountId', '/v3/accounts/{accountA}', 200, {
    other: 403,
    viewer: 403,
  }),
  control('POST /v3/accounts', '/v3/accounts', 201, {
    body: () => ({ name: unique('Matrix account'), admin_email: uniqueEmail('matrix-account') }),
    other: 403,
    viewer: 403,
  }),
];

interface Answer {
  status: number;
  text: string;
  body: unknown;
}

async function call(
  method: string,
  url: string,
  token: string | undefined,
  body?: unknown,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${server.baseUrl}${url}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // a tile: kept as text
  }
  return { status: response.status, text, body: parsed };
}

/** Calls as `token` and expects a 2xx, answering the JSON body. */
async function ok(token: string, method: string, url: string, body?: unknown): Promise<any> {
  const answer = await call(method, url, token, body);
  expect(answer.status, `${method} ${url}: ${answer.text}`).toBeLessThan(300);
  return answer.body;
}

function fill(template: string): string {
  return template.replace(/\{(\w+)\}/g, (_whole, name: string) => {
    const value = ids[name];
    if (value === undefined) throw new Error(`no id for {${name}}`);
    return encodeURIComponent(value);
  });
}

/** Every id of account A that another account must never see. */
function idsOfA(): string[] {
  return Object.entries(ids)
    .filter(([name]) => name !== 'connectionName')
    .map(([, value]) => value);
}

function checkOutcome(caller: Caller, label: string, outcome: Outcome, answer: Answer): void {
  const where = `${caller} → ${label}: ${answer.text.slice(0, 300)}`;
  const status = typeof outcome === 'number' ? outcome : outcome.status;
  expect.soft(answer.status, where).toBe(status);
  if (answer.status !== status) return;
  if (status === 401) {
    expect.soft(answer.body, where).toMatchObject({ error: expect.any(String), status: 401 });
  } else if (status >= 400) {
    expect.soft(answer.body, where).toMatchObject({ error: expect.any(String), status });
  }
  if (typeof outcome === 'number') return;
  for (const name of outcome.has ?? []) {
    expect.soft(answer.text, `${where} should name ${name}`).toContain(ids[name]);
  }
  const lacks = outcome.lacks === 'accountA' ? idsOfA() : outcome.lacks.map((n) => ids[n]!);
  for (const id of lacks) {
    expect.soft(answer.text, `${where} should not name ${id}`).not.toContain(id);
  }
}

/** Polls an SQL job of A until it has finished. */
async function untilFinished(url: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const job = await ok(tokens.owner, 'GET', url);
    if (!['pending', 'running'].includes(job.status as string)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not finish`);
}

beforeAll(async () => {
  server = await startServerProcess({ loadDemoData: true });
  const second = await createAccountWithCli(server.dataDir, `Matrix tenant ${SUFFIX}`);
  tokens.owner = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
  tokens.other = await fetchToken(server.baseUrl, second.clientId, second.clientSecret);
  const { baseUrl } = server;
  const owner = tokens.owner;

  const me = await ok(owner, 'GET', '/v3/me');
  ids.admin = me.id;
  ids.accountA = me.account_id;

  // Connections (never reached: port 1 refuses).
  const pg = (name: string) => ({
    name,
    provider_id: 'postgres',
    config: { host: '127.0.0.1', port: 1, database: 'x', username: 'u', password: 'unused-pw' },
  });
  const connection = await ok(owner, 'POST', '/v3/connections', pg(CONNECTION));
  ids.connection = connection.id;
  ids.connectionName = CONNECTION;
  ids.doomedConnection = (await ok(owner, 'POST', '/v3/connections', pg(`${CONNECTION}_x`))).id;

  // Applications, users and a Viewer signed in through a single-page application.
  const spa = await createApplication(baseUrl, owner, {
    name: 'Matrix SPA',
    type: 'single_page',
    callback_urls: [CALLBACK],
    web_origins: ['http://127.0.0.1:9'],
  });
  ids.spa = spa.client_id;
  const application = await createApplication(baseUrl, owner, {
    name: 'Matrix machine',
    type: 'machine_to_machine',
  });
  ids.application = application.client_id;
  const doomedApp = await createApplication(baseUrl, owner, {
    name: 'Doomed',
    type: 'machine_to_machine',
  });
  ids.doomedApplication = doomedApp.client_id;
  ids.user = (await createUser(baseUrl, owner, user('editor'))).id;
  ids.doomedUser = (await createUser(baseUrl, owner, user('editor'))).id;
  const viewer = user('viewer');
  ids.viewer = (await createUser(baseUrl, owner, viewer)).id;
  tokens.viewer = await signInUser({
    baseUrl,
    clientId: spa.client_id,
    redirectUri: CALLBACK,
    email: viewer.email,
    password: PASSWORD,
  });

  // API access tokens: one whose grants cover the matrix's data requests, one that reads
  // another table, one to delete.
  const granted = await ok(owner, 'POST', '/v3/tokens', {
    name: 'matrix granted',
    grants: [PLACES, PLACES_H3, TILESET, STATES, RASTER, SQL_QUERY, JOB_QUERY, MAP_QUERY].map(
      (source) => ({
        connection_name: 'carto_dw',
        source,
      }),
    ),
    allowed_apis: ['maps', 'sql'],
  });
  tokens.granted = granted.token;
  ids.grantedToken = granted.id;
  ids.grantedTokenString = granted.token;
  const ungranted = await ok(owner, 'POST', '/v3/tokens', {
    name: 'matrix ungranted',
    grants: [{ connection_name: 'carto_dw', source: 'demo.countries' }],
    allowed_apis: ['maps', 'sql'],
  });
  tokens.ungranted = ungranted.token;
  ids.ungrantedToken = ungranted.id;
  const doomedToken = await ok(owner, 'POST', '/v3/tokens', {
    name: 'matrix doomed',
    grants: [{ connection_name: 'carto_dw', source: 'demo.countries' }],
    allowed_apis: ['sql'],
  });
  ids.doomedToken = doomedToken.id;
  const adminDoomedToken = await ok(owner, 'POST', '/v3/tokens', {
    name: 'matrix doomed by an admin',
    grants: [{ connection_name: 'carto_dw', source: 'demo.countries' }],
    allowed_apis: ['maps'],
  });
  ids.adminDoomedToken = adminDoomedToken.id;

  // Invitations: one to list, one to revoke.
  const invite = () => ({ email: uniqueEmail('matrix-invitation'), role: 'editor' });
  ids.invitation = (await ok(owner, 'POST', '/v3/account/invitations', invite())).id;
  ids.doomedInvitation = (await ok(owner, 'POST', '/v3/account/invitations', invite())).id;

  // Saved maps.
  ids.privateMap = (await ok(owner, 'POST', '/v3/maps', mapBody())).id;
  ids.publicMap = (await ok(owner, 'POST', '/v3/maps', mapBody('public'))).id;
  ids.doomedMap = (await ok(owner, 'POST', '/v3/maps', mapBody())).id;

  // SQL jobs, one by A's OAuth token and one by the granted token, both finished.
  const sqlJob = { query: JOB_QUERY };
  ids.ownerJob = (await ok(owner, 'POST', '/v3/sql/carto_dw/job', sqlJob)).externalId;
  ids.tokenJob = (await ok(tokens.granted, 'POST', '/v3/sql/carto_dw/job', sqlJob)).externalId;
  await untilFinished(`/v3/sql/carto_dw/job/${ids.ownerJob}`);
  await untilFinished(`/v3/sql/carto_dw/job/${ids.tokenJob}`);

  // A small tileset, built through a job of A.
  const tilesetJob = await ok(owner, 'POST', '/v3/maps/carto_dw/tileset/jobs', {
    name: TILESET,
    table: 'demo.us_states',
    maxZoom: 1,
    // Binary, so it also serves as the boundaries of a boundary source.
    format: 'binary',
  });
  ids.tilesetJob = tilesetJob.id;
  await untilFinished(`/v3/maps/carto_dw/tileset/jobs/${ids.tilesetJob}`);
});

afterAll(async () => {
  await server?.stop();
});

function user(role: 'editor' | 'viewer') {
  return { email: uniqueEmail(`matrix-${role}`), name: `Matrix ${role}`, role, password: PASSWORD };
}

describe('access matrix of the /v3 routes', () => {
  it.each(ROWS.map((row) => ({ ...row, label: `${row.route.split(' ')[0]} ${row.path}` })))(
    '$label',
    async (row) => {
      const method = row.route.split(' ')[0]!;
      const url = fill(row.path);
      // The owner goes last, so deleting routes still find their object for every caller.
      for (const caller of CALLERS) {
        const outcome = row.outcomes[caller];
        if (outcome === undefined) continue;
        const token = caller === 'anonymous' ? undefined : tokens[caller];
        const answer = await call(method, url, token, row.body?.());
        checkOutcome(caller, `${method} ${url}`, outcome, answer);
      }
    },
  );
});

describe('the matrix covers every route', () => {
  it('has a row for each registered /v3 route and no row for a route that is gone', () => {
    const registered = registeredRoutes('/v3');
    expect(registered.length).toBeGreaterThan(40);
    const covered = [...new Set(ROWS.map((row) => row.route))].sort();
    expect(covered).toEqual(registered);
  });
});
