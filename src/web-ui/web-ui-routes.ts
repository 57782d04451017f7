import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { CONSOLE_PATH } from '../auth/oidc/console-client.js';
import type { Config } from '../config/config.js';
import { errors } from '../http/errors.js';
import { previewContentSecurityPolicy } from '../preview/preview-routes.js';

/** Where the console lives (the OAuth server returns there), and its framable map preview. */
const WEB_UI_PATH = `${CONSOLE_PATH}/`;
const EMBEDDED_PREVIEW_PATH = `${CONSOLE_PATH}/preview`;

/**
 * The console's build (`vite build --config web/vite.config.ts`). This module sits two levels
 * below the package root both as `src/web-ui/` (sources run directly) and as `dist/web-ui/`.
 */
const WEB_DIST_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/** Vite names the files under `assets/` by their content hash: they never change. */
const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';
/** The page and the unhashed files are revalidated on every load. */
const PAGE_CACHE_CONTROL = 'no-cache';
/** Unhashed files Vite copies from `web/public/`, served as themselves. */
const PUBLIC_FILE = /^[A-Za-z0-9_-]+\.(svg|png|ico|txt|webmanifest)$/;
/** What Vite writes under `assets/`: `name-hash.ext` (and source maps). */
const ASSET_FILE = /^assets\/[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/**
 * The console's Content-Security-Policy: scripts, styles and API calls from this server only,
 * and frames (the map preview) from this server only. The sign-in redirects are navigations,
 * which the policy does not restrict.
 */
export function consoleContentSecurityPolicy(publicUrl: string): string {
  const apiOrigins = ["'self'"];
  if (publicUrl) apiOrigins.push(new URL(publicUrl).origin);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${apiOrigins.join(' ')}`,
    "frame-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The map preview's own policy, except that the console (same origin) may frame it. */
function embeddedPreviewPolicy(publicUrl: string): string {
  return previewContentSecurityPolicy(publicUrl).replace(
    "frame-ancestors 'none'",
    "frame-ancestors 'self'",
  );
}

/**
 * The web console, a single-page app built into `dist/web`: `/ui/` and every client route
 * below it answer its `index.html`, hashed assets are cached for a year, and `/` leads to it.
 * `/ui/preview` serves the map preview page under a policy that lets the console frame it
 * (`/preview` itself refuses every frame). Without a build, `/ui/` answers 503. `webDir` is
 * where the build is (tests point it elsewhere).
 */
export async function registerWebUiRoutes(
  app: FastifyInstance,
  deps: { config: Config },
  webDir: string = WEB_DIST_DIR,
): Promise<void> {
  const root = webDir.endsWith(sep) ? webDir : `${webDir}${sep}`;
  const pagePolicy = consoleContentSecurityPolicy(deps.config.publicUrl);
  const previewPolicy = embeddedPreviewPolicy(deps.config.publicUrl);
  const isBuilt = () => existsSync(`${root}index.html`);

  const sendPage = (reply: FastifyReply) => {
    if (!isBuilt()) throw errors.consoleNotBuilt();
    return reply
      .header('Cache-Control', PAGE_CACHE_CONTROL)
      .header('Content-Security-Policy', pagePolicy)
      .header('X-Frame-Options', 'DENY')
      .header('X-Content-Type-Options', 'nosniff')
      .header('Referrer-Policy', 'same-origin')
      .sendFile('index.html', { cacheControl: false });
  };

  app.get('/', async (_request, reply) => reply.redirect(WEB_UI_PATH, 302));

  await app.register(async (ui) => {
    await ui.register(fastifyStatic, { root, serve: false, suppressWarning: true });

    ui.get(EMBEDDED_PREVIEW_PATH, async (request, reply) => {
      // The preview's own route renders the page (with its versioned asset URLs); only the
      // framing rules differ here.
      const etag = request.headers['if-none-match'];
      const page = await app.inject({
        method: 'GET',
        url: '/preview',
        headers: etag ? { 'if-none-match': etag } : {},
      });
      return reply
        .code(page.statusCode)
        .header('Cache-Control', PAGE_CACHE_CONTROL)
        .header('ETag', page.headers.etag ?? '')
        .header('Content-Security-Policy', previewPolicy)
        .header('X-Frame-Options', 'SAMEORIGIN')
        .header('X-Content-Type-Options', 'nosniff')
        .header('Referrer-Policy', 'no-referrer')
        .type(String(page.headers['content-type'] ?? 'text/html; charset=utf-8'))
        .send(page.statusCode === 304 ? undefined : page.rawPayload);
    });

    // `/ui` and `/ui/` are one route (the router ignores trailing slashes); the app's relative
    // URLs need the slash.
    ui.get(CONSOLE_PATH, async (request, reply) => {
      if (!request.url.split('?')[0]!.endsWith('/')) {
        const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
        return reply.redirect(`${WEB_UI_PATH}${query}`, 302);
      }
      return sendPage(reply);
    });

    ui.get(
      `${CONSOLE_PATH}/*`,
      async (request: FastifyRequest<{ Params: { '*': string } }>, reply) => {
        const file = request.params['*'];
        if (!isBuilt()) throw errors.consoleNotBuilt();
        if (file.startsWith('assets/')) {
          if (!ASSET_FILE.test(file) || !existsSync(`${root}${file}`)) {
            throw errors.routeNotFound(request.method, request.url.split('?')[0] ?? '/');
          }
          reply
            .header('Cache-Control', ASSET_CACHE_CONTROL)
            .header('X-Content-Type-Options', 'nosniff');
          return reply.sendFile(file, { cacheControl: false });
        }
        if (PUBLIC_FILE.test(file) && existsSync(`${root}${file}`)) {
          reply
            .header('Cache-Control', PAGE_CACHE_CONTROL)
            .header('X-Content-Type-Options', 'nosniff');
          return reply.sendFile(file, { cacheControl: false });
        }
        // Every other path is one of the app's own routes: it reads the address itself.
        return sendPage(reply);
      },
    );
  });
}
