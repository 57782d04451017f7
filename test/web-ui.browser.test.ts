/**
 * The web console (`/ui/`) end to end: headless Chromium signs in through the real sign-in
 * page and drives the Developers section, the SQL console, the data explorer and the
 * connections page against a server of its own (demo data loaded), checking the effects
 * through the API. Screenshots of the main views go to docs/images/ui-*.png on every run.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Frame, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, inject, it } from 'vitest';
import { fetchToken } from './support/api.js';
import {
  describeWithBrowser,
  launchBrowser,
  openWatchedPage,
  type PageReport,
} from './support/browser.js';
import { createUser, signIn, uniqueEmail } from './support/identity.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCREENSHOT_DIR = path.join(ROOT, 'docs/images');
const VIEWPORT = { width: 1280, height: 800 };
const PASSWORD = 'correct horse battery staple';
const MAP_TIMEOUT_MS = 90_000;

let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let report: PageReport;
let adminToken: string;
let editor: { id: string; email: string };
/** Console errors the current test provokes on purpose (a refused request logs one each). */
let expectedErrors: RegExp[] = [];
/** The API access token the console created, to check it never travels in a URL. */
let createdApiToken = '';

interface ApplicationBody {
  client_id: string;
  name: string;
  type: string;
  token_endpoint_auth_method: string;
  callback_urls: string[];
  logout_urls: string[];
  web_origins: string[];
}

async function api<T>(urlPath: string, token = adminToken): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.baseUrl}${urlPath}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function applicationsNamed(name: string): Promise<ApplicationBody[]> {
  const { body } = await api<{ data: ApplicationBody[] }>('/v3/applications');
  return body.data.filter((application) => application.name === name);
}

/** A client-credentials token request; answers the status. */
async function tokenStatus(clientId: string, clientSecret: string): Promise<number> {
  const response = await fetch(`${server.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      audience: 'carto-cloud-native-api',
    }),
  });
  await response.arrayBuffer();
  return response.status;
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `ui-${name}.png`) });
}

/** Whether the element has focus (the page's focus did not fall to <body> or elsewhere). */
const hasFocus = (locator: Locator) =>
  locator.evaluate((element) => element === (globalThis as any).document.activeElement);

/** The page's focused element's tag name. */
const focusedTag = () =>
  page.evaluate(() => (globalThis as any).document.activeElement?.tagName as string | undefined);

/** Focus moved to the list's "+ Create new" button (the form or panel that had it is gone). */
async function expectFocusOnCreate() {
  await expect.poll(focusedTag).not.toBe('BODY');
  await expect.poll(() => hasFocus(page.getByRole('button', { name: '+ Create new' }))).toBe(true);
}

/** Whether the page is wider than the window (it scrolls sideways). */
const pageWidth = () =>
  page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number);

const readClipboard = () =>
  page.evaluate(() => (globalThis as any).navigator.clipboard.readText() as Promise<string>);

/** The console's framed map preview, once its page has loaded. */
async function previewFrame(): Promise<Frame> {
  const handle = await page.locator('iframe.map-frame').elementHandle();
  const frame = await handle?.contentFrame();
  if (!frame) throw new Error('no map preview frame');
  return frame;
}

async function waitForMap(frame: Frame) {
  await frame.waitForFunction(
    () => ['loaded', 'error'].includes((globalThis as any).__previewState?.status),
    null,
    { timeout: MAP_TIMEOUT_MS },
  );
  return frame.evaluate(() => (globalThis as any).__previewState as Record<string, unknown>);
}

/** What the page logged that no test step asked for. */
function unexpectedProblems(watched: PageReport): string[] {
  const allowed = [...expectedErrors];
  const errors = watched.consoleErrors.filter((text) => {
    const index = allowed.findIndex((pattern) => pattern.test(text));
    if (index < 0) return true;
    allowed.splice(index, 1);
    return false;
  });
  // deck.gl's geo-layers bundle probes WebAssembly once; the preview's policy refuses it.
  const violations = watched.cspViolations.filter(
    (text) => !/^script-src wasm-eval .*deck-geo-layers\.js/.test(text),
  );
  return [...errors, ...watched.pageErrors, ...violations];
}

describeWithBrowser('the web console', () => {
  beforeAll(async () => {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    server = await startServerProcess({ loadDemoData: true });
    browser = await launchBrowser();
    adminToken = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    editor = await createUser(server.baseUrl, adminToken, {
      email: uniqueEmail('console-editor'),
      name: 'Edith Editor',
      role: 'editor',
      password: PASSWORD,
    });
    context = await browser.newContext({ viewport: VIEWPORT });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: server.baseUrl,
    });
    ({ page, report } = await openWatchedPage(context));
  }, 300_000);

  afterEach(() => {
    expect(unexpectedProblems(report)).toEqual([]);
    report.consoleErrors.length = 0;
    report.cspViolations.length = 0;
    expectedErrors = [];
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('serves the console with a strict policy, long-cached assets, and / leads to it', async () => {
    const root = await fetch(`${server.baseUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui/');

    const response = await fetch(`${server.baseUrl}/ui/developers/spa`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain('unsafe');
    const html = await response.text();
    const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();

    const asset = await fetch(`${server.baseUrl}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    const missing = await fetch(`${server.baseUrl}/ui/assets/missing-0000.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ status: 404, code: 'route_not_found' });

    const preview = await fetch(`${server.baseUrl}/ui/preview?connection=carto_dw&name=x`);
    expect(preview.status).toBe(200);
    expect(preview.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
    expect(preview.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it('signs in through the sign-in page and shows who is signed in, with their role', async () => {
    await page.goto(`${server.baseUrl}/ui/`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/login\//);
    await signIn(page, editor.email, PASSWORD);
    await page.waitForURL(/\/ui\/developers/);

    await expect.poll(() => page.locator('.user-name').textContent()).toBe('Edith Editor');
    // The role's name is read out with a "Role:" prefix that only screen readers get.
    expect(await page.locator('.role-badge').textContent()).toBe('Role: Editor');
    const stored = await page.evaluate(() =>
      (globalThis as any).sessionStorage.getItem('graticule.console.token'),
    );
    expect(JSON.parse(stored ?? '{}').accessToken).toMatch(/^ey/);

    // The tabs are one tab stop; arrow keys move between them.
    const tokensTab = page.getByRole('tab', { name: 'API Access Tokens' });
    await tokensTab.focus();
    await page.keyboard.press('ArrowRight');
    const spaTab = page.getByRole('tab', { name: 'SPA OAuth Clients' });
    expect(await spaTab.getAttribute('aria-selected')).toBe('true');
    expect(
      await spaTab.evaluate((element) => element === (globalThis as any).document.activeElement),
    ).toBe(true);
    await page.waitForURL(/\/ui\/developers\/spa$/);
    await page.keyboard.press('ArrowLeft');
    expect(await tokensTab.getAttribute('aria-selected')).toBe('true');
  });

  it('creates a single-page and a regular web client, checking the URLs first', async () => {
    await page.getByRole('tab', { name: 'SPA OAuth Clients' }).click();
    await page.getByRole('button', { name: '+ Create new' }).click();
    // The button is gone while the form is open: focus moves to the form's first field.
    await expect
      .poll(() => hasFocus(page.getByRole('textbox', { name: 'Name', exact: true })))
      .toBe(true);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expectFocusOnCreate();
    await page.getByRole('button', { name: '+ Create new' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Store locator');
    await page.getByLabel('Application URL').fill('http://localhost:5173/locator');
    await page.getByText('Advanced Settings').click();
    const callbacks = page.getByLabel('Allowed Callback URLs');
    await callbacks.fill('http://maps.example.com/callback');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByText('Line 1: http is allowed only for localhost').waitFor();
    expect(await callbacks.getAttribute('aria-invalid')).toBe('true');
    expect(await applicationsNamed('Store locator')).toEqual([]);

    await callbacks.fill('http://localhost:5173/callback\nhttps://maps.example.com/callback');
    expect(await callbacks.getAttribute('aria-invalid')).toBeNull();
    await page.getByLabel('Allowed Web Origins').fill('http://localhost:5173');
    await page.evaluate(() => (globalThis as any).document.activeElement?.blur());
    const form = page.getByRole('form', { name: 'New SPA OAuth client' });
    await form.evaluate((element) => element.scrollIntoView({ block: 'start' }));
    await screenshot('create-form');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'Store locator is created' }).waitFor();
    const [spa] = await applicationsNamed('Store locator');
    expect(spa).toMatchObject({
      type: 'single_page',
      token_endpoint_auth_method: 'none',
      callback_urls: ['http://localhost:5173/callback', 'https://maps.example.com/callback'],
      logout_urls: ['http://localhost:5173/locator'],
      web_origins: ['http://localhost:5173'],
    });
    await page.getByRole('button', { name: 'Copy client id', exact: true }).click();
    expect(await readClipboard()).toBe(spa!.client_id);
    await page.getByRole('button', { name: 'Done' }).click();
    await expectFocusOnCreate();
    await screenshot('developers-spa');

    await page.getByRole('tab', { name: 'Regular Web Clients' }).click();
    await page.getByRole('button', { name: '+ Create new' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Reports portal');
    await page.getByLabel('Application URL').fill('https://reports.example.com/');
    // A double click sends one request: the button is disabled while it is in flight.
    await page.getByRole('button', { name: 'Create', exact: true }).dblclick();
    await page.getByRole('heading', { name: 'Reports portal is created' }).waitFor();
    const webApps = await applicationsNamed('Reports portal');
    expect(webApps).toHaveLength(1);
    expect(webApps[0]).toMatchObject({
      type: 'regular_web',
      token_endpoint_auth_method: 'client_secret_post',
    });
    expect(await page.getByText('Copy the client secret now.').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Done' }).click();
    await screenshot('developers-web');
  });

  it('creates an M2M client whose copied credentials work, rotates and deletes it', async () => {
    await page.getByRole('tab', { name: 'M2M OAuth Clients' }).click();
    await page.getByRole('button', { name: '+ Create new' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Nightly export');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'Nightly export is created' }).waitFor();

    await page.getByRole('button', { name: 'Copy client id', exact: true }).click();
    const clientId = await readClipboard();
    await page.getByRole('button', { name: 'Copy client secret', exact: true }).click();
    const secret = await readClipboard();
    expect((await applicationsNamed('Nightly export'))[0]?.client_id).toBe(clientId);
    const machineToken = await fetchToken(server.baseUrl, clientId, secret);
    const connections = await api<{ data: { name: string }[] }>('/v3/connections', machineToken);
    expect(connections.status).toBe(200);
    expect(connections.body.data.map((connection) => connection.name)).toContain('carto_dw');
    await screenshot('developers-m2m');

    await page.getByRole('button', { name: 'Rotate secret of Nightly export' }).click();
    const rotateDialog = page.getByRole('dialog', { name: 'Rotate the client secret?' });
    await rotateDialog.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('heading', { name: 'New secret for Nightly export' }).waitFor();
    await page.getByRole('button', { name: 'Copy client secret', exact: true }).click();
    const newSecret = await readClipboard();
    expect(newSecret).not.toBe(secret);
    expect(await tokenStatus(clientId, secret)).toBe(401);
    expect(await tokenStatus(clientId, newSecret)).toBe(200);

    // Leaving the tab while the secret shows asks first; staying keeps the secret.
    await page.getByRole('tab', { name: 'API Access Tokens' }).click();
    const leave = page.getByRole('dialog', { name: 'Leave without the secret?' });
    await leave.getByRole('button', { name: 'Cancel' }).click();
    await leave.waitFor({ state: 'detached' });
    expect(
      await page.getByRole('tab', { name: 'M2M OAuth Clients' }).getAttribute('aria-selected'),
    ).toBe('true');
    expect(
      await page.getByRole('heading', { name: 'New secret for Nightly export' }).isVisible(),
    ).toBe(true);
    await page.getByRole('button', { name: 'Done' }).click();
    await expectFocusOnCreate();

    // Escape closes the confirmation without deleting; focus stays inside while it is open.
    const deleteButton = page.getByRole('button', { name: 'Delete Nightly export' });
    await deleteButton.click();
    const dialog = page.getByRole('dialog', { name: 'Delete Nightly export?' });
    await dialog.waitFor();
    for (let press = 0; press < 4; press += 1) {
      await page.keyboard.press('Tab');
      expect(
        await dialog.evaluate((element) =>
          element.contains((globalThis as any).document.activeElement),
        ),
      ).toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await applicationsNamed('Nightly export')).toHaveLength(1);

    await deleteButton.click();
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await deleteButton.waitFor({ state: 'detached' });
    // The row that opened the dialog is gone: focus goes back to the list's button.
    await expectFocusOnCreate();
    expect((await api(`/v3/applications/${clientId}`)).status).toBe(404);
    expect(await tokenStatus(clientId, newSecret)).toBe(401);
  });

  it('creates an API access token for demo.countries and draws it in the map preview', async () => {
    await page.getByRole('tab', { name: 'API Access Tokens' }).click();
    await page.getByRole('button', { name: '+ Create new' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('World countries');
    await page.getByLabel('demo.countries', { exact: true }).check();
    expect(await page.getByLabel('Maps API (maps)').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('heading', { name: 'Token World countries is created' }).waitFor();
    await page.getByRole('button', { name: 'Copy token', exact: true }).click();
    createdApiToken = await readClipboard();
    const { body: tokens } = await api<{ data: { name: string; grants: unknown[] }[] }>(
      '/v3/tokens',
      await signedInToken(),
    );
    expect(tokens.data.find((token) => token.name === 'World countries')).toMatchObject({
      grants: [{ connection_name: 'carto_dw', source: 'demo.countries' }],
      allowed_apis: ['maps'],
    });
    const maps = await api('/v3/maps/carto_dw/table?name=demo.countries', createdApiToken);
    expect(maps.status).toBe(200);

    const previewButton = page.getByRole('button', { name: 'Preview on a map with this token' });
    expect(await previewButton.getAttribute('aria-expanded')).toBe('false');
    await previewButton.click();
    expect(
      await page
        .getByRole('button', { name: 'Hide the map preview' })
        .getAttribute('aria-expanded'),
    ).toBe('true');
    const state = await waitForMap(await previewFrame());
    expect(state).toMatchObject({ status: 'loaded', error: null });
    expect(state.tilesWithData).toBeGreaterThan(0);
    await page.locator('iframe.map-frame').scrollIntoViewIfNeeded();
    await screenshot('map-preview');

    // "+ Create new" keeps the token on screen until its Done.
    await page.getByRole('button', { name: '+ Create new' }).click();
    expect(
      await page.getByRole('heading', { name: 'Token World countries is created' }).isVisible(),
    ).toBe(true);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expectFocusOnCreate();
    await page.getByRole('button', { name: 'Done' }).click();
    await expectFocusOnCreate();
    await screenshot('developers-tokens');

    // A name already taken: the server refuses, and its message is shown.
    expectedErrors.push(/status of 400/);
    await page.getByRole('button', { name: '+ Create new' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('World countries');
    await page.getByLabel('demo.countries', { exact: true }).check();
    await page.getByRole('button', { name: 'Create token' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'already have a token' });
    expect(await alert.textContent()).toBe(
      "Invalid parameter 'name': you already have a token named 'World countries'",
    );
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expectFocusOnCreate();
  });

  it('runs a query in the SQL console, and shows the server error of a bad one', async () => {
    await page.getByRole('link', { name: 'SQL console' }).click();
    const query = page.getByRole('textbox', { name: 'Query' });
    await query.fill('SELECT name, iso_n3 FROM demo.countries ORDER BY name LIMIT 5');
    await query.press('Control+Enter');
    await page.getByText(/^5 rows in \d+ ms$/).waitFor();
    const table = page.getByRole('region', { name: 'Result rows' });
    const headers = await table.locator('th').allTextContents();
    expect(headers).toEqual(['namestring', 'iso_n3string']);
    expect(await table.locator('tbody tr').count()).toBe(5);
    await screenshot('sql-console');

    expectedErrors.push(/status of 400/);
    await query.fill('SELECT no_such_column FROM demo.countries');
    await page.getByRole('button', { name: 'Run' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('column "no_such_column" does not exist');
  });

  it('browses the demo schema in the data explorer', async () => {
    await page.getByRole('link', { name: 'Data explorer' }).click();
    await page.getByRole('button', { name: 'demo', exact: true }).click();
    await page.getByRole('button', { name: /^us_states/ }).click();
    const rows = page.getByRole('region', { name: 'First rows of demo.us_states' });
    await rows.waitFor();
    expect(await rows.locator('tbody tr').count()).toBe(20);
    expect(await page.getByText('geometry', { exact: true }).count()).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Show on a map', expanded: false }).count()).toBe(
      1,
    );
    await screenshot('data-explorer');
  });

  it('adds, tests and deletes a PostgreSQL connection', async (test) => {
    const postgres = inject('postgres');
    if (!postgres) return test.skip('PostgreSQL is not installed');
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('button', { name: '+ Add connection' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('console-pg');
    await page.getByLabel('Host').fill(postgres.host);
    await page.getByLabel('Port', { exact: true }).fill(String(postgres.port));
    await page.getByLabel('Database').fill(postgres.database);
    await page.getByLabel('User name').fill(postgres.username);
    await page.getByLabel('Password').fill(postgres.password);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText(/^Test: connected in \d+ ms/).waitFor();
    await page.getByRole('button', { name: 'Save connection' }).click();
    await page.getByRole('button', { name: 'Test console-pg' }).click();
    await page.getByText(/^console-pg: connected in \d+ ms/).waitFor();

    await page.getByRole('button', { name: 'Delete console-pg' }).click();
    await page
      .getByRole('dialog', { name: 'Delete console-pg?' })
      .getByRole('button', { name: 'Delete', exact: true })
      .click();
    await page.getByRole('button', { name: 'Delete console-pg' }).waitFor({ state: 'detached' });
    expect((await api('/v3/connections/console-pg')).status).toBe(404);
  });

  it('keeps an unsaved form through a sign-in forced by a refused token', async () => {
    await page.getByRole('link', { name: 'Developers' }).click();
    await page.getByRole('tab', { name: 'SPA OAuth Clients' }).click();
    await page.getByRole('button', { name: '+ Create new' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Survives a sign-in');
    await page.getByText('Advanced Settings').click();
    await page.getByLabel('Allowed Callback URLs').fill('http://localhost:7000/cb');

    // The session ends: the token is no longer accepted and the sign-in cookies are gone.
    await page.evaluate(() => {
      const key = 'graticule.console.token';
      const stored = JSON.parse((globalThis as any).sessionStorage.getItem(key) ?? '{}');
      (globalThis as any).sessionStorage.setItem(
        key,
        JSON.stringify({ ...stored, accessToken: 'revoked', signedInAt: 0 }),
      );
    });
    await context.clearCookies();
    expectedErrors.push(/status of 401/);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.waitForURL(/\/login\//);
    await signIn(page, editor.email, PASSWORD);
    await page.waitForURL(/\/ui\/developers\/spa$/);

    await expect
      .poll(() => page.getByRole('textbox', { name: 'Name', exact: true }).inputValue())
      .toBe('Survives a sign-in');
    expect(await page.getByLabel('Allowed Callback URLs').inputValue()).toBe(
      'http://localhost:7000/cb',
    );
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'Survives a sign-in is created' }).waitFor();
    expect((await applicationsNamed('Survives a sign-in'))[0]?.callback_urls).toEqual([
      'http://localhost:7000/cb',
    ]);
  });

  it('asked nothing of other hosts and never put the API token in a URL', () => {
    const origin = new URL(server.baseUrl).origin;
    const elsewhere = report.requests.filter(
      (url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'),
    );
    expect(elsewhere).toEqual([]);
    expect(createdApiToken).not.toBe('');
    expect(report.requests.filter((url) => url.includes(createdApiToken))).toEqual([]);
  });

  it('fits long names at 1280 px and a 360 px wide screen without scrolling sideways', async () => {
    // 255 characters without a space, in the list and in the panel of its secret.
    const longName = `Ingest${'x'.repeat(249)}`;
    await page.goto(`${server.baseUrl}/ui/developers/m2m`);
    await page.getByRole('button', { name: '+ Create new' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill(longName);
    await page.getByLabel('Description').fill(`Reads${'y'.repeat(250)}`);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: `${longName} is created` }).waitFor();
    await page.getByRole('button', { name: `Delete ${longName}` }).waitFor();
    expect(await pageWidth()).toBeLessThanOrEqual(VIEWPORT.width);

    await page.setViewportSize({ width: 360, height: 740 });
    try {
      expect(await pageWidth()).toBeLessThanOrEqual(360);
      // Every tab and every row action is on screen, not behind a sideways scroll.
      for (const control of [
        page.getByRole('tab', { name: 'M2M OAuth Clients' }),
        page.getByRole('button', { name: `Delete ${longName}` }),
        page.getByRole('button', { name: `Rotate secret of ${longName}` }),
      ]) {
        const box = await control.boundingBox();
        expect(box && box.x + box.width).toBeLessThanOrEqual(360);
      }
      for (const section of [
        '/developers/tokens',
        '/developers/m2m',
        '/connections',
        '/explorer',
        '/sql',
      ]) {
        await page.goto(`${server.baseUrl}/ui${section}`);
        await page.locator('main h1').waitFor();
        if (section === '/developers/m2m') {
          await page.getByRole('button', { name: `Delete ${longName}` }).waitFor();
        }
        expect(await pageWidth(), section).toBeLessThanOrEqual(360);
      }
    } finally {
      await page.setViewportSize(VIEWPORT);
    }
  });

  it('signs out, ending the session on the server', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${server.baseUrl}/ui/`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // No session left to reuse: the sign-in page asks again.
    await page.waitForURL(/\/login\//);
    expect(
      await page.evaluate(() =>
        (globalThis as any).sessionStorage.getItem('graticule.console.token'),
      ),
    ).toBeNull();
  });

  it("hides what a Viewer's role cannot do", async () => {
    const viewer = await createUser(server.baseUrl, adminToken, {
      email: uniqueEmail('console-viewer'),
      name: 'Vic Viewer',
      role: 'viewer',
      password: PASSWORD,
    });
    const viewerContext = await browser.newContext({ viewport: VIEWPORT });
    try {
      const watched = await openWatchedPage(viewerContext);
      const viewerPage = watched.page;
      await viewerPage.goto(`${server.baseUrl}/ui/developers`);
      await viewerPage.getByRole('button', { name: 'Sign in' }).click();
      await signIn(viewerPage, viewer.email, PASSWORD);
      await viewerPage.getByText('Your role (Viewer) cannot manage tokens').waitFor();
      expect(await viewerPage.getByRole('button', { name: '+ Create new' }).count()).toBe(0);

      await viewerPage.getByRole('link', { name: 'Connections' }).click();
      await viewerPage.getByRole('cell', { name: 'carto_dw' }).waitFor();
      expect(await viewerPage.getByRole('button', { name: '+ Add connection' }).count()).toBe(0);
      await viewerPage.getByRole('link', { name: 'SQL console' }).click();
      await viewerPage.getByText('Your role (Viewer) cannot run SQL').waitFor();
      expect(await viewerPage.getByRole('textbox', { name: 'Query' }).count()).toBe(0);
      expect(unexpectedProblems(watched.report)).toEqual([]);
    } finally {
      await viewerContext.close();
    }
  });
});

/** The signed-in user's access token, as the console keeps it. */
async function signedInToken(): Promise<string> {
  const stored = await page.evaluate(() =>
    (globalThis as any).sessionStorage.getItem('graticule.console.token'),
  );
  return (JSON.parse(stored ?? '{}') as { accessToken: string }).accessToken;
}
