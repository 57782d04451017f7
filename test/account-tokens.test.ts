/**
 * Admins see and revoke every API access token of their account (`/v3/account/tokens`),
 * whoever created it; public maps' tokens are listed and left to their maps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../src/accounts/accounts.js';
import { openStore } from '../src/store/store.js';
import { fetchToken } from './support/api.js';
import { runCliAsync } from './support/cli-async.js';
import { callApi, createApplication, createUser, uniqueEmail } from './support/identity.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { signInUser } from './support/user-login.js';

const CALLBACK = 'http://127.0.0.1:9/callback';
const PASSWORD = 'an editor password';
const POINT_QUERY = 'SELECT ST_Point(0, 0, 4326) AS geom';
const POINT_SOURCE = `/v3/maps/carto_dw/query?q=${encodeURIComponent(POINT_QUERY)}`;

interface CreatedToken {
  id: string;
  token: string;
  name: string;
}

let server: ServerProcess;
let adminToken = '';
let editorToken = '';
let editorEmail = '';
let otherToken = '';
let publicMapId = '';

const call = (token: string, method: string, route: string, body?: unknown) =>
  callApi(server.baseUrl, token, method, route, body);

async function createToken(token: string, name: string): Promise<CreatedToken> {
  const created = await call(token, 'POST', '/v3/tokens', {
    name,
    grants: [{ connection_name: 'carto_dw', source: POINT_QUERY }],
    allowed_apis: ['maps'],
    referers: ['https://maps.example.com'],
    expiration_date: '2040-01-01T00:00:00Z',
  });
  expect(created.status, created.text).toBe(201);
  return created.body as CreatedToken;
}

/** Reads a granted source with an API access token, from its allowed page. */
async function readWith(token: string): Promise<number> {
  const response = await fetch(`${server.baseUrl}${POINT_SOURCE}`, {
    headers: { Authorization: `Bearer ${token}`, Origin: 'https://maps.example.com' },
  });
  await response.arrayBuffer();
  return response.status;
}

beforeAll(async () => {
  server = await startServerProcess({ loadDemoData: false });
  const { baseUrl } = server;
  adminToken = await fetchToken(baseUrl, server.clientId, server.clientSecret);

  // An Editor signed in through a single-page application: its tokens' creator is a user.
  editorEmail = uniqueEmail('token-editor');
  await createUser(baseUrl, adminToken, {
    email: editorEmail,
    name: 'Token Editor',
    role: 'editor',
    password: PASSWORD,
  });
  const spa = await createApplication(baseUrl, adminToken, {
    name: 'Account tokens SPA',
    type: 'single_page',
    callback_urls: [CALLBACK],
    web_origins: ['http://127.0.0.1:9'],
  });
  editorToken = await signInUser({
    baseUrl,
    clientId: spa.client_id,
    redirectUri: CALLBACK,
    email: editorEmail,
    password: PASSWORD,
  });

  const store = await openStore(server.dataDir);
  try {
    const other = await createAccount(store, { name: 'Other tenant' });
    otherToken = await fetchToken(baseUrl, other.clientId, other.clientSecret);
  } finally {
    await store.destroy();
  }

  const map = await call(adminToken, 'POST', '/v3/maps', {
    title: 'Public point',
    privacy: 'public',
    datasets: [{ id: 'point', type: 'query', source: POINT_QUERY, connectionName: 'carto_dw' }],
    keplerMapConfig: {
      version: 'v1',
      config: {
        mapState: { latitude: 0, longitude: 0, zoom: 1 },
        mapStyle: { styleType: 'positron' },
        visState: { layers: [] },
      },
    },
  });
  expect(map.status, map.text).toBe(201);
  publicMapId = map.body.id;
  const opened = await call('', 'GET', `/v3/maps/public/${publicMapId}`);
  expect(opened.status, opened.text).toBe(200);
});

afterAll(async () => {
  await server?.stop();
});

describe('GET /v3/account/tokens', () => {
  it('lists every token of the account with its creator, never a token string', async () => {
    const mine = await createToken(adminToken, 'admin made');
    const editors = await createToken(editorToken, 'editor made');
    const theirs = await createToken(otherToken, 'other account made');

    const list = await call(adminToken, 'GET', '/v3/account/tokens');

    expect(list.status, list.text).toBe(200);
    expect(list.body.meta.total).toBe(list.body.data.length);
    const byId = new Map(list.body.data.map((token: { id: string }) => [token.id, token]));
    expect(byId.get(mine.id)).toEqual({
      id: mine.id,
      name: 'admin made',
      grants: [{ connection_name: 'carto_dw', source: POINT_QUERY }],
      allowed_apis: ['maps'],
      referers: ['https://maps.example.com'],
      expiration_date: '2040-01-01T00:00:00.000Z',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      created_by: server.clientId,
      creator_kind: 'application',
      creator_email: 'admin@graticule.local',
    });
    expect(byId.get(editors.id)).toMatchObject({
      created_by: expect.stringMatching(/^us_/),
      creator_kind: 'user',
      creator_email: editorEmail,
    });
    const mapTokens = list.body.data.filter(
      (token: { creator_kind: string }) => token.creator_kind === 'public_map',
    );
    expect(mapTokens).toEqual([
      expect.objectContaining({ created_by: '', allowed_apis: ['maps'] }),
    ]);
    expect(byId.has(theirs.id)).toBe(false);
    for (const token of [mine, editors, theirs]) expect(list.text).not.toContain(token.token);

    // The editor's own list is unchanged: only what they created.
    const own = await call(editorToken, 'GET', '/v3/tokens');
    expect(own.body.data.map((token: { id: string }) => token.id)).toEqual([editors.id]);
  });

  it('is for admins only', async () => {
    const granted = await createToken(adminToken, 'api token caller');
    const refused = await call(editorToken, 'GET', '/v3/account/tokens');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ status: 403, code: 'forbidden' });
    expect((await call(granted.token, 'GET', '/v3/account/tokens')).status).toBe(403);
    expect((await call('', 'GET', '/v3/account/tokens')).status).toBe(401);
    const other = await call(otherToken, 'GET', '/v3/account/tokens');
    expect(other.body.data.map((token: { name: string }) => token.name)).toEqual([
      'other account made',
    ]);
  });
});

describe('DELETE /v3/account/tokens/{tokenId}', () => {
  it("revokes a user's token at once, audited; other accounts' ids answer 404", async () => {
    const editors = await createToken(editorToken, 'doomed by admin');
    expect(await readWith(editors.token)).toBe(200);

    expect((await call(otherToken, 'DELETE', `/v3/account/tokens/${editors.id}`)).status).toBe(404);
    expect((await call(editorToken, 'DELETE', `/v3/account/tokens/${editors.id}`)).status).toBe(
      403,
    );
    const revoked = await call(adminToken, 'DELETE', `/v3/account/tokens/${editors.id}`);

    expect(revoked.status, revoked.text).toBe(204);
    expect(await readWith(editors.token)).toBe(401);
    expect((await call(editorToken, 'GET', `/v3/tokens/${editors.id}`)).status).toBe(404);
    const again = await call(adminToken, 'DELETE', `/v3/account/tokens/${editors.id}`);
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ code: 'token_not_found' });
    const audit = await call(adminToken, 'GET', '/v3/account/audit?event=token.revoked&limit=1');
    expect(audit.body.data[0]).toMatchObject({
      actor: server.clientId,
      target: editors.id,
      details: {
        name: 'doomed by admin',
        by_admin: true,
        created_by: expect.stringMatching(/^us_/),
      },
    });
  });

  it("leaves a public map's token to its map (409)", async () => {
    const list = await call(adminToken, 'GET', '/v3/account/tokens');
    const mapToken = list.body.data.find(
      (token: { creator_kind: string }) => token.creator_kind === 'public_map',
    );

    const refused = await call(adminToken, 'DELETE', `/v3/account/tokens/${mapToken.id}`);

    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ status: 409, code: 'token_managed_by_map' });
    const map = await call('', 'GET', `/v3/maps/public/${publicMapId}`);
    expect(map.status).toBe(200);
    const after = await call(adminToken, 'GET', '/v3/account/tokens');
    expect(after.text).toContain(mapToken.id);
  });
});

describe('graticule tokens list --all and delete --all', () => {
  it('lists and revokes any token of the account from the command line', async () => {
    const editors = await createToken(editorToken, 'cli doomed');
    const cli = (args: string[]) =>
      runCliAsync([...args, '--url', server.baseUrl, '--token', adminToken], {
        dataDir: server.dataDir,
      });

    const listed = await cli(['tokens', 'list', '--all', '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toContainEqual(
      expect.objectContaining({ id: editors.id, creator_email: editorEmail }),
    );
    const table = await cli(['tokens', 'list', '--all']);
    expect(table.stdout).toMatch(
      new RegExp(`${editors.id}\\s+cli doomed\\s+maps\\s+${editorEmail}`),
    );
    expect(table.stdout).toContain('(public map)');

    const deleted = await cli(['tokens', 'delete', 'cli doomed', '--all']);
    expect(deleted.status, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain(`Token ${editors.id} (cli doomed) deleted.`);
    expect(await readWith(editors.token)).toBe(401);
    const own = await cli(['tokens', 'list', '--json']);
    expect(JSON.parse(own.stdout).map((token: { id: string }) => token.id)).not.toContain(
      editors.id,
    );
  });
});
