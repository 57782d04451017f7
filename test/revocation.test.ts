/**
 * Tokens stop working when whoever they act for may no longer act: a disabled or deleted
 * user, a deleted application, an API access token whose creator is gone. Every node learns
 * of it within its identity refresh interval (one second here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToken } from './support/api.js';
import { createApplication, createUser, uniqueEmail } from './support/identity.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { signInUser } from './support/user-login.js';

const PASSWORD = 'revocation test password';
const REDIRECT = 'http://127.0.0.1:9/callback';

let server: ServerProcess;
let adminToken: string;
let spaClientId: string;

async function call(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
}

const sqlStatus = async (token: string) =>
  (await call(token, 'GET', '/v3/sql/carto_dw/query?q=SELECT+1')).status;

/** Polls until the status changes from 200, for at most a few refresh intervals. */
async function statusOnceRevoked(token: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  let status = await sqlStatus(token);
  while (status === 200 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    status = await sqlStatus(token);
  }
  return status;
}

async function signedInEditor() {
  const user = await createUser(server.baseUrl, adminToken, {
    email: uniqueEmail('revoked'),
    name: 'Rita Revoked',
    role: 'editor',
    password: PASSWORD,
  });
  const token = await signInUser({
    baseUrl: server.baseUrl,
    clientId: spaClientId,
    redirectUri: REDIRECT,
    email: user.email,
    password: PASSWORD,
  });
  return { user, token };
}

describe('revocation of what tokens act for', () => {
  beforeAll(async () => {
    server = await startServerProcess({
      loadDemoData: false,
      env: { GRATICULE_IDENTITY_REFRESH_SECONDS: '1' },
    });
    adminToken = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    const spa = await createApplication(server.baseUrl, adminToken, {
      name: 'Revocation SPA',
      type: 'single_page',
      callback_urls: [REDIRECT],
    });
    spaClientId = spa.client_id;
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
  });

  it("stops a disabled user's tokens, and their API access tokens", async () => {
    const { user, token } = await signedInEditor();
    expect(await sqlStatus(token)).toBe(200);
    const created = await call(token, 'POST', '/v3/tokens', {
      grants: [{ connection_name: 'carto_dw', source: 'SELECT 1' }],
      allowed_apis: ['sql'],
    });
    expect(created.status).toBe(201);
    const apiToken = created.body.token as string;
    expect(await sqlStatus(apiToken)).toBe(200);

    const disabled = await call(adminToken, 'PATCH', `/v3/account/users/${user.id}`, {
      disabled: true,
    });
    expect(disabled.status).toBe(200);
    expect(await statusOnceRevoked(token)).toBe(401);
    expect(await sqlStatus(apiToken)).toBe(401);
    expect((await call(token, 'POST', '/v3/tokens', { grants: [] })).status).toBe(401);
  });

  it("narrows an API access token to what its demoted creator's role allows now", async () => {
    const { user, token } = await signedInEditor();
    const created = await call(token, 'POST', '/v3/tokens', {
      grants: [{ connection_name: 'carto_dw', source: '*' }],
      allowed_apis: ['sql', 'maps'],
    });
    expect(created.status).toBe(201);
    const apiToken = created.body.token as string;
    expect(await sqlStatus(apiToken)).toBe(200);

    const demoted = await call(adminToken, 'PATCH', `/v3/account/users/${user.id}`, {
      role: 'viewer',
    });
    expect(demoted.status).toBe(200);
    expect(await statusOnceRevoked(apiToken)).toBe(403);
    // What a viewer may do still works: a map source.
    const map = await call(
      apiToken,
      'GET',
      '/v3/maps/carto_dw/query?q=SELECT+ST_MakePoint(0,0)+AS+geom',
    );
    expect(map.status).toBe(200);
  });

  it("stops a deleted user's tokens", async () => {
    const { user, token } = await signedInEditor();
    expect(await sqlStatus(token)).toBe(200);
    expect((await call(adminToken, 'DELETE', `/v3/account/users/${user.id}`)).status).toBe(204);
    expect(await statusOnceRevoked(token)).toBe(401);
  });

  it("stops a deleted application's tokens", async () => {
    const machine = await createApplication(server.baseUrl, adminToken, {
      name: 'Short-lived machine',
      type: 'machine_to_machine',
    });
    const token = await fetchToken(server.baseUrl, machine.client_id, machine.client_secret!);
    expect(await sqlStatus(token)).toBe(200);
    expect((await call(adminToken, 'DELETE', `/v3/applications/${machine.client_id}`)).status).toBe(
      204,
    );
    expect(await statusOnceRevoked(token)).toBe(401);
  });
});
