import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/config.js';
import { errors } from '../http/errors.js';
import { PreviewAssets, type LoadedAsset } from './preview-assets.js';
import { matchesIfNoneMatch } from '../http/cache-control.js';

/** Asset URLs carry their content version, so a cached copy never goes stale. */
const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';
/** The page is revalidated on every load, so a new release shows up at once. */
const PAGE_CACHE_CONTROL = 'no-cache';

const assetParams = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1, maxLength: 64 } },
  required: ['name'],
} as const;

/**
 * The page's Content-Security-Policy: scripts, styles and data from this server only. The API
 * calls go to the page's own origin, and tile URLs to the configured public URL when it is a
 * different one. The page parses tiles on the main thread, so it needs no workers.
 */
export function previewContentSecurityPolicy(publicUrl: string): string {
  const apiOrigins = ["'self'"];
  if (publicUrl) apiOrigins.push(new URL(publicUrl).origin);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src ${apiOrigins.join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Whether an `If-None-Match` header names this ETag (weak or strong, alone or in a list). */
function sendAsset(
  request: FastifyRequest,
  reply: FastifyReply,
  asset: LoadedAsset,
  cacheControl: string,
): FastifyReply {
  reply.header('Cache-Control', cacheControl).header('ETag', asset.etag);
  reply.header('X-Content-Type-Options', 'nosniff');
  if (matchesIfNoneMatch(request, asset.etag)) return reply.code(304).send();
  return reply.type(asset.contentType).send(asset.body);
}

/**
 * The map preview: `GET /preview?connection=...&name=...` (or `&q=...`) serves a page that draws
 * the source with deck.gl through this server's own Maps API, and `/preview/assets/*` serves the
 * page's script, styles and deck.gl's browser bundles. Nothing here needs a token: the page is
 * static, and its data calls carry the token the user gives it.
 */
export function registerPreviewRoutes(app: FastifyInstance, deps: { config: Config }): void {
  const files = new PreviewAssets();
  const contentSecurityPolicy = previewContentSecurityPolicy(deps.config.publicUrl);

  app.get('/preview', async (request, reply) => {
    const { page } = await files.load();
    reply.header('Content-Security-Policy', contentSecurityPolicy);
    // Query sources put SQL in the page's URL; keep it out of other sites' logs.
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
    return sendAsset(request, reply, page, PAGE_CACHE_CONTROL);
  });

  app.get<{ Params: { name: string } }>(
    '/preview/assets/:name',
    { schema: { params: assetParams } },
    async (request, reply) => {
      const asset = (await files.load()).assets.get(request.params.name);
      if (!asset) throw errors.routeNotFound(request.method, request.url.split('?')[0] ?? '/');
      return sendAsset(request, reply, asset, ASSET_CACHE_CONTROL);
    },
  );
}
