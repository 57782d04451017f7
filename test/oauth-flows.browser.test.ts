/**
 * The OAuth flows end to end, driven by a standard OAuth client (openid-client) and, where a
 * person signs in, by headless Chromium on Graticule's own sign-in page.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as oidc from 'openid-client';
import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fetchToken } from './support/api.js';
import { describeWithBrowser, launchBrowser } from './support/browser.js';
import {
  createApplication,
  createUser,
  signIn,
  uniqueEmail,
  type CreatedApplication,
} from './support/identity.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
const PASSWORD = 'correct horse battery staple';

let server: ServerProcess;
let browser: Browser;
let adminToken: string;
let appOrigin: string;
let appServer: Server;
let spa: CreatedApplication;
let web: CreatedApplication;
let editor: { id: string; email: string };

const insecure = { execute: [oidc.allowInsecureRequests] };

async function sqlStatus(token: string): Promise<number> {
  const response = await fetch(`${server.baseUrl}/v3/sql/carto_dw/query?q=SELECT+1`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  await response.arrayBuffer();
  return response.status;
}

/** Opens an authorization URL, signs in, and answers the URL the browser was sent back to. */
async function signInAndReturn(url: URL, email = editor.email, password = PASSWORD) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url.href);
  await signIn(page, email, password);
  await page.waitForURL((url) => url.origin === appOrigin);
  const returned = new URL(page.url());
  await context.close();
  return returned;
}

/** Auth0's logout URL for the SPA, back to `returnTo`. */
function logoutUrl(returnTo: string): string {
  const query = new URLSearchParams({ client_id: spa.client_id, returnTo });
  return `${server.baseUrl}/v2/logout?${query.toString()}`;
}

/** The sign-in page's error message, once the page shows one. */
async function alertText(page: Page): Promise<string> {
  const alert = page.getByRole('alert');
  await alert.waitFor();
  return (await alert.textContent()) ?? '';
}

async function spaConfig() {
  return oidc.discovery(new URL(server.baseUrl), spa.client_id, undefined, oidc.None(), insecure);
}

async function pkceRequest(config: oidc.Configuration) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${appOrigin}/callback`,
    scope: 'openid profile email read:connections',
    audience: 'carto-cloud-native-api',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  return { verifier, state, url };
}

describeWithBrowser('OAuth flows through the sign-in page', () => {
  beforeAll(async () => {
    server = await startServerProcess({
      loadDemoData: false,
      env: { GRATICULE_SIGNING_KEY_CHECK_SECONDS: '1' },
    });
    browser = await launchBrowser();
    // The application the flows return to: a page that says so.
    appServer = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>back in the app</p>');
    });
    await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
    appOrigin = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`;
    adminToken = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    editor = await createUser(server.baseUrl, adminToken, {
      email: uniqueEmail('editor'),
      name: 'Edith Editor',
      role: 'editor',
      password: PASSWORD,
    });
    spa = await createApplication(server.baseUrl, adminToken, {
      name: 'Flow test SPA',
      type: 'single_page',
      callback_urls: [`${appOrigin}/callback`],
      logout_urls: [`${appOrigin}/bye`],
      web_origins: [appOrigin],
    });
    web = await createApplication(server.baseUrl, adminToken, {
      name: 'Flow test web app',
      type: 'regular_web',
      token_endpoint_auth_method: 'client_secret_post',
      callback_urls: [`${appOrigin}/callback`],
      logout_urls: [`${appOrigin}/bye`],
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    appServer?.close();
  });

  it('signs a user in with authorization code + PKCE and the token works on the API', async () => {
    const config = await spaConfig();
    const { verifier, state, url } = await pkceRequest(config);
    const returned = await signInAndReturn(url);
    const tokens = await oidc.authorizationCodeGrant(config, returned, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });

    const claims = decodeJwt(tokens.access_token);
    expect(decodeProtectedHeader(tokens.access_token).alg).toBe('RS256');
    expect(claims.sub).toBe(editor.id);
    expect(claims.aud).toContain('carto-cloud-native-api');
    expect(claims['http://app.carto.com/email']).toBe(editor.email);
    expect(claims['http://app.carto.com/account_id']).toMatch(/^ac_/);
    expect(claims.permissions).toContain('write:apps');
    expect(claims.permissions).not.toContain('admin:account');
    expect(tokens.claims()?.email).toBe(editor.email);
    expect(await sqlStatus(tokens.access_token)).toBe(200);

    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, editor.id);
    expect(userinfo.email).toBe(editor.email);
  });

  it('refuses a replayed code, a wrong verifier and a missing verifier', async () => {
    const config = await spaConfig();
    const first = await pkceRequest(config);
    const returned = await signInAndReturn(first.url);
    const checks = { pkceCodeVerifier: first.verifier, expectedState: first.state };
    await oidc.authorizationCodeGrant(config, returned, checks);
    await expect(oidc.authorizationCodeGrant(config, returned, checks)).rejects.toMatchObject({
      error: 'invalid_grant',
    });

    const second = await pkceRequest(config);
    const again = await signInAndReturn(second.url);
    await expect(
      oidc.authorizationCodeGrant(config, again, {
        pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
        expectedState: second.state,
      }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });

    const code = again.searchParams.get('code')!;
    const response = await fetch(`${server.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: spa.client_id,
        code,
        redirect_uri: `${appOrigin}/callback`,
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/invalid_(grant|request)/);
  });

  it('never redirects to a callback URL the application did not allow', async () => {
    const config = await spaConfig();
    const { url } = await pkceRequest(config);
    url.searchParams.set('redirect_uri', 'http://127.0.0.1:9/elsewhere');
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('redirect_uri');
  });

  it('refuses a public client without PKCE', async () => {
    const url = new URL(`${server.baseUrl}/authorize`);
    url.search = new URLSearchParams({
      client_id: spa.client_id,
      response_type: 'code',
      redirect_uri: `${appOrigin}/callback`,
      scope: 'openid',
      state: 'xyz',
    }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    const location = new URL(response.headers.get('location') ?? '', server.baseUrl);
    expect(location.origin).toBe(appOrigin);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('state')).toBe('xyz');
  });

  it('runs the code flow of a regular web application with its client secret', async () => {
    const config = await oidc.discovery(
      new URL(server.baseUrl),
      web.client_id,
      undefined,
      oidc.ClientSecretPost(web.client_secret!),
      insecure,
    );
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${appOrigin}/callback`,
      scope: 'openid email',
      audience: 'carto-cloud-native-api',
      state,
    });
    const returned = await signInAndReturn(url);
    const tokens = await oidc.authorizationCodeGrant(config, returned, {
      expectedState: state,
      idTokenExpected: true,
    });
    expect(await sqlStatus(tokens.access_token)).toBe(200);

    const wrongSecret = await oidc.discovery(
      new URL(server.baseUrl),
      web.client_id,
      undefined,
      oidc.ClientSecretPost('not-the-secret'),
      insecure,
    );
    const second = await signInAndReturn(
      oidc.buildAuthorizationUrl(wrongSecret, {
        redirect_uri: `${appOrigin}/callback`,
        scope: 'openid',
        state,
      }),
    );
    await expect(
      oidc.authorizationCodeGrant(wrongSecret, second, { expectedState: state }),
    ).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('shows a wrong password on the page and signs nobody in', async () => {
    const config = await spaConfig();
    const { url } = await pkceRequest(config);
    const context = await browser.newContext();
    const page: Page = await context.newPage();
    await page.goto(url.href);
    await signIn(page, editor.email, 'not the password at all');
    expect(await alertText(page)).toContain('Wrong e-mail or password');
    expect(page.url()).toContain('/login/');
    await context.close();
  });

  it('pauses sign-ins after repeated failures, with Retry-After', async () => {
    const user = await createUser(server.baseUrl, adminToken, {
      email: uniqueEmail('locked'),
      name: 'Lou Locked',
      role: 'viewer',
      password: PASSWORD,
    });
    const config = await spaConfig();
    const { url } = await pkceRequest(config);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url.href);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await signIn(page, user.email, `wrong password ${attempt}`);
      expect(await alertText(page)).toBeTruthy();
    }
    const locked = page.waitForResponse((response) => response.request().method() === 'POST');
    await signIn(page, user.email, PASSWORD);
    const response = await locked;
    expect(response.status()).toBe(429);
    expect(Number(response.headers()['retry-after'])).toBeGreaterThan(0);
    expect(await alertText(page)).toContain('Too many failed sign-ins');
    await context.close();

    const audit = await fetch(`${server.baseUrl}/v3/account/audit?event=login.failed`, {
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    const events = (await audit.json()) as { data?: unknown[] } | unknown[];
    expect(JSON.stringify(events)).toContain(user.id);
    expect(JSON.stringify(events)).not.toContain('wrong password');
  });

  it('logs out through /v2/logout only to an allowed URL, and the session ends', async () => {
    const config = await spaConfig();
    const { url } = await pkceRequest(config);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url.href);
    await signIn(page, editor.email, PASSWORD);
    await page.waitForURL((url) => url.origin === appOrigin);

    const refused = await page.goto(logoutUrl('https://evil.example/'));
    expect(refused?.status()).toBe(400);

    await page.goto(logoutUrl(`${appOrigin}/bye`));
    await page.waitForURL((url) => url.href.startsWith(`${appOrigin}/bye`));

    // Signed out: a silent request now needs a login.
    const silent = await pkceRequest(config);
    silent.url.searchParams.set('prompt', 'none');
    await page.goto(silent.url.href);
    await page.waitForURL((url) => url.href.startsWith(`${appOrigin}/callback`));
    expect(new URL(page.url()).searchParams.get('error')).toBe('login_required');
    await context.close();
  });

  it("asks a disabled user's browser to sign in again instead of reusing the session", async () => {
    const user = await createUser(server.baseUrl, adminToken, {
      email: uniqueEmail('disabled'),
      name: 'Dee Disabled',
      role: 'editor',
      password: PASSWORD,
    });
    const config = await spaConfig();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto((await pkceRequest(config)).url.href);
    await signIn(page, user.email, PASSWORD);
    await page.waitForURL((url) => url.origin === appOrigin);

    const disabled = await fetch(`${server.baseUrl}/v3/account/users/${user.id}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ disabled: true }),
    });
    expect(disabled.status).toBe(200);

    const silent = await pkceRequest(config);
    silent.url.searchParams.set('prompt', 'none');
    await page.goto(silent.url.href);
    await page.waitForURL((url) => url.origin === appOrigin);
    expect(new URL(page.url()).searchParams.get('error')).toBe('login_required');

    const again = await page.goto((await pkceRequest(config)).url.href);
    expect(again?.status()).toBe(200);
    expect(page.url()).toContain('/login/');
    await context.close();
  });

  it('gives client credentials to a Basic-configured machine, and only by Basic', async () => {
    const machine = await createApplication(server.baseUrl, adminToken, {
      name: 'Basic machine',
      type: 'machine_to_machine',
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const basic = await oidc.discovery(
      new URL(server.baseUrl),
      machine.client_id,
      undefined,
      oidc.ClientSecretBasic(machine.client_secret!),
      insecure,
    );
    const tokens = await oidc.clientCredentialsGrant(basic, {
      audience: 'carto-cloud-native-api',
    });
    expect(decodeJwt(tokens.access_token).gty).toBe('client-credentials');
    expect(await sqlStatus(tokens.access_token)).toBe(200);

    const post = await oidc.discovery(
      new URL(server.baseUrl),
      machine.client_id,
      undefined,
      oidc.ClientSecretPost(machine.client_secret!),
      insecure,
    );
    await expect(oidc.clientCredentialsGrant(post, {})).rejects.toMatchObject({
      status: 401,
    });
  });

  it('refuses forged tokens: alg none, HS256 with the public key, a foreign key', async () => {
    const jwks = (await (await fetch(`${server.baseUrl}/.well-known/jwks.json`)).json()) as {
      keys: Record<string, string>[];
    };
    const good = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    const claims = decodeJwt(good);
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
    expect(await sqlStatus(unsigned)).toBe(401);

    const publicKeyAsSecret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    const confused = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: jwks.keys[0]!.kid! })
      .sign(publicKeyAsSecret);
    expect(await sqlStatus(confused)).toBe(401);

    // Signed by a key of our own making that claims the server's key id.
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const impostor = await new SignJWT({ ...claims, iat: now, exp: now + 600 })
      .setProtectedHeader({ alg: 'RS256', kid: jwks.keys[0]!.kid! })
      .sign(privateKey);
    expect(await sqlStatus(impostor)).toBe(401);
  });

  it('keeps old tokens verifying after a key rotation, until the old key is removed', async () => {
    const before = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    const oldKid = decodeProtectedHeader(before).kid;
    const env = { ...process.env, GRATICULE_DATA_DIR: server.dataDir, GRATICULE_LOG_LEVEL: 'warn' };
    await run(process.execPath, [path.join(ROOT, 'dist/main.js'), 'keys', 'rotate', '--json'], {
      env,
    });

    let after = before;
    const deadline = Date.now() + 20_000;
    while (decodeProtectedHeader(after).kid === oldKid && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      after = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    }
    expect(decodeProtectedHeader(after).kid).not.toBe(oldKid);
    expect(await sqlStatus(before)).toBe(200);
    expect(await sqlStatus(after)).toBe(200);
    const published = (await (await fetch(`${server.baseUrl}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    expect(published.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([oldKid]));

    // Rotating again and keeping no retired key removes the first one: its tokens stop working.
    await run(
      process.execPath,
      [path.join(ROOT, 'dist/main.js'), 'keys', 'rotate', '--keep-retired', '0', '--json'],
      { env },
    );
    const removedDeadline = Date.now() + 20_000;
    let status = await sqlStatus(before);
    while (status === 200 && Date.now() < removedDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      status = await sqlStatus(before);
    }
    expect(status).toBe(401);
  });
});
