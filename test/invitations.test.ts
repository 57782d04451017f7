/**
 * Invitations end to end: an admin invites an address (API and CLI), the invited person opens
 * the link, chooses a name and a password, and signs in; the link then stops working. Also:
 * an ID token of that sign-in is no access token for the API.
 */
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../src/accounts/accounts.js';
import { ApplicationService } from '../src/apps/application-service.js';
import { ApplicationStore } from '../src/apps/application-store.js';
import { openStore } from '../src/store/store.js';
import { fetchToken } from './support/api.js';
import { runCliAsync } from './support/cli-async.js';
import { callApi, uniqueEmail } from './support/identity.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

const PASSWORD = 'an invited password';
const CALLBACK = 'http://127.0.0.1:9/callback';
/** Sign-in posts a minute from one address; the last test spends what is left. */
const SIGN_IN_LIMIT = 25;

let server: ServerProcess;
let adminToken = '';
let accountId = '';
let adminId = '';
let otherToken = '';

const call = (token: string, method: string, route: string, body?: unknown) =>
  callApi(server.baseUrl, token, method, route, body);

const admin = (method: string, route: string, body?: unknown) =>
  call(adminToken, method, route, body);

async function invite(email: string, role = 'editor') {
  const created = await admin('POST', '/v3/account/invitations', { email, role });
  expect(created.status, created.text).toBe(201);
  return created.body as { id: string; invitation_url: string; email: string; role: string };
}

/** A token acting for a user: a Machine to Machine application it owns, made in the store. */
async function tokenFor(userId: string): Promise<string> {
  const store = await openStore(server.dataDir);
  try {
    const actor = { accountId, userId: null, subject: 'test' };
    const app = await new ApplicationService(store).create(actor, userId, {
      name: `Acts for ${userId}`,
      type: 'machine_to_machine',
    });
    return await fetchToken(server.baseUrl, app.client_id, app.client_secret!);
  } finally {
    await store.destroy();
  }
}

/** The invitation page of a link, its form token and the cookie that goes with it. */
async function openLink(url: string) {
  const response = await fetch(url);
  const html = await response.text();
  const cookie = (response.headers.get('set-cookie') ?? '').split(';', 1)[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  return { response, html, cookie, csrf };
}

/** Sends the invitation form as a browser on the page would. */
async function submit(
  url: string,
  fields: Record<string, string>,
  cookie: string,
  headers: Record<string, string> = {},
) {
  const response = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      ...(cookie ? { Cookie: cookie } : {}),
      ...headers,
    },
    body: new URLSearchParams(fields).toString(),
  });
  return { response, html: await response.text() };
}

/** Opens the link and joins with `name` and `password`. */
async function accept(url: string, name: string, password = PASSWORD) {
  const page = await openLink(url);
  expect(page.response.status, page.html).toBe(200);
  const fields = { name, password, password_repeat: password, csrf: page.csrf };
  return submit(url, fields, page.cookie);
}

/** A user's sign-in through the authorization code flow, answering its access and ID tokens. */
async function signIn(clientId: string, email: string, password: string) {
  const cookies = new Map<string, string>();
  const browse = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(new URL(url, server.baseUrl), {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string>),
        Cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';', 1);
      const [name = '', value = ''] = pair.split('=', 2);
      cookies.set(name.trim(), value.trim());
    }
    return response;
  };
  const verifier = randomBytes(32).toString('base64url');
  const authorize = await browse(
    `/authorize?${new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: CALLBACK,
      scope: 'openid profile email',
      audience: 'carto-cloud-native-api',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: 'invitation-state',
    })}`,
  );
  const signInPath = authorize.headers.get('location')!;
  await (await browse(signInPath)).text();
  const signedIn = await browse(signInPath, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password }).toString(),
  });
  expect(signedIn.status, await signedIn.text()).toBe(303);
  const back = await browse(signedIn.headers.get('location')!);
  const code = new URL(back.headers.get('location')!).searchParams.get('code')!;
  const tokens = await fetch(`${server.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      code_verifier: verifier,
      redirect_uri: CALLBACK,
    }),
  });
  expect(tokens.status).toBe(200);
  return (await tokens.json()) as { access_token: string; id_token: string };
}

beforeAll(async () => {
  server = await startServerProcess({
    loadDemoData: false,
    env: { GRATICULE_LOGIN_RATE_LIMIT_PER_IP: String(SIGN_IN_LIMIT) },
  });
  adminToken = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
  const me = await admin('GET', '/v3/me');
  accountId = me.body.account_id;
  adminId = me.body.id;
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

describe('the invitations API', () => {
  it('invites with a one-time link on the public URL, listed without it', async () => {
    const email = uniqueEmail('Invitee');
    const created = await admin('POST', '/v3/account/invitations', { email, role: 'viewer' });

    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toEqual({
      id: expect.stringMatching(/^inv_[0-9a-f]{16}$/),
      email: email.toLowerCase(),
      role: 'viewer',
      invited_by: server.clientId,
      created_at: expect.any(String),
      expires_at: expect.any(String),
      invitation_url: expect.stringMatching(
        new RegExp(`^${server.baseUrl}/invitations/[A-Za-z0-9_-]{43}$`),
      ),
    });
    const days =
      (Date.parse(created.body.expires_at) - Date.parse(created.body.created_at)) / 864e5;
    expect(days).toBe(7);

    const list = await admin('GET', '/v3/account/invitations');
    expect(list.status).toBe(200);
    const { invitation_url: url, ...listed } = created.body;
    expect(list.body.data).toContainEqual(listed);
    expect(list.text).not.toContain(url.slice(url.lastIndexOf('/') + 1));
    expect(list.body.meta.total).toBe(list.body.data.length);

    const audit = await admin('GET', '/v3/account/audit?event=invitation.created&limit=1');
    expect(audit.body.data[0]).toMatchObject({
      event: 'invitation.created',
      actor: server.clientId,
      target: created.body.id,
      details: { email: email.toLowerCase(), role: 'viewer' },
    });
    expect(audit.text).not.toContain(url.slice(url.lastIndexOf('/') + 1));
  });

  it('answers 409 for an address that is a user, 400 for bad bodies', async () => {
    const taken = await admin('POST', '/v3/account/invitations', {
      email: 'ADMIN@graticule.local',
      role: 'editor',
    });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ status: 409, code: 'email_taken' });

    for (const body of [
      { email: 'not-an-address', role: 'editor' },
      { email: uniqueEmail('bad'), role: 'owner' },
      { email: uniqueEmail('bad') },
      { email: uniqueEmail('bad'), role: 'viewer', password: 'chosen by the admin' },
      [],
    ]) {
      const refused = await admin('POST', '/v3/account/invitations', body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body).toMatchObject({ error: expect.any(String), status: 400 });
    }
  });

  it('replaces a pending invitation of the same address', async () => {
    const email = uniqueEmail('again');
    const first = await invite(email, 'viewer');
    const second = await invite(email, 'admin');

    const list = await admin('GET', '/v3/account/invitations');
    const mine = list.body.data.filter((entry: { email: string }) => entry.email === email);
    expect(mine).toEqual([expect.objectContaining({ id: second.id, role: 'admin' })]);
    expect((await fetch(first.invitation_url)).status).toBe(404);
    expect((await fetch(second.invitation_url)).status).toBe(200);
  });

  it('revokes a pending invitation; other accounts and non-admins cannot', async () => {
    const pending = await invite(uniqueEmail('revoked'));
    const editor = await admin('POST', '/v3/account/users', {
      email: uniqueEmail('editor'),
      role: 'editor',
    });
    const editorToken = await tokenFor(editor.body.id);

    for (const route of ['/v3/account/invitations', `/v3/account/invitations/${pending.id}`]) {
      const method = route.endsWith(pending.id) ? 'DELETE' : 'GET';
      const refused = await call(editorToken, method, route);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ status: 403, code: 'forbidden' });
    }
    expect((await call(editorToken, 'POST', '/v3/account/invitations', {})).status).toBe(403);
    // Refused before the body is read: a malformed body changes nothing for a non-admin.
    for (const route of ['/v3/account/invitations', '/v3/account/users']) {
      const malformed = await fetch(`${server.baseUrl}${route}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${editorToken}`, 'Content-Type': 'application/json' },
        body: '{"email": ',
      });
      expect(malformed.status, route).toBe(403);
    }
    const theirs = await call(otherToken, 'GET', '/v3/account/invitations');
    expect(theirs.body).toEqual({ data: [], meta: { total: 0 } });
    const notTheirs = await call(otherToken, 'DELETE', `/v3/account/invitations/${pending.id}`);
    expect(notTheirs.status).toBe(404);
    expect(notTheirs.body).toMatchObject({ code: 'invitation_not_found' });
    expect((await call('', 'GET', '/v3/account/invitations')).status).toBe(401);

    expect((await admin('DELETE', `/v3/account/invitations/${pending.id}`)).status).toBe(204);
    expect((await admin('DELETE', `/v3/account/invitations/${pending.id}`)).status).toBe(404);
    expect((await admin('DELETE', '/v3/account/invitations/inv_unknown')).status).toBe(404);
    expect((await fetch(pending.invitation_url)).status).toBe(404);
    const audit = await admin('GET', '/v3/account/audit?event=invitation.revoked&limit=1');
    expect(audit.body.data[0]).toMatchObject({ actor: server.clientId, target: pending.id });
  });
});

describe('the invitation page', () => {
  it('shows a form in the sign-in look, never cached, framed or leaking the link', async () => {
    const { invitation_url: url, email } = await invite(uniqueEmail('page'), 'viewer');
    const page = await openLink(url);

    expect(page.response.status).toBe(200);
    expect(page.response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.response.headers.get('cache-control')).toBe('no-store');
    expect(page.response.headers.get('x-frame-options')).toBe('DENY');
    expect(page.response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.response.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    expect(page.html).toContain('Join Graticule');
    expect(page.html).toContain(email);
    expect(page.html).toContain('type="password"');
    expect(page.csrf).toMatch(/^[\w-]{32}$/);
    expect(server.output()).not.toContain(url.slice(url.lastIndexOf('/') + 1));
  });

  it('refuses forms without the page token or from other sites, and checks fields', async () => {
    const { invitation_url: url } = await invite(uniqueEmail('checks'));
    const page = await openLink(url);
    const good = { name: 'Checked', password: PASSWORD, password_repeat: PASSWORD };

    const forged = await submit(url, { ...good, csrf: 'x'.repeat(32) }, page.cookie);
    expect(forged.response.status).toBe(403);
    expect(forged.html).toContain('sent from another site');
    const noCookie = await submit(url, { ...good, csrf: page.csrf }, '');
    expect(noCookie.response.status).toBe(403);
    const crossSite = await submit(url, { ...good, csrf: page.csrf }, page.cookie, {
      'Sec-Fetch-Site': 'cross-site',
    });
    expect(crossSite.response.status).toBe(403);
    const differ = await submit(
      url,
      { ...good, password_repeat: `${PASSWORD}!`, csrf: page.csrf },
      page.cookie,
    );
    expect(differ.response.status).toBe(400);
    expect(differ.html).toContain('The two passwords differ');
    const short = await submit(
      url,
      { name: 'Checked', password: 'short', password_repeat: 'short', csrf: page.csrf },
      page.cookie,
    );
    expect(short.response.status).toBe(400);
    expect(short.html).toContain('A password needs at least 10 characters.');
    expect(short.html).toContain('value="Checked"');

    // Nothing was accepted: the link still works.
    expect((await fetch(url)).status).toBe(200);
  });

  it('makes the user, once; the used link is refused like an unknown one', async () => {
    const email = uniqueEmail('joiner');
    const { invitation_url: url, id } = await invite(email, 'editor');

    const joined = await accept(url, 'Joiner <b>');
    expect(joined.response.status, joined.html).toBe(303);
    expect(joined.response.headers.get('location')).toBe('/ui/');

    const users = await admin('GET', '/v3/account/users');
    const user = users.body.data.find((entry: { email: string }) => entry.email === email);
    expect(user).toMatchObject({ name: 'Joiner <b>', role: 'editor', has_password: true });
    const accepted = await admin('GET', '/v3/account/audit?event=invitation.accepted&limit=1');
    expect(accepted.body.data[0]).toMatchObject({ actor: user.id, target: id });
    expect((await admin('GET', '/v3/account/invitations')).text).not.toContain(id);

    const used = await fetch(url);
    const unknown = await fetch(
      `${server.baseUrl}/invitations/${randomBytes(32).toString('base64url')}`,
    );
    expect(used.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(await used.text()).toBe(await unknown.text());
    const replay = await submit(url, { name: 'Replay', password: PASSWORD, csrf: 'x' }, '');
    expect(replay.response.status).toBe(404);
  });

  it('signs the new user in; its ID token is no access token for the API', async () => {
    // An application whose client id is the API's audience: its ID tokens carry the audience
    // the API expects, and must still be refused.
    const store = await openStore(server.dataDir);
    try {
      await new ApplicationStore(store).create({
        clientId: 'carto-cloud-native-api',
        clientSecret: null,
        accountId,
        ownerUserId: adminId,
        name: 'Audience look-alike',
        type: 'single_page',
        tokenEndpointAuthMethod: 'none',
        callbackUrls: [CALLBACK],
        webOrigins: ['http://127.0.0.1:9'],
      });
    } finally {
      await store.destroy();
    }
    const email = uniqueEmail('signer');
    const { invitation_url: url } = await invite(email, 'viewer');
    expect((await accept(url, 'Signer')).response.status).toBe(303);

    const tokens = await signIn('carto-cloud-native-api', email, PASSWORD);
    const me = await call(tokens.access_token, 'GET', '/v3/me');
    expect(me.status, me.text).toBe(200);
    expect(me.body).toMatchObject({ email, role: 'viewer', token_kind: 'user' });

    expect(decodeProtectedHeader(tokens.id_token).typ).not.toBe('at+jwt');
    expect(decodeJwt(tokens.id_token)).toMatchObject({ aud: 'carto-cloud-native-api' });
    const refused = await call(tokens.id_token, 'GET', '/v3/me');
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({
      error: "Invalid token: the token is not an access token (its 'typ' is not 'at+jwt')",
      status: 401,
      code: 'token_invalid',
    });
    // The Maps API asks for no permission: there the ID token would otherwise read data.
    const source = '/v3/maps/carto_dw/query?q=SELECT+ST_Point(0,0,4326)+AS+geom';
    const mapRefused = await call(tokens.id_token, 'GET', source);
    expect(mapRefused.status, mapRefused.text).toBe(401);
    expect((await call(tokens.access_token, 'GET', source)).status).toBe(200);
  });

  it('counts its posts against the sign-in rate limit', async () => {
    const { invitation_url: url } = await invite(uniqueEmail('limited'));
    let answer: Response | undefined;
    for (let attempt = 0; attempt <= SIGN_IN_LIMIT; attempt += 1) {
      answer = (await submit(url, { name: 'x', csrf: 'x' }, '')).response;
      if (answer.status === 429) break;
      expect(answer.status).toBe(403);
    }
    expect(answer!.status).toBe(429);
    expect(Number(answer!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('graticule users invite, invitations and uninvite', () => {
  it('invites, lists and revokes from the command line', async () => {
    const email = uniqueEmail('cli');
    const cli = (args: string[]) => runCliAsync(args, { dataDir: server.dataDir });

    const invited = await cli(['users', 'invite', email, '--role', 'editor']);
    expect(invited.status, invited.stderr).toBe(0);
    const url = /(http\S+\/invitations\/\S+)/.exec(invited.stdout)?.[1];
    expect(url).toBeTruthy();
    expect(invited.stderr).toContain('GRATICULE_PUBLIC_URL is not set');
    const id = /Invitation (inv_[0-9a-f]+)/.exec(invited.stdout)![1]!;

    const listed = await cli(['users', 'invitations', '--json']);
    expect(JSON.parse(listed.stdout)).toContainEqual(
      expect.objectContaining({ id, email, role: 'editor', invited_by: 'cli' }),
    );
    expect(listed.stdout).not.toContain(url!.slice(url!.lastIndexOf('/') + 1));

    const revoked = await cli(['users', 'uninvite', id]);
    expect(revoked.status, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`Invitation ${id} revoked.`);
    const twice = await cli(['users', 'uninvite', id]);
    expect(twice.status).not.toBe(0);
    expect(twice.stderr.trim().split('\n')).toHaveLength(1);
    expect(twice.stderr).toContain(`No pending invitation '${id}'`);
    const taken = await cli(['users', 'invite', 'admin@graticule.local', '--role', 'viewer']);
    expect(taken.status).not.toBe(0);
    expect(taken.stderr).toContain('already exists');
  });
});
