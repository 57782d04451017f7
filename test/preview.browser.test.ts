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
  type Pixels,
} from './support/browser.js';
import { pollUntil } from './support/postgres.js';

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
      '/preview/assets/preview-request.js',
      '/preview/assets/preview-style.js',
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

/** A step of the legend that rasters and boundaries are coloured with. */
interface LegendStep {
  color: [number, number, number, number];
  label: string;
}

interface PreviewState {
  status: string;
  error: string | null;
  tilesWithData: number;
  basemap: string;
  legend: { title: string; steps: LegendStep[] } | null;
}

/** A colour as drawn, give or take the rounding of blending and antialiasing. */
const isNear =
  ([red, green, blue]: number[]) =>
  (r: number, g: number, b: number) =>
    Math.abs(r - red!) <= 2 && Math.abs(g - green!) <= 2 && Math.abs(b - blue!) <= 2;

/** The smallest box holding every pixel outside `exclude` that `matches`; null for none. */
function boundingBox(
  pixels: Pixels,
  matches: (r: number, g: number, b: number) => boolean,
  exclude: Box,
): Box | null {
  let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let y = 0; y < pixels.height; y++) {
    for (let x = 0; x < pixels.width; x++) {
      const excluded =
        x >= exclude.x &&
        x < exclude.x + exclude.width &&
        y >= exclude.y &&
        y < exclude.y + exclude.height;
      const offset = (y * pixels.width + x) * 4;
      const rgba = pixels.rgba;
      if (excluded || !matches(rgba[offset]!, rgba[offset + 1]!, rgba[offset + 2]!)) continue;
      [left, top] = [Math.min(left, x), Math.min(top, y)];
      [right, bottom] = [Math.max(right, x), Math.max(bottom, y)];
    }
  }
  if (left === Infinity) return null;
  return { x: left, y: top, width: right - left + 1, height: bottom - top + 1 };
}

/**
 * The middle of a 9×9 square of `matches` pixels outside `exclude` (well inside a feature, away
 * from its edges), looking from the image's centre outwards; null when there is none.
 */
function findInside(
  pixels: Pixels,
  matches: (r: number, g: number, b: number) => boolean,
  exclude: Box[],
): { x: number; y: number } | null {
  const at = (x: number, y: number) => {
    const offset = (y * pixels.width + x) * 4;
    return matches(pixels.rgba[offset]!, pixels.rgba[offset + 1]!, pixels.rgba[offset + 2]!);
  };
  const isInside = (x: number, y: number) => {
    if (
      exclude.some(
        (b) => x >= b.x - 4 && x < b.x + b.width + 4 && y >= b.y - 4 && y < b.y + b.height + 4,
      )
    ) {
      return false;
    }
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) if (!at(x + dx, y + dy)) return false;
    }
    return true;
  };
  const centre = { x: Math.floor(pixels.width / 2), y: Math.floor(pixels.height / 2) };
  for (let radius = 0; radius < Math.max(pixels.width, pixels.height) / 2; radius += 3) {
    for (let y = centre.y - radius; y <= centre.y + radius; y += 3) {
      for (let x = centre.x - radius; x <= centre.x + radius; x += 3) {
        const onRing = Math.max(Math.abs(x - centre.x), Math.abs(y - centre.y)) === radius;
        const inImage = x >= 4 && y >= 4 && x < pixels.width - 4 && y < pixels.height - 4;
        if (onRing && inImage && isInside(x, y)) return { x, y };
      }
    }
  }
  return null;
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
   * then takes a screenshot (saved under `screenshotName`, if given) and counts its pixels:
   * the source's colour, the land's and each colour of the legend. With `hoverStep`, then
   * hovers over a feature drawn in that legend step's colour and reads the tooltip.
   */
  async function drawSource(
    query: string,
    screenshotName: string | null,
    tokenVia: 'fragment' | 'form' = 'fragment',
    hoverStep?: number,
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
      let tooltip: string | null = null;
      const steps = state.legend?.steps ?? [];
      if (hoverStep !== undefined && steps[hoverStep]) {
        const spot = findInside(pixels, isNear(steps[hoverStep].color), [panel]);
        if (spot) {
          await page.mouse.move(spot.x, spot.y);
          const box = page.locator('.deck-tooltip');
          await box.waitFor({ state: 'visible' });
          tooltip = await box.innerText();
        }
      }
      return {
        state,
        report,
        tooltip,
        statusText: await page.locator('#status').textContent(),
        tokenFormHidden: await page.locator('#token-form').isHidden(),
        sourcePixels: countPixels(pixels, isSourceColour, [panel]),
        landPixels: countPixels(pixels, isLandColour, [panel]),
        legendPixels: steps.map((step) => countPixels(pixels, isNear(step.color), [panel])),
        legendBox: boundingBox(
          pixels,
          (r, g, b) => steps.some((step) => isNear(step.color)(r, g, b)),
          panel,
        ),
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

  it('draws the demo raster with a colour ramp over its first band', async () => {
    const drawn = await drawSource(
      'connection=carto_dw&type=raster&name=demo.relief_raster',
      'raster',
      'fragment',
      0,
    );

    expect(drawn.state).toMatchObject({ status: 'loaded', error: null, basemap: 'countries' });
    expect(drawn.state.tilesWithData).toBeGreaterThan(0);
    expect(drawn.report.consoleErrors).toEqual([]);
    expect(drawn.report.pageErrors).toEqual([]);
    expectOnlyTheWasmProbeBlocked(drawn.report);
    expectNoOtherHosts(drawn.report);
    expect(drawn.report.requests.some((url) => url.includes('/v3/maps/carto_dw/raster/'))).toBe(
      true,
    );
    // The first band, over its min..max from raster_metadata, in 7 steps of the ramp.
    const { legend } = drawn.state;
    expect(legend?.title).toBe('elevation (float32)');
    expect(legend?.steps).toHaveLength(7);
    expect(legend?.steps[0]!.label).toMatch(/^130 – /);
    expect(legend?.steps[6]!.label).toMatch(/ – 2,763$/);
    expect(new Set(legend?.steps.map((step) => step.color.join())).size).toBe(7);
    // Lowlands cover most of the raster, the hills fewer pixels with every step up.
    const drawnSteps = drawn.legendPixels.filter((count) => count >= 20);
    expect(drawnSteps.length).toBeGreaterThanOrEqual(6);
    expect(drawn.legendPixels[0]! / drawn.mapPixels).toBeGreaterThan(0.2);
    expect(drawn.landPixels).toBeGreaterThan(2000);
    // Its blocks reach from 0° to 22.5° E, but pixels outside its bounds (5° to 20° E, 44° to
    // 55° N) hold nodata and are not drawn: what is drawn has the bounds' shape in Mercator,
    // 0.87 times as wide as high.
    const { width, height } = drawn.legendBox!;
    expect(width / height).toBeGreaterThan(0.8);
    expect(width / height).toBeLessThan(0.95);
    // A hover over a lowland pixel shows its value in every band.
    expect(drawn.tooltip).toMatch(/^elevation: [\d.]+\nlandcover: [1-5]\ntemperature: -?\d+$/);
    const elevation = Number(/^elevation: ([\d.]+)/.exec(drawn.tooltip ?? '')?.[1]);
    expect(elevation).toBeGreaterThanOrEqual(130);
    expect(elevation).toBeLessThan(507);
  });

  describe('a boundary source', () => {
    // The name docs/preview.md uses, which its screenshot shows; replaced if it is there.
    const tileset = 'public.state_boundaries';
    /** The boundaries of the contiguous states (and DC), which fit one view. */
    const CONTIGUOUS = 'ST_XMin(geom) > -130 AND ST_YMin(geom) > 20';

    beforeAll(async () => {
      const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
      const created = await fetch(`${baseUrl}/v3/maps/carto_dw/tileset/jobs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          name: tileset,
          query: `SELECT geoid, geom FROM demo.us_states WHERE ${CONTIGUOUS}`,
          maxZoom: 4,
          format: 'binary',
          overwrite: true,
        }),
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      let job: { status: string } = { status: 'running' };
      await pollUntil(async () => {
        const answer = await fetch(`${baseUrl}/v3/maps/carto_dw/tileset/jobs/${id}`, { headers });
        job = (await answer.json()) as { status: string };
        return ['success', 'failure', 'cancelled'].includes(job.status);
      }, 60_000);
      expect(job.status, JSON.stringify(job)).toBe('success');
    });

    it('draws the states coloured by a numeric column of their data, joined by geoid', async () => {
      // Names of 4 ("Iowa") to 20 letters ("District of Columbia"): the longer ones belong to
      // territories, which the tileset leaves out.
      const sql =
        'SELECT geoid, name, length(name) AS letters FROM demo.us_states WHERE length(name) <= 20';
      const drawn = await drawSource(
        `connection=carto_dw&tilesetTableName=${tileset}` +
          `&propertiesSqlQuery=${encodeURIComponent(sql)}&column=letters`,
        'boundary',
        'fragment',
        1,
      );

      expect(drawn.state).toMatchObject({ status: 'loaded', error: null });
      expect(drawn.state.tilesWithData).toBeGreaterThan(0);
      expect(drawn.report.consoleErrors).toEqual([]);
      expect(drawn.report.pageErrors).toEqual([]);
      expectOnlyTheWasmProbeBlocked(drawn.report);
      expectNoOtherHosts(drawn.report);
      // Each tile's geometry and its properties, as deck.gl's VectorTileLayer fetches them.
      const tiles = drawn.report.requests.filter((url) => url.includes('/tileset/'));
      const properties = drawn.report.requests.filter((url) => url.includes('/boundary/'));
      expect(tiles.length).toBeGreaterThan(0);
      expect(properties.length).toBe(tiles.length);
      // From "Iowa" (4 letters) to "District of Columbia" (20): the ramp's steps over that.
      const { legend } = drawn.state;
      expect(legend?.title).toBe('letters');
      expect(legend?.steps.map((step) => step.label)).toEqual([
        '4 – 6.286',
        '6.286 – 8.571',
        '8.571 – 10.86',
        '10.86 – 13.14',
        '13.14 – 15.43',
        '15.43 – 17.71',
        '17.71 – 20',
        'no data',
      ]);
      // Every state has data, so no boundary is grey (antialiasing may leave a few grey pixels);
      // the names of 4 to 14 letters fill the first five steps (the District of Columbia, the
      // last one, is too small to count).
      const ramp = drawn.legendPixels.slice(0, -1);
      const noData = drawn.legendPixels.at(-1)!;
      expect(noData).toBeLessThan(50);
      expect(ramp.slice(0, 5).every((count) => count > 200)).toBe(true);
      expect(ramp.reduce((sum, count) => sum + count, 0) / drawn.mapPixels).toBeGreaterThan(0.2);
      // The hover shows the joined data of the state under the pointer.
      const hovered = /^name: (.+)\nletters: (\d+)$/.exec(drawn.tooltip ?? '');
      expect(hovered, String(drawn.tooltip)).not.toBeNull();
      expect(Number(hovered![2])).toBe(hovered![1]!.length);
      // It is drawn in the second step's colour: 7 or 8 letters.
      expect(Number(hovered![2])).toBeGreaterThanOrEqual(7);
      expect(Number(hovered![2])).toBeLessThanOrEqual(8);
    });
  });

  it('shows a band the raster does not have, and parameters that do not fit the type', async () => {
    const { page, report } = await openWatchedPage(context);
    try {
      await page.goto(
        `${baseUrl}/preview?connection=carto_dw&type=raster&name=demo.relief_raster` +
          `&band=nope&basemap=none#access_token=${token}`,
      );
      expect(await waitForPreview(page)).toMatchObject({
        status: 'error',
        error: "Unknown band 'nope': the raster has elevation, landcover, temperature.",
      });
      expect(report.pageErrors).toEqual([]);

      await page.goto(
        `${baseUrl}/preview?connection=carto_dw&tilesetTableName=public.x&band=elevation` +
          `#access_token=${token}`,
      );
      const state = await waitForPreview(page);
      expect(state.error).toBe(
        "Missing parameter 'propertiesTableName' (a table) or 'propertiesSqlQuery' (a SQL " +
          "query): the boundaries' data.\n'band' is for raster sources only.",
      );
      expect(report.requests.filter((url) => url.includes('/boundary'))).toEqual([]);
    } finally {
      await page.close();
    }
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
