/**
 * CARTO's single-page app templates sign in with Auth0's SPA SDK; pointed at Graticule, that
 * SDK must sign in, renew silently, call the API and sign out, unchanged.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fetchToken } from './support/api.js';
import { describeWithBrowser, launchBrowser, openWatchedPage } from './support/browser.js';
import { createApplication, createUser, signIn, uniqueEmail } from './support/identity.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

const require = createRequire(import.meta.url);
const SDK = readFileSync(require.resolve('@auth0/auth0-spa-js/dist/auth0-spa-js.production.js'));
const PASSWORD = 'a long enough sign-in password';

/** The scopes CARTO's React template asks for. */
const CARTO_SCOPES =
  'read:current_user update:current_user read:connections write:connections read:maps ' +
  'write:maps read:account admin:account';

let server: ServerProcess;
let browser: Browser;
let appServer: Server;
let appOrigin: string;
let clientId: string;
let email: string;

/** The app: the SDK configured as CARTO's template does, and nothing else. */
function appPage(): string {
  const settings = {
    domain: server.baseUrl,
    clientId,
    authorizationParams: {
      redirect_uri: appOrigin,
      audience: 'carto-cloud-native-api',
      scope: CARTO_SCOPES,
    },
    cacheLocation: 'localstorage',
  };
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>SPA</title>
<script src="/auth0-spa-js.js"></script></head><body><p>app</p><script>
window.appReady = (async () => {
  const client = await auth0.createAuth0Client(${JSON.stringify(settings)});
  window.client = client;
  if (location.search.includes('code=')) {
    await client.handleRedirectCallback();
    history.replaceState({}, '', '/');
  }
  return true;
})();
</script></body></html>`;
}

async function appState(page: Page) {
  return page.evaluate(async () => {
    const app = globalThis as any;
    await app.appReady;
    return {
      authenticated: (await app.client.isAuthenticated()) as boolean,
      user: (await app.client.getUser()) as Record<string, string> | undefined,
    };
  });
}

describeWithBrowser('Auth0 SPA SDK against Graticule', () => {
  beforeAll(async () => {
    server = await startServerProcess({ loadDemoData: false });
    browser = await launchBrowser();
    appServer = createServer((request, response) => {
      if (request.url === '/auth0-spa-js.js') {
        response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(SDK);
        return;
      }
      response.writeHead(200, { 'Content-Type': 'text/html' }).end(appPage());
    });
    await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
    appOrigin = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`;

    const adminToken = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    email = uniqueEmail('spa-user');
    await createUser(server.baseUrl, adminToken, {
      email,
      name: 'Sam Spa',
      role: 'editor',
      password: PASSWORD,
    });
    // As CARTO's SPA form does with "use default URLs": the app URL is the callback, the
    // logout URL and the web origin.
    const app = await createApplication(server.baseUrl, adminToken, {
      name: 'CARTO for React app',
      type: 'single_page',
      url: appOrigin,
    });
    clientId = app.client_id;
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    appServer?.close();
  });

  it('signs in, renews silently, calls the SQL API and signs out', async () => {
    const context = await browser.newContext();
    const { page, report } = await openWatchedPage(context);
    await page.goto(appOrigin);
    expect((await appState(page)).authenticated).toBe(false);

    // Redirect sign-in with PKCE through Graticule's sign-in page.
    await page.evaluate(() => (globalThis as any).client.loginWithRedirect());
    await page.waitForURL((url) => url.href.startsWith(`${server.baseUrl}/login/`));
    await signIn(page, email, PASSWORD);
    await page.waitForURL((url) => url.origin === appOrigin && !url.search.includes('code='));
    const signedIn = await appState(page);
    expect(signedIn.authenticated).toBe(true);
    // CARTO's scopes hold no `email`: the user is known by CARTO's own claims, as with Auth0.
    expect(signedIn.user?.['http://app.carto.com/email']).toBe(email);
    expect(signedIn.user?.['http://app.carto.com/account_id']).toMatch(/^ac_/);

    // Silent renewal in a hidden iframe (prompt=none, response_mode=web_message).
    const tokens = await page.evaluate(async () => {
      const client = (globalThis as any).client;
      const first = (await client.getTokenSilently()) as string;
      const renewed = (await client.getTokenSilently({ cacheMode: 'off' })) as string;
      return { first, renewed };
    });
    expect(tokens.renewed).not.toBe(tokens.first);
    const claims = JSON.parse(Buffer.from(tokens.renewed.split('.')[1]!, 'base64url').toString());
    expect(claims.aud).toContain('carto-cloud-native-api');
    expect(claims['http://app.carto.com/email']).toBe(email);
    expect(report.requests.some((url) => url.includes('response_mode=web_message'))).toBe(true);

    // The token works on the API, called from the app's origin (CORS).
    const sql = await page.evaluate(
      async ({ base, token }) => {
        const response = await fetch(`${base}/v3/sql/carto_dw/query?q=SELECT%2042%20AS%20n`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        return { status: response.status, body: await response.json() };
      },
      { base: server.baseUrl, token: tokens.renewed },
    );
    expect(sql.status).toBe(200);
    expect((sql.body as { rows: unknown }).rows).toEqual([{ n: 42 }]);

    // /userinfo answers the API token, as Auth0's does.
    const userinfo = await page.evaluate(
      async ({ base, token }) => {
        const response = await fetch(`${base}/userinfo`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        return { status: response.status, body: await response.json() };
      },
      { base: server.baseUrl, token: tokens.renewed },
    );
    expect(userinfo).toMatchObject({ status: 200, body: { email } });

    // Sign out through /v2/logout back to the app; silent renewal then needs a login.
    const leaving = page.waitForURL((url) => url.href.startsWith(`${server.baseUrl}/`));
    await page.evaluate(() => {
      const app = globalThis as any;
      void app.client.logout({ logoutParams: { returnTo: app.location.origin } });
    });
    await leaving;
    await page.waitForURL((url) => url.origin === appOrigin);
    await page.waitForLoadState('load');
    expect(report.requests.some((url) => url.startsWith(`${server.baseUrl}/v2/logout?`))).toBe(
      true,
    );
    const afterLogout = await page.evaluate(async () => {
      const app = globalThis as any;
      await app.appReady;
      try {
        await app.client.getTokenSilently({ cacheMode: 'off' });
        return 'renewed';
      } catch (error) {
        return (error as { error?: string }).error ?? String(error);
      }
    });
    expect(afterLogout).toBe('login_required');
    expect((await appState(page)).authenticated).toBe(false);
    expect(report.pageErrors).toEqual([]);
    await context.close();
  });
});
