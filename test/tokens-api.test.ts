import { createPublicKey } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { vectorTableSource } from '@deck.gl/carto';
import { SignJWT, base64url, decodeJwt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeCartoBinaryTile } from '../src/test-support/carto-binary-decoder.js';
import { fetchToken, sharedServer } from './support/api.js';
import { runCli } from './support/cli.js';
import { tileUrl } from './support/tiles.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
const dataDir = inject('dataDir');
const ACCOUNT_CLAIM = 'http://app.carto.com/account_id';
const PLACES = 'demo.populated_places';
const LARGE_CITIES =
  'SELECT name, population, geom FROM demo.populated_places WHERE population > 5000000';
// Madrid and its surroundings.
const MADRID_TILE = { z: 8, x: 125, y: 96 } as const;

let oauth = '';
let accountId = '';

interface Answer {
  status: number;
  body: any;
}

async function call(
  token: string,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(url.startsWith('http') ? url : `${baseUrl}${url}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // a tile or CSV: kept as text
  }
  return { status: response.status, body: parsed };
}

interface Grant {
  connection_name: string;
  source: string;
}

/** Creates an API access token with the bootstrap application's OAuth token. */
async function createToken(
  grants: Grant[],
  allowedApis: string[],
  extra: Record<string, unknown> = {},
): Promise<{ token: string; id: string; body: any }> {
  const answer = await call(oauth, 'POST', '/v3/tokens', {
    grants,
    allowed_apis: allowedApis,
    ...extra,
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return { token: answer.body.token as string, id: answer.body.id as string, body: answer.body };
}

const dw = (source: string): Grant => ({ connection_name: 'carto_dw', source });

function readMeta(key: string): string {
  const database = new Database(path.join(dataDir, 'metadata.sqlite'), { readonly: true });
  try {
    const row = database.prepare('SELECT value FROM meta WHERE key = ?').get(key) as {
      value: string;
    };
    return row.value;
  } finally {
    database.close();
  }
}

/**
 * An OAuth token of another caller of the bootstrap account (a second Machine to Machine
 * application), signed with the server's key so it can carry fewer permissions.
 */
async function signOAuthToken(permissions: string[]): Promise<string> {
  const subject = colleagueClientId;
  const database = new Database(path.join(dataDir, 'metadata.sqlite'), { readonly: true });
  const row = database
    .prepare('SELECT kid, private_jwk FROM signing_keys WHERE retired_at IS NULL')
    .get() as { kid: string; private_jwk: string };
  database.close();
  const key = await importJWK(JSON.parse(row.private_jwk) as JWK, 'RS256');
  return new SignJWT({
    [ACCOUNT_CLAIM]: accountId,
    permissions,
    gty: 'client-credentials',
    azp: subject,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: row.kid })
    .setIssuer(`${baseUrl}/`)
    .setSubject(subject)
    .setAudience(['carto-cloud-native-api'])
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);
}

let colleagueClientId: string;

beforeAll(async () => {
  oauth = await fetchToken(baseUrl, clientId, clientSecret);
  accountId = decodeJwt(oauth)[ACCOUNT_CLAIM] as string;
  const colleague = await fetch(`${baseUrl}/v3/applications`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${oauth}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'Tokens colleague', type: 'machine_to_machine' }),
  });
  colleagueClientId = ((await colleague.json()) as { client_id: string }).client_id;
});

describe('Tokens API', () => {
  it('creates, reads, lists, updates and deletes; the string is shown only once', async () => {
    const created = await createToken([dw(PLACES)], ['maps'], { name: 'crud token' });
    expect(created.body).toMatchObject({
      name: 'crud token',
      grants: [dw(PLACES)],
      allowed_apis: ['maps'],
      referers: [],
      expiration_date: null,
    });
    expect(created.id).toMatch(/^tk_[0-9a-f]{16}$/);
    expect(created.body.created_at).toBe(created.body.updated_at);
    expect(decodeProtectedHeader(created.token).alg).toBe('HS256');
    expect(decodeJwt(created.token)).toEqual({ a: accountId, jti: created.id });

    const byId = await call(oauth, 'GET', `/v3/tokens/${created.id}`);
    const byString = await call(oauth, 'GET', `/v3/tokens/${created.token}`);
    expect(byId.status).toBe(200);
    expect(byString.body).toEqual(byId.body);
    const { token: _secret, ...withoutSecret } = created.body;
    expect(byId.body).toEqual(withoutSecret);
    const list = await call(oauth, 'GET', '/v3/tokens');
    expect(list.status).toBe(200);
    expect(list.body.data.map((t: { id: string }) => t.id)).toContain(created.id);
    expect(JSON.stringify(list.body)).not.toContain(created.token);
    expect(list.body.data.every((t: object) => !('token' in t))).toBe(true);

    const patched = await call(oauth, 'PATCH', `/v3/tokens/${created.token}`, {
      name: 'renamed',
      grants: [dw('demo.*')],
      referers: ['https://app.example.com'],
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({
      id: created.id,
      name: 'renamed',
      grants: [dw('demo.*')],
      allowed_apis: ['maps'],
      referers: ['https://app.example.com'],
    });
    expect(patched.body).not.toHaveProperty('token');

    expect((await call(oauth, 'DELETE', `/v3/tokens/${created.id}`)).status).toBe(204);
    const gone = await call(oauth, 'GET', `/v3/tokens/${created.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ error: 'Token not found', status: 404, code: 'token_not_found' });
    expect((await call(oauth, 'DELETE', `/v3/tokens/${created.id}`)).status).toBe(404);
  });

  it('names each bad field in a 400', async () => {
    const valid = { grants: [dw(PLACES)], allowed_apis: ['maps'] };
    const cases: [unknown, string][] = [
      [{ allowed_apis: ['maps'] }, 'grants'],
      [{ ...valid, grants: [] }, 'grants'],
      [{ ...valid, grants: [{ connection_name: 'carto_dw' }] }, 'grants[0].source'],
      [{ ...valid, grants: [dw('demo.pop*')] }, 'grants[0].source'],
      [{ ...valid, grants: [dw(PLACES), { connection_name: 'nope', source: '*' }] }, 'nope'],
      [{ ...valid, grants: [{ ...dw(PLACES), extra: 1 }] }, 'grants[0].extra'],
      [{ grants: valid.grants }, 'allowed_apis'],
      [{ ...valid, allowed_apis: [] }, 'allowed_apis'],
      [{ ...valid, allowed_apis: ['tiles'] }, 'allowed_apis'],
      [{ ...valid, allowed_apis: ['imports', 'sql'] }, 'allowed_apis'],
      [{ ...valid, referers: ['app.example.com'] }, 'referers[0]'],
      [{ ...valid, referers: 'https://app.example.com' }, 'referers'],
      [{ ...valid, expiration_date: '2001-01-01T00:00:00Z' }, 'expiration_date'],
      [{ ...valid, expiration_date: 'next week' }, 'expiration_date'],
      [{ ...valid, name: '' }, 'name'],
      [{ ...valid, name: 'line\nbreak' }, 'name'],
      [{ ...valid, name: 'escape\u001b[31m' }, 'name'],
      [{ ...valid, allowedApis: ['maps'] }, 'allowedApis'],
      [[valid], 'JSON object'],
    ];
    for (const [body, field] of cases) {
      const answer = await call(oauth, 'POST', '/v3/tokens', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.status).toBe(400);
      expect(answer.body.error, JSON.stringify(body)).toContain(field);
    }

    const { id } = await createToken([dw(PLACES)], ['maps']);
    const patches: [unknown, string][] = [
      [{ expiration_date: '2099-01-01T00:00:00Z' }, 'expiration_date'],
      [{}, 'expected at least one'],
      [{ allowed_apis: ['lds', 'imports'] }, 'allowed_apis'],
      [{ grants: [dw('a.b.c.d')] }, 'grants[0].source'],
      [{ name: null, referers: [] }, 'name'],
    ];
    for (const [body, field] of patches) {
      const answer = await call(oauth, 'PATCH', `/v3/tokens/${id}`, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error).toContain(field);
    }
    expect((await call(oauth, 'DELETE', `/v3/tokens/${id}`)).status).toBe(204);
  });

  it("lists only the caller's own tokens; others' and unknown ones are 404", async () => {
    const mine = await createToken([dw(PLACES)], ['maps']);
    const colleague = await signOAuthToken(['read:tokens', 'write:tokens']);
    const theirs = await call(colleague, 'POST', '/v3/tokens', {
      grants: [dw('*')],
      allowed_apis: ['sql'],
    });
    expect(theirs.status).toBe(201);

    const myList = await call(oauth, 'GET', '/v3/tokens');
    const theirList = await call(colleague, 'GET', '/v3/tokens');
    const ids = (answer: Answer) => answer.body.data.map((t: { id: string }) => t.id);
    expect(ids(myList)).toContain(mine.id);
    expect(ids(myList)).not.toContain(theirs.body.id);
    expect(ids(theirList)).toEqual([theirs.body.id]);
    for (const [method, body] of [['GET'], ['PATCH', { name: 'x' }], ['DELETE']] as const) {
      expect((await call(colleague, method, `/v3/tokens/${mine.token}`, body)).status).toBe(404);
      expect((await call(colleague, method, `/v3/tokens/${mine.id}`, body)).status).toBe(404);
    }
    expect((await call(oauth, 'GET', '/v3/tokens/tk_0000000000000000')).status).toBe(404);
    expect((await call(oauth, 'GET', '/v3/tokens/not.a.token')).status).toBe(404);

    const created = runCli(['accounts', 'create', '--name', 'Tokens tenant', '--json'], {
      dataDir,
    });
    expect(created.status, created.stderr).toBe(0);
    const second = JSON.parse(created.stdout) as { clientId: string; clientSecret: string };
    const stranger = await fetchToken(baseUrl, second.clientId, second.clientSecret);
    expect((await call(stranger, 'GET', `/v3/tokens/${mine.token}`)).status).toBe(404);
    expect((await call(stranger, 'DELETE', `/v3/tokens/${mine.id}`)).status).toBe(404);
    // The token still works: nobody else could delete it.
    expect((await call(mine.token, 'GET', `/v3/maps/carto_dw/table?name=${PLACES}`)).status).toBe(
      200,
    );
  });

  it('needs an OAuth token with read:tokens / write:tokens', async () => {
    const viewer = await signOAuthToken(['read:tokens']);
    expect((await call(viewer, 'GET', '/v3/tokens')).status).toBe(200);
    const refused = await call(viewer, 'POST', '/v3/tokens', {
      grants: [dw(PLACES)],
      allowed_apis: ['maps'],
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toContain('write:tokens');

    const { token } = await createToken([dw('*')], ['sql', 'maps']);
    const answer = await call(token, 'GET', '/v3/tokens');
    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe('forbidden');
  });

  it('refuses a deleted token at once and an expired one', async () => {
    const { token, id } = await createToken([dw(PLACES)], ['maps']);
    const url = `/v3/maps/carto_dw/table?name=${PLACES}`;
    expect((await call(token, 'GET', url)).status).toBe(200);
    expect((await call(oauth, 'DELETE', `/v3/tokens/${token}`)).status).toBe(204);
    const revoked = await call(token, 'GET', url);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error).toContain('revoked');

    const expiration = new Date(Date.now() + 3_600_000);
    const dated = await createToken([dw(PLACES)], ['maps'], {
      expiration_date: expiration.toISOString(),
    });
    expect(dated.body.expiration_date).toBe(expiration.toISOString());
    expect(decodeJwt(dated.token).exp).toBe(Math.floor(expiration.getTime() / 1000));
    expect((await call(dated.token, 'GET', url)).status).toBe(200);
    // The same token as it would be once its expiry has passed, signed with the server's key.
    const key = Buffer.from(readMeta('api_token_hmac_key'), 'base64');
    const expired = await new SignJWT({ a: accountId, jti: dated.id })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(key);
    const answer = await call(expired, 'GET', url);
    expect(answer.status).toBe(401);
    expect(answer.body.error).toContain('expired');
    expect(id).not.toBe(dated.id);
  });

  it('refuses tampered, unsigned and key-confusion tokens with 401', async () => {
    const { token } = await createToken([dw('*')], ['maps', 'sql']);
    const url = `/v3/maps/carto_dw/table?name=${PLACES}`;
    expect((await call(token, 'GET', url)).status).toBe(200);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = decodeJwt(token);

    const edited = base64url.encode(JSON.stringify({ ...claims, a: 'ac_someone_else' }));
    const unsigned = [
      base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' })),
      payload,
      '',
    ].join('.');
    const jwks = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as {
      keys: JWK[];
    };
    const publicPem = createPublicKey({ key: jwks.keys[0] as never, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    const confused = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(String(publicPem)));
    const forgedWithOwnKey = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('a guessed secret of thirty-two bytes!'));

    for (const bad of [
      `${header}.${edited}.${signature}`,
      unsigned,
      confused,
      forgedWithOwnKey,
      `${header}.${payload}.${signature.slice(0, -4)}AAAA`,
    ]) {
      const answer = await call(bad, 'GET', url);
      expect(answer.status, bad).toBe(401);
      expect(answer.body.status).toBe(401);
    }
  });
});

describe('API access token enforcement', () => {
  async function tileOf(token: string, template: string): Promise<number> {
    const { z, x, y } = MADRID_TILE;
    const response = await fetch(tileUrl(template, z, x, y), {
      headers: { Authorization: `Bearer ${token}` },
    });
    await response.arrayBuffer();
    return response.status;
  }

  it('lets a table grant reach its table and tiles, and nothing else', async () => {
    const { token } = await createToken([dw(PLACES)], ['maps']);
    for (const spelling of [PLACES, 'DEMO.Populated_Places', '"demo"."populated_places"']) {
      const source = await call(token, 'GET', `/v3/maps/carto_dw/table?name=${spelling}`);
      expect(source.status, spelling).toBe(200);
    }
    const tilejson = await call(
      token,
      'GET',
      `/v3/maps/carto_dw/table?name=${PLACES}&format=tilejson&formatTiles=mvt`,
    );
    expect(tilejson.status).toBe(200);
    expect(await tileOf(token, tilejson.body.tiles[0])).toBe(200);

    const other = await call(token, 'GET', '/v3/maps/carto_dw/table?name=demo.countries');
    expect(other.status).toBe(403);
    expect(other.body).toEqual({
      error: "The token has no grant for table 'demo.countries' on connection 'carto_dw'",
      status: 403,
      code: 'forbidden',
    });
    const otherTile = tilejson.body.tiles[0].replace(
      `name=${encodeURIComponent(PLACES)}`,
      'name=demo.countries',
    );
    expect(otherTile).not.toBe(tilejson.body.tiles[0]);
    expect(await tileOf(token, otherTile)).toBe(403);
    const query = await call(token, 'GET', `/v3/maps/carto_dw/query?q=SELECT * FROM ${PLACES}`);
    expect(query.status).toBe(403);
    const subquery = await call(
      token,
      'GET',
      `/v3/maps/carto_dw/table?name=${PLACES}&aggregationExp=` +
        encodeURIComponent('(SELECT max(name) FROM demo.countries) AS leak'),
    );
    expect(subquery.status).toBe(403);
    expect(subquery.body.error).toContain('aggregationExp');
  });

  it('lets a schema wildcard grant reach every table of the schema only', async () => {
    const { token } = await createToken([dw('demo.*')], ['maps']);
    for (const name of ['demo.countries', 'demo.us_states']) {
      expect((await call(token, 'GET', `/v3/maps/carto_dw/table?name=${name}`)).status).toBe(200);
    }
    const outside = await call(token, 'GET', '/v3/maps/carto_dw/table?name=public.spatial_ref_sys');
    expect(outside.status).toBe(403);
  });

  it('matches query grants by exact text, and the SQL API needs sql', async () => {
    const both = await createToken([dw(`${LARGE_CITIES};`)], ['maps', 'sql']);
    const mapsOnly = await createToken([dw(LARGE_CITIES)], ['maps']);
    const q = encodeURIComponent(LARGE_CITIES);
    expect((await call(both.token, 'GET', `/v3/maps/carto_dw/query?q=${q}`)).status).toBe(200);
    expect((await call(mapsOnly.token, 'GET', `/v3/maps/carto_dw/query?q=${q}%20`)).status).toBe(
      200,
    );
    const lower = encodeURIComponent(LARGE_CITIES.toLowerCase());
    expect((await call(both.token, 'GET', `/v3/maps/carto_dw/query?q=${lower}`)).status).toBe(403);

    const sql = await call(both.token, 'POST', '/v3/sql/carto_dw/query', { q: LARGE_CITIES });
    expect(sql.status, JSON.stringify(sql.body)).toBe(200);
    expect(sql.body.rows.length).toBeGreaterThan(5);
    const otherSql = await call(both.token, 'GET', '/v3/sql/carto_dw/query?q=SELECT%201');
    expect(otherSql.status).toBe(403);
    const noSql = await call(mapsOnly.token, 'POST', '/v3/sql/carto_dw/query', {
      q: LARGE_CITIES,
    });
    expect(noSql.status).toBe(403);
    expect(noSql.body.error).toContain("'sql'");
  });

  it('serves widget models and stats to a maps token on its granted source', async () => {
    const { token } = await createToken([dw(PLACES)], ['maps']);
    const params = encodeURIComponent(JSON.stringify({ operation: 'count' }));
    const model = (source: string) =>
      `/v3/sql/carto_dw/model/formula?type=table&source=${source}&params=${params}`;
    const formula = await call(token, 'GET', model(PLACES));
    expect(formula.status, JSON.stringify(formula.body)).toBe(200);
    expect(formula.body.rows[0].value).toBeGreaterThan(130_000);
    expect((await call(token, 'GET', model('demo.countries'))).status).toBe(403);
    const custom = encodeURIComponent(
      JSON.stringify({
        operation: 'custom',
        operationExp: '(SELECT count(*) FROM demo.countries)',
      }),
    );
    const leak = await call(
      token,
      'GET',
      `/v3/sql/carto_dw/model/formula?type=table&source=${PLACES}&params=${custom}`,
    );
    expect(leak.status).toBe(403);
    expect(leak.body.error).toContain('params.operationExp');

    const stats = await call(token, 'GET', `/v3/stats/carto_dw/${PLACES}/population`);
    expect(stats.status, JSON.stringify(stats.body)).toBe(200);
    expect(stats.body.attribute).toBe('population');
    expect((await call(token, 'GET', '/v3/stats/carto_dw/demo.countries/name')).status).toBe(403);

    const sqlOnly = await createToken([dw(PLACES)], ['sql']);
    expect((await call(sqlOnly.token, 'GET', model(PLACES))).status).toBe(200);
    expect(
      (await call(sqlOnly.token, 'GET', `/v3/maps/carto_dw/table?name=${PLACES}`)).status,
    ).toBe(403);
  });

  it('checks Origin and Referer against the referers', async () => {
    const { token } = await createToken([dw(PLACES)], ['maps'], {
      referers: ['https://app.example.com', 'https://example.org/maps/'],
    });
    const url = `/v3/maps/carto_dw/table?name=${PLACES}`;
    const missing = await call(token, 'GET', url);
    expect(missing.status).toBe(403);
    expect(missing.body.error).toContain('no Origin or Referer');
    const allowed: Record<string, string>[] = [
      { Origin: 'https://app.example.com' },
      { Referer: 'https://app.example.com/some/page.html' },
      { Referer: 'https://example.org/maps/world.html' },
    ];
    for (const headers of allowed) {
      expect((await call(token, 'GET', url, undefined, headers)).status).toBe(200);
    }
    const refused: Record<string, string>[] = [
      { Origin: 'https://evil.example.net' },
      { Referer: 'https://example.org/admin/' },
      { Referer: 'http://app.example.com/' },
    ];
    for (const headers of refused) {
      const answer = await call(token, 'GET', url, undefined, headers);
      expect(answer.status, JSON.stringify(headers)).toBe(403);
      expect(answer.body.error).toContain('Origin or Referer');
    }
  });

  it('refuses the control plane to API access tokens', async () => {
    const { token } = await createToken([dw('*')], ['maps', 'sql']);
    const routes: [string, string, unknown?][] = [
      ['GET', '/v3/connections'],
      ['GET', '/v3/connections/carto_dw'],
      ['POST', '/v3/tokens', { grants: [dw('*')], allowed_apis: ['sql'] }],
      ['GET', '/v3/tokens'],
      ['GET', '/v3/maps'],
      ['POST', '/v3/maps', { title: 'x' }],
      ['GET', '/v3/maps/00000000-0000-0000-0000-000000000000'],
      ['POST', '/v3/maps/carto_dw/tileset/jobs', { name: 'demo.x' }],
    ];
    for (const [method, url, body] of routes) {
      const answer = await call(token, method, url, body);
      expect(answer.status, `${method} ${url}`).toBe(403);
      expect(answer.body).toEqual({
        error: 'This API needs an OAuth access token, not an API access token',
        status: 403,
        code: 'forbidden',
      });
    }
    // fetchMap's route answers an API access token as a request without a token.
    const unknownMap = '/v3/maps/public/00000000-0000-0000-0000-000000000000';
    const anonymous = await fetch(`${baseUrl}${unknownMap}`);
    const withToken = await call(token, 'GET', unknownMap);
    expect(withToken.status).toBe(anonymous.status);
    expect(withToken.status).not.toBe(403);
  });

  it("lists and reads only the token's own SQL jobs", async () => {
    const query = 'SELECT count(*) FROM demo.us_states';
    const { token } = await createToken([dw(query)], ['sql']);
    const created = await call(token, 'POST', '/v3/sql/carto_dw/job', { query });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const refused = await call(token, 'POST', '/v3/sql/carto_dw/job', { query: 'SELECT 2' });
    expect(refused.status).toBe(403);
    const byOauth = await call(oauth, 'POST', '/v3/sql/carto_dw/job', { query: 'SELECT 3' });
    expect(byOauth.status).toBe(200);

    const list = await call(token, 'GET', '/v3/sql/jobs');
    expect(list.status).toBe(200);
    expect(list.body.data.map((job: { externalId: string }) => job.externalId)).toEqual([
      created.body.externalId,
    ]);
    expect(list.body.meta.total).toBe(1);
    const own = await call(token, 'GET', `/v3/sql/carto_dw/job/${created.body.externalId}`);
    expect(own.status).toBe(200);
    const foreign = await call(token, 'GET', `/v3/sql/carto_dw/job/${byOauth.body.externalId}`);
    expect(foreign.status).toBe(404);

    const mapsToken = await createToken([dw('*')], ['maps']);
    expect((await call(mapsToken.token, 'GET', '/v3/sql/jobs')).status).toBe(403);
  });

  it("drives @deck.gl/carto's vectorTableSource with an API access token", async () => {
    const { token } = await createToken([dw(PLACES)], ['maps']);
    const source = await vectorTableSource({
      apiBaseUrl: baseUrl,
      accessToken: token,
      connectionName: 'carto_dw',
      tableName: PLACES,
      columns: ['name', 'population'],
    });
    expect(source.tilestats.layers[0]!.count).toBeGreaterThan(130_000);
    const { z, x, y } = MADRID_TILE;
    const response = await fetch(tileUrl(source.tiles[0]!, z, x, y), {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    const tile = decodeCartoBinaryTile(new Uint8Array(await response.arrayBuffer()));
    expect(tile.points.properties.some((p) => p.name === 'Madrid')).toBe(true);

    await expect(
      vectorTableSource({
        apiBaseUrl: baseUrl,
        accessToken: token,
        connectionName: 'carto_dw',
        tableName: 'demo.countries',
      }),
    ).rejects.toThrow(/no grant/);
  });
});
