/**
 * Headless Chromium for the browser tests, driven by playwright-core against Debian's
 * `/usr/bin/chromium`. Without Chromium, `describeWithBrowser` registers its suite as skipped,
 * so the report shows the tests that did not run; with `GRATICULE_REQUIRE_BROWSER=1` (CI) a
 * missing Chromium fails the run instead.
 */

import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { describe } from 'vitest';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const BROWSER_REQUIRED_MESSAGE =
  `The browser tests need Chromium at ${CHROMIUM_PATH} ` +
  '(Debian: apt-get install chromium); set GRATICULE_REQUIRE_BROWSER=0 or unset it to skip them.';

/**
 * Headless Chromium flags that work in a container: no sandbox (tests may run as root), no GPU
 * (WebGL runs on SwiftShader, Chromium's CPU renderer, which it only offers when asked to), and
 * no background calls to Google's services.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

/** Chromium's path, or null when it is not installed (which fails when it is required). */
export function browserOrSkip(): string | null {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (process.env['GRATICULE_REQUIRE_BROWSER'] === '1') throw new Error(BROWSER_REQUIRED_MESSAGE);
  return null;
}

/**
 * `describe` that runs only with Chromium installed; otherwise every test of the suite is
 * reported as skipped. Suites must do their work in hooks and tests, not while collected.
 */
export function describeWithBrowser(name: string, suite: () => void): void {
  if (browserOrSkip() === null) {
    process.stderr.write(`WARNING: skipping "${name}". ${BROWSER_REQUIRED_MESSAGE}\n`);
    describe.skip(`${name} (Chromium is not installed)`, suite);
    return;
  }
  describe(name, suite);
}

/** Starts headless Chromium; the caller closes it. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** What a page reported while a test drove it. */
export interface PageReport {
  /** Console messages of type `error`. */
  consoleErrors: string[];
  /** Uncaught exceptions and unhandled rejections. */
  pageErrors: string[];
  /** Content-Security-Policy violations: the directive, then what was blocked. */
  cspViolations: string[];
  /** Every URL the page requested. */
  requests: string[];
}

/** Opens a page that records its console errors, uncaught errors, CSP violations and requests. */
export async function openWatchedPage(
  context: BrowserContext,
): Promise<{ page: Page; report: PageReport }> {
  const page = await context.newPage();
  const report: PageReport = { consoleErrors: [], pageErrors: [], cspViolations: [], requests: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') report.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => report.pageErrors.push(error.message));
  page.on('request', (request) => report.requests.push(request.url()));
  await page.exposeFunction('__reportCspViolation', (text: string) =>
    report.cspViolations.push(text),
  );
  await page.addInitScript(() => {
    // Runs in the page: the DOM's globals, which this project's TypeScript settings do not type.
    const browser = globalThis as any;
    browser.document.addEventListener('securitypolicyviolation', (event: any) => {
      void browser.__reportCspViolation(
        `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}`,
      );
    });
  });
  return { page, report };
}

/** An image's pixels: RGBA, 4 bytes each, row by row. */
export interface Pixels {
  width: number;
  height: number;
  rgba: Buffer;
}

/**
 * Decodes a PNG (a screenshot) with the browser's own image decoder, in a blank page of
 * `context`, because Node has no PNG decoder.
 */
export async function decodePng(context: BrowserContext, png: Buffer): Promise<Pixels> {
  const page = await context.newPage();
  try {
    const decoded = await page.evaluate(async (base64) => {
      const { document, Image } = globalThis as any;
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      const context2d = canvas.getContext('2d');
      context2d.drawImage(image, 0, 0);
      const { data } = context2d.getImageData(0, 0, canvas.width, canvas.height) as {
        data: Uint8ClampedArray;
      };
      let binary = '';
      for (let start = 0; start < data.length; start += 0x8000) {
        binary += String.fromCharCode(...data.subarray(start, start + 0x8000));
      }
      return { width: canvas.width as number, height: canvas.height as number, rgba: btoa(binary) };
    }, png.toString('base64'));
    return { ...decoded, rgba: Buffer.from(decoded.rgba, 'base64') };
  } finally {
    await page.close();
  }
}

/** A rectangle in pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** How many pixels outside `exclude` satisfy `matches(r, g, b)`. */
export function countPixels(
  pixels: Pixels,
  matches: (r: number, g: number, b: number) => boolean,
  exclude: Box[] = [],
): number {
  let count = 0;
  for (let y = 0; y < pixels.height; y++) {
    for (let x = 0; x < pixels.width; x++) {
      const excluded = exclude.some(
        (box) => x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height,
      );
      if (excluded) continue;
      const offset = (y * pixels.width + x) * 4;
      if (matches(pixels.rgba[offset]!, pixels.rgba[offset + 1]!, pixels.rgba[offset + 2]!)) {
        count++;
      }
    }
  }
  return count;
}
