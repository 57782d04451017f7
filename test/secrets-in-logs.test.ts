/**
 * No credential reaches the log: a server logging at `debug` is taken through every path a
 * secret travels (the token endpoint with right and wrong secrets, applications and their
 * secret rotation, users' passwords and sign-in, API access tokens in headers, paths and query
 * strings, connection passwords), then everything it printed is searched for each of them.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, createUser, uniqueEmail } from './support/identity.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { signInUser } from './support/user-login.js';

const CALLBACK = 'http://127.0.0.1:9/callback';

let server: ServerProcess;
/** Every secret, token and password sent or received. */
const secrets = new Set<string>();
let oauth = '';

function remember(secret: string): string {
  secrets.add(secret);
  return secret;
}

interface Answer {
  status: number;
  body: any;
}

async function call(
  method: string,
  url: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${server.baseUrl}${url}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body };
}

/** A client-credentials token request, the secret in the form body or in HTTP Basic. */
async function tokenRequest(clientId: string, secret: string, how: 'post' | 'basic' | 'json') {
  const form = { grant_type: 'client_credentials', audience: 'carto-cloud-native-api' };
  const init: RequestInit & { headers: Record<string, string> } = { method: 'POST', headers: {} };
  if (how === 'basic') {
    const basic = Buffer.from(`${clientId}:${secret}`).toString('base64');
    remember(basic);
    init.headers.Authorization = `Basic ${basic}`;
    init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
    init.body = new URLSearchParams(form).toString();
  } else if (how === 'json') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify({ ...form, client_id: clientId, client_secret: secret });
  } else {
    init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
    init.body = new URLSearchParams({
      ...form,
      client_id: clientId,
      client_secret: secret,
    }).toString();
  }
  const response = await fetch(`${server.baseUrl}/oauth/token`, init);
  const body = (await response.json()) as { access_token?: string };
  if (body.access_token) remember(body.access_token);
  return { status: response.status, token: body.access_token ?? '' };
}

beforeAll(async () => {
  server = await startServerProcess({
    loadDemoData: false,
    env: { GRATICULE_LOG_LEVEL: 'debug' },
  });
  remember(server.clientSecret);
  oauth = (await tokenRequest(server.clientId, server.clientSecret, 'post')).token;
  expect(oauth).not.toBe('');
});

afterAll(async () => {
  await server?.stop();
});

describe('secrets never reach the log', () => {
  it('token endpoint: right and wrong client secrets, as a form, JSON and Basic', async () => {
    for (const how of ['post', 'basic', 'json'] as const) {
      expect((await tokenRequest(server.clientId, server.clientSecret, how)).status).toBe(200);
      const wrong = remember(`wrong-secret-${how}-0123456789abcdef`);
      expect((await tokenRequest(server.clientId, wrong, how)).status).toBe(401);
    }
  });

  it('applications: the secret of a new application and of a rotation', async () => {
    const app = await createApplication(server.baseUrl, oauth, {
      name: 'Logged app',
      type: 'machine_to_machine',
    });
    const first = remember(app.client_secret!);
    expect((await tokenRequest(app.client_id, first, 'post')).status).toBe(200);
    const rotated = await call('POST', `/v3/applications/${app.client_id}/secret`, {
      token: oauth,
    });
    expect(rotated.status).toBe(200);
    const second = remember(rotated.body.client_secret as string);
    expect((await tokenRequest(app.client_id, second, 'basic')).status).toBe(200);
    expect((await tokenRequest(app.client_id, first, 'post')).status).toBe(401);
  });

  it('users: passwords set, changed and used to sign in, right and wrong', async () => {
    const spa = await createApplication(server.baseUrl, oauth, {
      name: 'Logged SPA',
      type: 'single_page',
      callback_urls: [CALLBACK],
      web_origins: ['http://127.0.0.1:9'],
    });
    const email = uniqueEmail('logged');
    const first = remember('first password for the log test');
    const user = await createUser(server.baseUrl, oauth, {
      email,
      name: 'Logged User',
      role: 'editor',
      password: first,
    });
    const second = remember('second password for the log test');
    const changed = await call('PATCH', `/v3/account/users/${user.id}`, {
      token: oauth,
      body: { password: second },
    });
    expect(changed.status).toBe(200);
    const login = { baseUrl: server.baseUrl, clientId: spa.client_id, redirectUri: CALLBACK };
    await expect(signInUser({ ...login, email, password: first })).rejects.toThrow(/401/);
    const userToken = remember(await signInUser({ ...login, email, password: second }));
    const me = await call('GET', '/v3/me', { token: userToken });
    expect(me.body).toMatchObject({ email, token_kind: 'user' });
  });

  it('API access tokens: created, used in a header, a query string and a path', async () => {
    const created = await call('POST', '/v3/tokens', {
      token: oauth,
      body: {
        grants: [{ connection_name: 'carto_dw', source: 'SELECT 1 AS one' }],
        allowed_apis: ['sql'],
      },
    });
    expect(created.status).toBe(201);
    const apiToken = remember(created.body.token as string);
    const q = encodeURIComponent('SELECT 1 AS one');
    const inHeader = await call('GET', `/v3/sql/carto_dw/query?q=${q}`, { token: apiToken });
    expect(inHeader.status).toBe(200);
    expect(inHeader.body.rows).toEqual([{ one: 1 }]);
    // Graticule takes tokens from the Authorization header only; the query string is refused,
    // and must not be logged either.
    const inQuery = await call('GET', `/v3/sql/carto_dw/query?q=${q}&access_token=${apiToken}`);
    expect(inQuery.status).toBe(401);
    const byString = await call('GET', `/v3/tokens/${apiToken}`, { token: oauth });
    expect(byString.status).toBe(200);
    const renamed = await call('PATCH', `/v3/tokens/${apiToken}`, {
      token: oauth,
      body: { name: 'renamed logged token' },
    });
    expect(renamed.status).toBe(200);
    // Paths no route serves are logged too: a token or an invitation secret in them is not.
    expect((await call('GET', `/v3/account/tokens/${apiToken}`, { token: oauth })).status).toBe(
      404,
    );
    const invitationLike = remember(randomBytes(32).toString('base64url'));
    expect((await call('PUT', `/invitations/${invitationLike}/x`)).status).toBe(404);
    // A token whose signature does not verify, and a deleted one.
    const forged = remember(`${apiToken.slice(0, apiToken.lastIndexOf('.'))}.${'A'.repeat(43)}`);
    expect((await call('GET', `/v3/sql/carto_dw/query?q=${q}`, { token: forged })).status).toBe(
      401,
    );
    expect((await call('DELETE', `/v3/tokens/${apiToken}`, { token: oauth })).status).toBe(204);
    expect((await call('GET', `/v3/sql/carto_dw/query?q=${q}`, { token: apiToken })).status).toBe(
      401,
    );
  });

  it('OAuth tokens: in a header, in a query string, and a tampered one', async () => {
    const q = encodeURIComponent('SELECT 2 AS two');
    expect((await call('GET', `/v3/sql/carto_dw/query?q=${q}`, { token: oauth })).status).toBe(200);
    const inQuery = await call('GET', `/v3/sql/carto_dw/query?q=${q}&access_token=${oauth}`);
    expect(inQuery.status).toBe(401);
    const tampered = remember(`${oauth.slice(0, -8)}AAAAAAAA`);
    expect((await call('GET', '/v3/me', { token: tampered })).status).toBe(401);
  });

  it('connections: passwords of saved, changed and unsaved connections', async () => {
    // Port 1 refuses, so every attempt to connect fails, as an unreachable database would.
    const config = (password: string) => ({
      host: '127.0.0.1',
      port: 1,
      database: 'logged',
      username: 'logged_user',
      password,
    });
    const first = remember('connection-password-first-7f3a');
    const created = await call('POST', '/v3/connections', {
      token: oauth,
      body: { name: 'pg_logged', provider_id: 'postgres', config: config(first) },
    });
    expect(created.status).toBe(201);
    const second = remember('connection-password-second-9c1e');
    const changed = await call('PATCH', '/v3/connections/pg_logged', {
      token: oauth,
      body: { config: { password: second } },
    });
    expect(changed.status).toBe(200);
    const tested = await call('POST', '/v3/connections/pg_logged/test', { token: oauth });
    expect(tested.status).toBe(502);
    const query = await call('GET', '/v3/sql/pg_logged/query?q=SELECT+1', { token: oauth });
    expect(query.status).toBe(502);
    const unsaved = remember('connection-password-unsaved-4b2d');
    const testedUnsaved = await call('POST', '/v3/connections/test', {
      token: oauth,
      body: { name: 'pg_unsaved', provider_id: 'postgres', config: config(unsaved) },
    });
    expect(testedUnsaved.status).toBe(502);
  });

  it('printed none of them, in any form', async () => {
    await server.stop();
    const output = server.output();
    // The log is there and detailed: debug lines, and the requests above.
    expect(output).toMatch(/"level":20/);
    expect(output).toContain('/v3/connections/pg_logged/test');
    expect(secrets.size).toBeGreaterThan(15);
    for (const secret of secrets) {
      const forms = new Set([secret, encodeURIComponent(secret), secret.replaceAll(' ', '+')]);
      // A JWT's signature alone is enough to find the token in a log.
      const parts = secret.split('.');
      if (parts.length === 3) forms.add(parts[2]!);
      for (const form of forms) {
        expect(output.includes(form), `the log holds ${form.slice(0, 12)}…`).toBe(false);
      }
    }
  });
});
