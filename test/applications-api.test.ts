import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../src/accounts/accounts.js';
import { ApplicationService } from '../src/apps/application-service.js';
import { openStore } from '../src/store/store.js';
import { fetchToken } from './support/api.js';
import { callApi } from './support/identity.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

let server: ServerProcess;
let adminToken = '';
let otherToken = '';

const call = (token: string, method: string, route: string, body?: unknown) =>
  callApi(server.baseUrl, token, method, route, body);

const admin = (method: string, route: string, body?: unknown) =>
  call(adminToken, method, route, body);

/** A client-credentials token request, the secret in the body or as HTTP Basic. */
async function requestToken(clientId: string, secret: string, how: 'post' | 'basic') {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    audience: 'carto-cloud-native-api',
  });
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
  };
  if (how === 'post') {
    form.set('client_id', clientId);
    form.set('client_secret', secret);
  } else {
    const pair = `${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`;
    headers.Authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  }
  const response = await fetch(`${server.baseUrl}/oauth/token`, {
    method: 'POST',
    headers,
    body: form,
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  return { status: response.status, body };
}

/** Creates, straight in the store, a Machine to Machine application acting for a user. */
async function createAppOwnedBy(userId: string, accountId: string) {
  const store = await openStore(server.dataDir);
  try {
    const actor = { accountId, userId: null, subject: 'test' };
    return await new ApplicationService(store).create(actor, userId, {
      name: 'Owned elsewhere',
      type: 'machine_to_machine',
    });
  } finally {
    await store.destroy();
  }
}

beforeAll(async () => {
  server = await startServerProcess({ loadDemoData: false });
  adminToken = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
  const store = await openStore(server.dataDir);
  try {
    const other = await createAccount(store, { name: 'Other tenant' });
    otherToken = await fetchToken(server.baseUrl, other.clientId, other.clientSecret);
  } finally {
    await store.destroy();
  }
});

afterAll(async () => {
  await server?.stop();
});

describe('Applications API', () => {
  it('creates a single-page application with default URLs and no secret', async () => {
    const created = await admin('POST', '/v3/applications', {
      name: 'Store locator',
      description: 'Finds the nearest shop',
      url: 'https://maps.example.com/locator',
      thumbnail_url: 'https://maps.example.com/logo.png',
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Store locator',
      description: 'Finds the nearest shop',
      type: 'single_page',
      token_endpoint_auth_method: 'none',
      thumbnail_url: 'https://maps.example.com/logo.png',
      callback_urls: ['https://maps.example.com/locator'],
      logout_urls: ['https://maps.example.com/locator'],
      web_origins: ['https://maps.example.com'],
      cors_origins: ['https://maps.example.com'],
    });
    expect(created.body.client_id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(created.body).not.toHaveProperty('client_secret');

    const rotated = await admin('POST', `/v3/applications/${created.body.client_id}/secret`);
    expect(rotated.status).toBe(409);
    expect(rotated.body).toMatchObject({ status: 409, code: 'application_has_no_secret' });
  });

  it('creates a regular web application with a secret shown only once', async () => {
    const created = await admin('POST', '/v3/applications', {
      name: 'Dashboard',
      type: 'Regular Web Application',
      url: 'https://dash.example.com',
      callback_urls: ['https://dash.example.com/auth/callback', 'http://localhost:3000/cb'],
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      type: 'regular_web',
      token_endpoint_auth_method: 'client_secret_post',
      callback_urls: ['https://dash.example.com/auth/callback', 'http://localhost:3000/cb'],
      logout_urls: ['https://dash.example.com'],
    });
    expect(created.body.client_secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);

    const got = await admin('GET', `/v3/applications/${created.body.client_id}`);
    expect(got.status).toBe(200);
    const { client_secret: _secret, ...withoutSecret } = created.body;
    expect(got.body).toEqual(withoutSecret);
    const list = await admin('GET', '/v3/applications');
    expect(list.status).toBe(200);
    expect(list.body.data.map((a: { client_id: string }) => a.client_id)).toContain(
      created.body.client_id,
    );
    expect(list.text).not.toContain(created.body.client_secret);
  });

  it('issues tokens to a machine application only by its configured method', async () => {
    const basicApp = await admin('POST', '/v3/applications', {
      name: 'Nightly export',
      type: 'machine_to_machine',
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(basicApp.status, basicApp.text).toBe(201);
    const { client_id: basicId, client_secret: basicSecret } = basicApp.body;
    const byBasic = await requestToken(basicId, basicSecret, 'basic');
    expect(byBasic.status).toBe(200);
    const inBody = await requestToken(basicId, basicSecret, 'post');
    expect(inBody.status).toBe(401);
    expect(inBody.body.error).toBe('invalid_client');

    const postApp = await admin('POST', '/v3/applications', {
      name: 'Backend',
      type: 'machine_to_machine',
    });
    expect(postApp.body.token_endpoint_auth_method).toBe('client_secret_post');
    const byPost = await requestToken(postApp.body.client_id, postApp.body.client_secret, 'post');
    expect(byPost.status).toBe(200);

    // The token acts for the application's owner: the admin who created it.
    const me = await call(byBasic.body.access_token!, 'GET', '/v3/me');
    expect(me.status, me.text).toBe(200);
    expect(me.body).toMatchObject({
      email: 'admin@graticule.local',
      role: 'admin',
      token_kind: 'machine',
      client_id: basicId,
    });
    const sql = await call(byPost.body.access_token!, 'GET', '/v3/sql/carto_dw/query?q=SELECT+1');
    expect(sql.status, sql.text).toBe(200);
  });

  it('rotates a secret: the old one is refused at once, the new one works', async () => {
    const created = await admin('POST', '/v3/applications', {
      name: 'Rotating',
      type: 'm2m',
    });
    const { client_id: id, client_secret: oldSecret } = created.body;
    expect((await requestToken(id, oldSecret, 'post')).status).toBe(200);

    const rotated = await admin('POST', `/v3/applications/${id}/secret`);
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.client_id).toBe(id);
    expect(rotated.body.client_secret).not.toBe(oldSecret);
    const refused = await requestToken(id, oldSecret, 'post');
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect((await requestToken(id, rotated.body.client_secret, 'post')).status).toBe(200);
  });

  it('updates fields; URL lists still at their defaults follow a new URL', async () => {
    const created = await admin('POST', '/v3/applications', {
      name: 'Old name',
      url: 'https://old.example.com/app',
      logout_urls: ['https://old.example.com/bye'],
    });
    const id = created.body.client_id;
    const updated = await admin('PATCH', `/v3/applications/${id}`, {
      name: 'New name',
      url: 'https://new.example.com/app',
      description: null,
    });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body).toMatchObject({
      name: 'New name',
      description: '',
      callback_urls: ['https://new.example.com/app'],
      web_origins: ['https://new.example.com'],
      logout_urls: ['https://old.example.com/bye'],
    });
    expect(updated.body).not.toHaveProperty('client_secret');
    expect(Date.parse(updated.body.updated_at)).toBeGreaterThanOrEqual(
      Date.parse(created.body.updated_at),
    );

    const confidential = await admin('PATCH', `/v3/applications/${id}`, {
      type: 'regular_web',
      token_endpoint_auth_method: 'client_secret_post',
    });
    expect(confidential.status, confidential.text).toBe(200);
    expect(confidential.body.client_secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);

    const empty = await admin('PATCH', `/v3/applications/${id}`, {});
    expect(empty.status).toBe(400);
  });

  it('deletes an application: 404 afterwards and its secret no longer works', async () => {
    const created = await admin('POST', '/v3/applications', {
      name: 'Short-lived',
      type: 'machine_to_machine',
    });
    const { client_id: id, client_secret: secret } = created.body;
    expect((await requestToken(id, secret, 'post')).status).toBe(200);
    const deleted = await admin('DELETE', `/v3/applications/${id}`);
    expect(deleted.status).toBe(204);
    expect((await admin('GET', `/v3/applications/${id}`)).status).toBe(404);
    expect((await admin('DELETE', `/v3/applications/${id}`)).status).toBe(404);
    expect((await requestToken(id, secret, 'post')).status).toBe(401);
  });

  it('answers 400 for bad URLs, unknown types and none for a confidential app', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ name: 'a', url: 'http://example.com' }, /url.*use https/],
      [
        { name: 'a', callback_urls: ['https://a.example.com/#frag'] },
        /callback_urls\[0\].*fragment/,
      ],
      [{ name: 'a', callback_urls: ['/relative'] }, /not an absolute URL/],
      [{ name: 'a', logout_urls: 'https://a.example.com' }, /logout_urls.*array/],
      [{ name: 'a', web_origins: ['https://a.example.com/path'] }, /web_origins\[0\].*no path/],
      [{ name: 'a', cors_origins: ['ftp://a.example.com'] }, /cors_origins\[0\].*http/],
      [{ name: 'a', type: 'native' }, /type/],
      [{ name: 'a', token_endpoint_auth_method: 'private_key_jwt' }, /token_endpoint_auth/],
      [
        { name: 'a', type: 'machine_to_machine', token_endpoint_auth_method: 'none' },
        /'none' is only for single_page/,
      ],
      [{ description: 'no name' }, /name/],
      [{ name: 'a', client_secret: 'mine' }, /client_secret/],
    ];
    for (const [body, message] of bad) {
      const reply = await admin('POST', '/v3/applications', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error, JSON.stringify(body)).toMatch(message);
      expect(reply.body.status).toBe(400);
    }
    const notObject = await admin('POST', '/v3/applications', ['a']);
    expect(notObject.status).toBe(400);
  });

  it("hides each account's applications from the others", async () => {
    const created = await admin('POST', '/v3/applications', { name: 'Private to us' });
    const id = created.body.client_id;
    const other = (method: string, route: string, body?: unknown) =>
      call(otherToken, method, route, body);

    const theirList = await other('GET', '/v3/applications');
    expect(theirList.status).toBe(200);
    expect(theirList.body.data).toHaveLength(1);
    expect(theirList.body.data[0].type).toBe('machine_to_machine');
    for (const [method, route, body] of [
      ['GET', `/v3/applications/${id}`],
      ['PATCH', `/v3/applications/${id}`, { name: 'Taken over' }],
      ['POST', `/v3/applications/${id}/secret`],
      ['DELETE', `/v3/applications/${id}`],
    ] as const) {
      const reply = await other(method, route, body);
      expect(reply.status, `${method} ${route}`).toBe(404);
      expect(reply.body).toMatchObject({ status: 404, code: 'application_not_found' });
    }
    expect((await admin('GET', `/v3/applications/${id}`)).body.name).toBe('Private to us');
    expect((await admin('GET', '/v3/applications/no-such-client')).status).toBe(404);
  });

  it('lets editors manage applications and refuses viewers with 403', async () => {
    const user = await admin('POST', '/v3/account/users', {
      email: 'apps-editor@example.com',
      role: 'editor',
    });
    expect(user.status, user.text).toBe(201);
    const app = await createAppOwnedBy(
      user.body.id,
      (await admin('GET', '/v3/me')).body.account_id,
    );
    const editorToken = await fetchToken(server.baseUrl, app.client_id, app.client_secret!);
    const byEditor = await call(editorToken, 'POST', '/v3/applications', { name: "Editor's" });
    expect(byEditor.status, byEditor.text).toBe(201);
    const own = byEditor.body.client_id as string;
    expect(
      (await call(editorToken, 'PATCH', `/v3/applications/${own}`, { name: 'Mine' })).status,
    ).toBe(200);

    // An application acts as its owner: an editor may not take over an admin's.
    const adminApp = await admin('POST', '/v3/applications', {
      name: "Admin's machine",
      type: 'machine_to_machine',
    });
    const takeovers: [string, string, unknown][] = [
      ['POST', `/v3/applications/${adminApp.body.client_id}/secret`, undefined],
      [
        'PATCH',
        `/v3/applications/${adminApp.body.client_id}`,
        { callback_urls: ['https://evil.example/'] },
      ],
      ['DELETE', `/v3/applications/${adminApp.body.client_id}`, undefined],
    ];
    for (const [method, route, body] of takeovers) {
      const reply = await call(editorToken, method, route, body);
      expect(reply.status, `${method} ${route}`).toBe(403);
      expect(reply.body).toMatchObject({ status: 403, code: 'forbidden' });
    }
    expect((await admin('GET', `/v3/applications/${adminApp.body.client_id}`)).body.name).toBe(
      "Admin's machine",
    );

    await admin('PATCH', `/v3/account/users/${user.body.id}`, { role: 'viewer' });
    // The token still says editor; the user's role now says viewer, and that wins.
    const stale = await call(editorToken, 'POST', '/v3/applications', { name: 'Stale' });
    expect(stale.status).toBe(403);
    const viewerToken = await fetchToken(server.baseUrl, app.client_id, app.client_secret!);
    const byViewer = await call(viewerToken, 'POST', '/v3/applications', { name: "Viewer's" });
    expect(byViewer.status).toBe(403);
    expect(byViewer.body).toMatchObject({ status: 403, code: 'forbidden' });
    expect(byViewer.body.error).toMatch(/write:apps/);
    expect((await call(viewerToken, 'GET', '/v3/applications')).status).toBe(403);
    expect((await call('', 'GET', '/v3/applications')).status).toBe(401);
  });

  it('refuses API access tokens with 403', async () => {
    const created = await admin('POST', '/v3/tokens', {
      grants: [{ connection_name: 'carto_dw', source: '*' }],
      allowed_apis: ['sql'],
    });
    expect(created.status, created.text).toBe(201);
    const apiToken = created.body.token as string;
    for (const route of ['/v3/applications', '/v3/me', '/v3/account/users']) {
      const reply = await call(apiToken, 'GET', route);
      expect(reply.status, route).toBe(403);
    }
    expect((await call(apiToken, 'POST', '/v3/applications', { name: 'x' })).status).toBe(403);
  });

  it('records every change in the audit log, never a secret', async () => {
    const created = await admin('POST', '/v3/applications', { name: 'Audited', type: 'm2m' });
    const id = created.body.client_id;
    await admin('PATCH', `/v3/applications/${id}`, { name: 'Audited twice' });
    const rotated = await admin('POST', `/v3/applications/${id}/secret`);
    await admin('DELETE', `/v3/applications/${id}`);

    const audit = await admin('GET', '/v3/account/audit?limit=1000');
    expect(audit.status, audit.text).toBe(200);
    const events = audit.body.data.filter((e: { target: string }) => e.target === id);
    expect(events.map((e: { event: string }) => e.event)).toEqual([
      'application.deleted',
      'application.secret_rotated',
      'application.updated',
      'application.created',
    ]);
    expect(events[2].details).toEqual({ fields: ['name'] });
    expect(events[3]).toMatchObject({ actor: server.clientId, ip: '127.0.0.1' });
    expect(audit.text).not.toContain(created.body.client_secret);
    expect(audit.text).not.toContain(rotated.body.client_secret);
  });
});
