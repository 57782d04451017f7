/**
 * Roles on the data and connection routes: a Viewer reads connections and saved maps and views
 * map sources, but creates and deletes nothing and runs no SQL; an Editor does all of it; an API
 * access token is held by its grants only. Each caller's token is a Machine to Machine
 * application's, owned by a user of that role, so it carries that role's permissions.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToken } from './support/api.js';
import { runCliAsync } from './support/cli-async.js';
import { createUser, uniqueEmail } from './support/identity.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

interface Reply {
  status: number;
  body: any;
}

const MAP_SOURCE = 'SELECT ST_MakePoint(0,0) AS geom';
const GRANTED_QUERY = 'SELECT 42 AS answer';

let server: ServerProcess;
const tokens = { admin: '', editor: '', viewer: '' };
/** A connection the Viewer tries to delete; it must survive. */
let keptConnectionId = '';
let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${(counter += 1)}`;

async function call(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  raw?: string,
): Promise<Reply> {
  const hasBody = body !== undefined || raw !== undefined;
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(hasBody ? { 'Content-Type': 'application/json' } : {}),
    },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

interface MachineApp {
  client_id: string;
  client_secret: string;
}

/** A Machine to Machine application owned by `email`, made with the command line. */
async function createMachineApp(email: string): Promise<MachineApp> {
  const args = ['apps', 'create', '--name', `Acts for ${email}`, '--type', 'machine_to_machine'];
  const run = await runCliAsync([...args, '--owner', email, '--json'], {
    dataDir: server.dataDir,
  });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as MachineApp;
}

const tokenOf = (app: MachineApp) => fetchToken(server.baseUrl, app.client_id, app.client_secret);

const connectionBody = () => ({
  name: unique('pg_roles'),
  provider_id: 'postgres',
  config: { host: '127.0.0.1', port: 1, database: 'x', username: 'u', password: 'not-used-1' },
});

const mapBody = () => ({
  title: unique('Roles map'),
  privacy: 'private',
  datasets: [{ id: 'points', type: 'query', source: MAP_SOURCE, connectionName: 'carto_dw' }],
  keplerMapConfig: {
    version: 'v1',
    config: {
      mapState: { latitude: 0, longitude: 0, zoom: 1 },
      mapStyle: { styleType: 'positron' },
      visState: { layers: [] },
    },
  },
});

function expectForbidden(reply: Reply, permission: string): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(403);
  expect(reply.body).toEqual({
    error: `The token lacks the '${permission}' permission`,
    status: 403,
    code: 'forbidden',
  });
}

beforeAll(async () => {
  server = await startServerProcess({ loadDemoData: false });
  tokens.admin = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
  const password = 'roles test password';
  const editor = await createUser(server.baseUrl, tokens.admin, {
    email: uniqueEmail('editor'),
    name: 'Editor',
    role: 'editor',
    password,
  });
  // Viewers own no applications, so the Viewer's is made while it is an Editor; a token issued
  // after the demotion carries the permissions of the role the owner has then.
  const viewer = await createUser(server.baseUrl, tokens.admin, {
    email: uniqueEmail('viewer'),
    name: 'Viewer',
    role: 'editor',
    password,
  });
  tokens.editor = await tokenOf(await createMachineApp(editor.email));
  const viewerApp = await createMachineApp(viewer.email);
  const demoted = await call(tokens.admin, 'PATCH', `/v3/account/users/${viewer.id}`, {
    role: 'viewer',
  });
  expect(demoted.status, JSON.stringify(demoted.body)).toBe(200);
  tokens.viewer = await tokenOf(viewerApp);

  const kept = await call(tokens.admin, 'POST', '/v3/connections', connectionBody());
  expect(kept.status, JSON.stringify(kept.body)).toBe(201);
  keptConnectionId = kept.body.id as string;
}, 300_000);

afterAll(async () => {
  await server?.stop();
});

describe('role permissions on data and connection routes', () => {
  it("issues each caller the permissions of its owner's role", async () => {
    const viewer = decodeJwt(tokens.viewer).permissions as string[];
    expect(viewer).toContain('read:maps');
    expect(viewer).not.toContain('execute:sql');
    expect(viewer).not.toContain('write:connections');
    const editor = decodeJwt(tokens.editor).permissions as string[];
    expect(editor).toEqual(
      expect.arrayContaining(['execute:sql', 'write:connections', 'write:maps']),
    );
    expect(editor).not.toContain('admin:account');
    expect(decodeJwt(tokens.admin).permissions).toContain('execute:sql');
  });

  it('lets a Viewer list connections and saved maps and instantiate a query source', async () => {
    const connections = await call(tokens.viewer, 'GET', '/v3/connections');
    expect(connections.status).toBe(200);
    const ids = connections.body.data.map((c: { id: string }) => c.id);
    expect(ids).toContain(keptConnectionId);
    expect((await call(tokens.viewer, 'GET', `/v3/connections/${keptConnectionId}`)).status).toBe(
      200,
    );
    const maps = await call(tokens.viewer, 'GET', '/v3/maps');
    expect(maps.status, JSON.stringify(maps.body)).toBe(200);

    const q = encodeURIComponent(MAP_SOURCE);
    const source = await call(tokens.viewer, 'GET', `/v3/maps/carto_dw/query?q=${q}`);
    expect(source.status, JSON.stringify(source.body)).toBe(200);
    expect(source.body.tilejson.url[0]).toContain('/v3/maps/carto_dw/query?');
  });

  it("refuses a Viewer's writes, SQL queries and jobs with 403", async () => {
    const v = tokens.viewer;
    expectForbidden(
      await call(v, 'POST', '/v3/connections', connectionBody()),
      'write:connections',
    );
    expectForbidden(
      await call(v, 'DELETE', `/v3/connections/${keptConnectionId}`),
      'write:connections',
    );
    expectForbidden(await call(v, 'POST', '/v3/maps', mapBody()), 'write:maps');
    expectForbidden(
      await call(v, 'POST', '/v3/sql/carto_dw/query', { q: 'SELECT 1' }),
      'execute:sql',
    );
    expectForbidden(await call(v, 'GET', '/v3/sql/carto_dw/query?q=SELECT%201'), 'execute:sql');
    expectForbidden(
      await call(v, 'POST', '/v3/sql/carto_dw/job', { query: 'SELECT 1' }),
      'execute:sql',
    );
    expectForbidden(await call(v, 'GET', '/v3/sql/jobs'), 'execute:sql');
    expectForbidden(
      await call(v, 'POST', '/v3/maps/carto_dw/tileset/jobs', { name: 'public.t', table: 'x' }),
      'write:maps',
    );

    // Nothing was changed: the connection is still there, and no map was saved.
    const kept = await call(tokens.admin, 'GET', `/v3/connections/${keptConnectionId}`);
    expect(kept.status).toBe(200);
    const maps = await call(tokens.admin, 'GET', '/v3/maps');
    expect(JSON.stringify(maps.body)).not.toContain('Roles map');
  });

  it("answers a Viewer's bad or malformed body with the 403, not a 400", async () => {
    const v = tokens.viewer;
    expectForbidden(await call(v, 'POST', '/v3/connections', {}), 'write:connections');
    expectForbidden(await call(v, 'POST', '/v3/maps', undefined, '{"title": '), 'write:maps');
    expectForbidden(await call(v, 'POST', '/v3/sql/carto_dw/job', {}), 'execute:sql');
    expectForbidden(await call(v, 'POST', '/v3/sql/carto_dw/query', { nope: 1 }), 'execute:sql');
    // The same bodies from an Editor pass the role check and fail validation.
    const e = tokens.editor;
    expect((await call(e, 'POST', '/v3/connections', {})).status).toBe(400);
    expect((await call(e, 'POST', '/v3/maps', undefined, '{"title": ')).status).toBe(400);
    expect((await call(e, 'POST', '/v3/sql/carto_dw/job', {})).status).toBe(400);
    expect((await call(e, 'POST', '/v3/maps/carto_dw/tileset/jobs', {})).status).toBe(400);
  });

  it('lets an Editor create and delete connections and maps and run SQL and jobs', async () => {
    const e = tokens.editor;
    const created = await call(e, 'POST', '/v3/connections', connectionBody());
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await call(e, 'GET', '/v3/connections')).status).toBe(200);
    expect((await call(e, 'DELETE', `/v3/connections/${created.body.id}`)).status).toBe(204);

    const map = await call(e, 'POST', '/v3/maps', mapBody());
    expect(map.status, JSON.stringify(map.body)).toBe(201);
    expect((await call(e, 'GET', '/v3/maps')).body.data.map((m: any) => m.id)).toContain(
      map.body.id,
    );

    const sql = await call(e, 'POST', '/v3/sql/carto_dw/query', { q: 'SELECT 1 AS one' });
    expect(sql.status, JSON.stringify(sql.body)).toBe(200);
    expect(sql.body.rows).toEqual([{ one: 1 }]);
    const job = await call(e, 'POST', '/v3/sql/carto_dw/job', { query: 'SELECT 1' });
    expect(job.status, JSON.stringify(job.body)).toBe(200);
    expect(job.body.query).toBe('SELECT 1');
    const read = await call(e, 'GET', `/v3/sql/carto_dw/job/${job.body.externalId}`);
    expect(read.status).toBe(200);
    const list = await call(e, 'GET', '/v3/sql/jobs');
    expect(list.status).toBe(200);
    expect(list.body.data.map((j: any) => j.externalId)).toContain(job.body.externalId);

    const q = encodeURIComponent(MAP_SOURCE);
    expect((await call(e, 'GET', `/v3/maps/carto_dw/query?q=${q}`)).status).toBe(200);
  });

  it("keeps a job to its creator and the account's admins", async () => {
    const ownJob = await call(tokens.editor, 'POST', '/v3/sql/carto_dw/job', { query: 'SELECT 2' });
    const adminJob = await call(tokens.admin, 'POST', '/v3/sql/carto_dw/job', {
      query: 'SELECT 3',
    });
    const adminId = adminJob.body.externalId as string;
    for (const method of ['GET', 'DELETE'] as const) {
      const reply = await call(tokens.editor, method, `/v3/sql/carto_dw/job/${adminId}`);
      expect(reply.status, `${method} ${JSON.stringify(reply.body)}`).toBe(404);
    }
    const editorList = await call(tokens.editor, 'GET', '/v3/sql/jobs');
    const editorIds = editorList.body.data.map((j: any) => j.externalId);
    expect(editorIds).toContain(ownJob.body.externalId);
    expect(editorIds).not.toContain(adminId);

    const byAdmin = await call(
      tokens.admin,
      'GET',
      `/v3/sql/carto_dw/job/${ownJob.body.externalId}`,
    );
    expect(byAdmin.status).toBe(200);
    const adminList = await call(tokens.admin, 'GET', '/v3/sql/jobs');
    expect(adminList.body.data.map((j: any) => j.externalId)).toEqual(
      expect.arrayContaining([ownJob.body.externalId, adminId]),
    );
  });

  it('lets an API access token run the query its sql grant covers, and only that', async () => {
    const created = await call(tokens.admin, 'POST', '/v3/tokens', {
      grants: [{ connection_name: 'carto_dw', source: GRANTED_QUERY }],
      allowed_apis: ['sql'],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const token = created.body.token as string;

    const granted = await call(token, 'POST', '/v3/sql/carto_dw/query', { q: GRANTED_QUERY });
    expect(granted.status, JSON.stringify(granted.body)).toBe(200);
    expect(granted.body.rows).toEqual([{ answer: 42 }]);
    const job = await call(token, 'POST', '/v3/sql/carto_dw/job', { query: GRANTED_QUERY });
    expect(job.status, JSON.stringify(job.body)).toBe(200);
    expect((await call(token, 'GET', '/v3/sql/jobs')).status).toBe(200);

    const other = await call(token, 'POST', '/v3/sql/carto_dw/query', { q: 'SELECT 1' });
    expect(other.status).toBe(403);
    expect(other.body.error).toMatch(/no grant/);
    const control = await call(token, 'GET', '/v3/connections');
    expect(control.status).toBe(403);
    expect(control.body.error).toMatch(/OAuth access token/);
  });
});
