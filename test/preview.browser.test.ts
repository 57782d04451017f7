import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import {
  countPixels,
  decodePng,
  describeWithBrowser,
  launchBrowser,
  openWatchedPage,
  type Box,
  type PageReport,
} from './support/browser.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/**
 * Screenshots go to docs/images with `GRATICULE_UPDATE_SCREENSHOTS=1`, and to a temporary
 * directory otherwise, so a test run leaves the working tree as it was.
 */
const SCREENSHOT_DIR =
  process.env['GRATICULE_UPDATE_SCREENSHOTS'] === '1'
    ? path.join(ROOT, 'docs/images')
    : path.join(os.tmpdir(), 'graticule-preview-screenshots');
const VIEWPORT = { width: 800, height: 500 };
const LOAD_TIMEOUT_MS = 90_000;

/** The source's orange (preview.js SOURCE_FILL / SOURCE_LINE) over any background. */
const isSourceColour = (r: number, g: number, b: number) => r - b > 90 && r - g > 40;
/** The base layer's land colour (preview.js LAND_FILL). */
const isLandColour = (r: number, g: number, b: number) =>
  Math.abs(r - 246) <= 3 && Math.abs(g - 244) <= 3 && Math.abs(b - 238) <= 3;

describe('map preview page over HTTP', () => {
  const { baseUrl } = sharedServer();

  it('serves the page without a token, with a strict Content-Security-Policy', async () => {
    const response = await fetch(`${baseUrl}/preview?connection=carto_dw&name=x`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toContain('unsafe-inline');
    const html = await response.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toMatch(/<title>[^<]+<\/title>/);
    expect(html).toMatch(/<label for="token-input">/);

    const etag = response.headers.get('etag')!;
    const revalidated = await fetch(`${baseUrl}/preview`, { headers: { 'If-None-Match': etag } });
    expect(revalidated.status).toBe(304);
  });

  it("serves deck.gl's bundles as versioned, long-cached scripts", async () => {
    const html = await (await fetch(`${baseUrl}/preview`)).text();
    const scripts = [...html.matchAll(/src="(\/preview\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.map((src) => src.replace(/\?v=.*/, ''))).toEqual([
      '/preview/assets/h3.js',
      '/preview/assets/deck-core.js',
      '/preview/assets/deck-compat.js',
      '/preview/assets/deck-layers.js',
      '/preview/assets/deck-extensions.js',
      '/preview/assets/deck-aggregation-layers.js',
      '/preview/assets/deck-mesh-layers.js',
      '/preview/assets/deck-geo-layers.js',
      '/preview/assets/deck-carto.js',
      '/preview/assets/preview.js',
    ]);
    expect(scripts.every((src) => /\?v=[\w-]{16}$/.test(src))).toBe(true);

    const coreScript = scripts.find((src) => src.startsWith('/preview/assets/deck-core.js?'));
    const core = await fetch(`${baseUrl}${coreScript}`);
    expect(core.status).toBe(200);
    expect(core.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(core.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // The UMD bundle that sets the global `deck` (compared without printing 850 kB on failure).
    expect((await core.text()).includes("root['deck'] = factory()")).toBe(true);
  });

  it('answers an unknown asset with 404 and the JSON error shape', async () => {
    const response = await fetch(`${baseUrl}/preview/assets/..%2Fpackage.json`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ status: 404, code: 'route_not_found' });
  });
});

interface PreviewState {
  status: string;
  error: string | null;
  tilesWithData: number;
  basemap: string;
}

/** Waits until the page has drawn its source or given up, and answers its state. */
async function waitForPreview(page: Page): Promise<PreviewState> {
  await page.waitForFunction(
    () => ['loaded', 'error'].includes((globalThis as any).__previewState?.status),
    null,
    { timeout: LOAD_TIMEOUT_MS },
  );
  return page.evaluate(() => ({ ...(globalThis as any).__previewState }) as PreviewState);
}

/** The preview panel's box, which the pixel counts leave out. */
async function panelBox(page: Page): Promise<Box> {
  const box = await page.locator('.panel').boundingBox();
  if (!box) throw new Error('the preview panel is not visible');
  return {
    x: Math.floor(box.x),
    y: Math.floor(box.y),
    width: Math.ceil(box.width) + 1,
    height: Math.ceil(box.height) + 1,
  };
}

describeWithBrowser('map preview page in Chromium', () => {
  const { baseUrl, clientId, clientSecret } = sharedServer();
  let browser: Browser;
  let context: BrowserContext;
  let token: string;

  beforeAll(async () => {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    [browser, token] = await Promise.all([
      launchBrowser(),
      fetchToken(baseUrl, clientId, clientSecret),
    ]);
    context = await browser.newContext({ viewport: VIEWPORT });
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Only the Graticule server, and the page's own data: and blob: URLs. */
  function expectNoOtherHosts(report: PageReport) {
    const elsewhere = report.requests.filter(
      (url) => !url.startsWith(`${baseUrl}/`) && !/^(data|blob):/.test(url),
    );
    expect(elsewhere).toEqual([]);
  }

  /**
   * The long.js library inside deck.gl's geo-layers probes for WebAssembly in a try/catch and
   * falls back to JavaScript; the page's policy blocks that probe and nothing else.
   */
  function expectOnlyTheWasmProbeBlocked(report: PageReport) {
    const others = report.cspViolations.filter(
      (text) => !/^script-src wasm-eval .*deck-geo-layers\.js/.test(text),
    );
    expect(others).toEqual([]);
  }

  /**
   * Draws a source, with the token in the address's fragment or typed into the page's form,
   * then takes a screenshot (saved under `screenshotName`, if given) and counts its pixels.
   */
  async function drawSource(
    query: string,
    screenshotName: string | null,
    tokenVia: 'fragment' | 'form' = 'fragment',
  ) {
    const { page, report } = await openWatchedPage(context);
    try {
      if (tokenVia === 'form') {
        await page.goto(`${baseUrl}/preview?${query}`);
        await page.waitForFunction(
          () => (globalThis as any).__previewState?.status === 'needs_token',
        );
        await page.getByLabel('Access token').fill(token);
        await page.getByRole('button', { name: 'Show the map' }).click();
      } else {
        await page.goto(`${baseUrl}/preview?${query}#access_token=${token}`);
      }
      const state = await waitForPreview(page);
      const png = await page.screenshot();
      if (screenshotName) {
        writeFileSync(path.join(SCREENSHOT_DIR, `preview-${screenshotName}.png`), png);
      }
      const pixels = await decodePng(context, png);
      const panel = await panelBox(page);
      return {
        state,
        report,
        statusText: await page.locator('#status').textContent(),
        tokenFormHidden: await page.locator('#token-form').isHidden(),
        sourcePixels: countPixels(pixels, isSourceColour, [panel]),
        landPixels: countPixels(pixels, isLandColour, [panel]),
        mapPixels: pixels.width * pixels.height - panel.width * panel.height,
      };
    } finally {
      await page.close();
    }
  }

  it('draws a polygon table (demo.countries) and fits the world', async () => {
    const drawn = await drawSource('connection=carto_dw&name=demo.countries', 'countries');

    expect(drawn.state).toMatchObject({ status: 'loaded', error: null, basemap: 'countries' });
    expect(drawn.state.tilesWithData).toBeGreaterThan(0);
    expect(drawn.statusText).toBe('Loaded.');
    expect(drawn.report.consoleErrors).toEqual([]);
    expect(drawn.report.pageErrors).toEqual([]);
    expectOnlyTheWasmProbeBlocked(drawn.report);
    expectNoOtherHosts(drawn.report);
    // Countries cover much of a world map; the source's colour must too.
    expect(drawn.sourcePixels / drawn.mapPixels).toBeGreaterThan(0.15);
  });

  it('draws a point table (demo.populated_places)', async () => {
    const drawn = await drawSource(
      'connection=carto_dw&name=demo.populated_places',
      'populated-places',
    );

    expect(drawn.state).toMatchObject({ status: 'loaded', error: null });
    expect(drawn.state.tilesWithData).toBeGreaterThan(0);
    expect(drawn.report.consoleErrors).toEqual([]);
    expect(drawn.report.pageErrors).toEqual([]);
    expectOnlyTheWasmProbeBlocked(drawn.report);
    expectNoOtherHosts(drawn.report);
    expect(drawn.sourcePixels).toBeGreaterThan(2000);
    expect(drawn.landPixels).toBeGreaterThan(2000);
  });

  it('draws a query source, with the token typed into the labelled form', async () => {
    const sql =
      'SELECT name, population, geom FROM demo.populated_places WHERE population > 1000000';
    const drawn = await drawSource(
      `connection=carto_dw&q=${encodeURIComponent(sql)}`,
      'query-large-cities',
      'form',
    );

    expect(drawn.state).toMatchObject({ status: 'loaded', error: null });
    expect(drawn.state.tilesWithData).toBeGreaterThan(0);
    expect(drawn.tokenFormHidden).toBe(true);
    expect(drawn.report.consoleErrors).toEqual([]);
    expect(drawn.report.pageErrors).toEqual([]);
    expectNoOtherHosts(drawn.report);
    // The token travelled in headers only, never in a URL.
    expect(drawn.report.requests.filter((url) => url.includes(token))).toEqual([]);
    expect(drawn.sourcePixels).toBeGreaterThan(2000);
  });

  it('draws the base layer but no source colour for a source without rows', async () => {
    const sql = 'SELECT geom FROM demo.countries WHERE false';
    const drawn = await drawSource(`connection=carto_dw&q=${encodeURIComponent(sql)}`, null);

    expect(drawn.state).toMatchObject({ status: 'loaded', error: null, tilesWithData: 0 });
    expect(drawn.statusText).toBe('Loaded: nothing to draw in this view.');
    expect(drawn.report.consoleErrors).toEqual([]);
    expect(drawn.landPixels).toBeGreaterThan(2000);
    expect(drawn.sourcePixels).toBe(0);
  });

  it('shows what is missing when the address names no source', async () => {
    const { page, report } = await openWatchedPage(context);
    try {
      await page.goto(`${baseUrl}/preview?connection=carto_dw#access_token=${token}`);
      const state = await waitForPreview(page);

      expect(state.status).toBe('error');
      const error = page.getByRole('alert');
      expect(await error.isVisible()).toBe(true);
      expect(await error.textContent()).toBe(
        "Missing parameter 'name' (a table) or 'q' (a SQL query).",
      );
      // Nothing was asked of the API.
      expect(report.requests.filter((url) => url.includes('/v3/'))).toEqual([]);
      expect(report.pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows the missing connection and a source given twice', async () => {
    const { page } = await openWatchedPage(context);
    try {
      await page.goto(`${baseUrl}/preview?name=demo.countries&q=SELECT%201`);
      const state = await waitForPreview(page);

      expect(state.status).toBe('error');
      expect(state.error).toBe(
        "Missing parameter 'connection': the connection's name.\n" +
          "Give either 'name' or 'q', not both.",
      );
      expect(await page.getByRole('alert').isVisible()).toBe(true);
    } finally {
      await page.close();
    }
  });

  it("shows the API's error for an invalid token", async () => {
    // A context of its own: Chromium's HTTP cache would otherwise answer the source's calls
    // with what an earlier test's valid token fetched.
    const freshContext = await browser.newContext({ viewport: VIEWPORT });
    const { page, report } = await openWatchedPage(freshContext);
    try {
      await page.goto(`${baseUrl}/preview?connection=carto_dw&name=demo.countries#access_token=x`);
      const state = await waitForPreview(page);

      expect(state.status).toBe('error');
      const text = await page.getByRole('alert').textContent();
      expect(text).toMatch(/^Map instantiation request failed \(401\): Invalid token: /);
      expect(report.pageErrors).toEqual([]);
      // The browser reports the refused calls themselves, and nothing else.
      expect(report.consoleErrors.length).toBeGreaterThan(0);
      for (const message of report.consoleErrors) expect(message).toMatch(/status of 401/);
    } finally {
      await freshContext.close();
    }
  });

  it("shows the API's error for a table that does not exist", async () => {
    const { page } = await openWatchedPage(context);
    try {
      await page.goto(
        `${baseUrl}/preview?connection=carto_dw&name=demo.no_such_table&basemap=none` +
          `#access_token=${token}`,
      );
      const state = await waitForPreview(page);

      expect(state.status).toBe('error');
      expect(await page.getByRole('alert').textContent()).toBe(
        "Map instantiation request failed (404): Table 'demo.no_such_table' not found",
      );
    } finally {
      await page.close();
    }
  });
});
