import { matchesIfNoneMatch } from '../http/cache-control.js';
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rolePermissionGuard } from '../auth/permissions.js';
import type { AppDependencies } from '../http/app.js';
import { errors } from '../http/errors.js';
import { bearerTokenOf, principalOf } from '../http/principal.js';
import { openStore } from '../store/store.js';
import { SavedMapService } from './saved-map-service.js';
import { SavedMapStore, type SavedMap } from './saved-map-store.js';
import {
  CREATE_SAVED_MAP_SCHEMA,
  DELETE_SAVED_MAP_SCHEMA,
  GET_PUBLIC_MAP_SCHEMA,
  GET_SAVED_MAP_SCHEMA,
  LIST_SAVED_MAPS_SCHEMA,
  UPDATE_SAVED_MAP_SCHEMA,
} from './public-map-schemas.js';

type ByIdRequest = FastifyRequest<{ Params: { id: string } }>;

/**
 * How long a browser or proxy may reuse a public map's answer: short, so an edit (or making
 * the map private) shows within a minute. Private maps are revalidated on every use.
 */
const PUBLIC_MAP_MAX_AGE_SECONDS = 60;

/**
 * Verifies a bearer token when one is sent. The public map route answers without one; the
 * management routes then fail with the same 401 as every other `/v3` route.
 */
async function readOptionalBearer(
  request: FastifyRequest,
  deps: Pick<AppDependencies, 'tokens'>,
): Promise<void> {
  const header = request.headers.authorization;
  if (request.method === 'OPTIONS' || header === undefined) return;
  const token = bearerTokenOf(header);
  if (!token) throw errors.tokenInvalid('expected "Authorization: Bearer <token>"');
  request.principal = await deps.tokens.verify(token);
}

function entityTagOf(map: SavedMap): string {
  const digest = createHash('sha256').update(JSON.stringify(map)).digest('base64url');
  return `"${digest.slice(0, 27)}"`;
}

/** Whether the client's copy is current: `If-None-Match` wins over `If-Modified-Since`. */
function isNotModified(request: FastifyRequest, etag: string, updatedAt: string): boolean {
  if (request.headers['if-none-match'] !== undefined) return matchesIfNoneMatch(request, etag);
  const since = Date.parse(request.headers['if-modified-since'] ?? '');
  if (!Number.isFinite(since)) return false;
  // HTTP dates carry whole seconds, as `Last-Modified` did; a change within that same second
  // is caught by the ETag, which clients send along.
  return Math.floor(Date.parse(updatedAt) / 1000) * 1000 <= since;
}

/**
 * Saved maps: the management API for the caller's account (`/v3/maps`, `/v3/maps/{id}`, a
 * Graticule extension) and `GET /v3/maps/public/{id}`, which CARTO's `fetchMap` reads. They
 * live outside the `/v3` bearer-token scope because the public route answers without a token.
 * The router prefers the static `public` segment, so `public` is no connection name.
 */
export async function registerPublicMapsRoutes(
  app: FastifyInstance,
  deps: AppDependencies,
): Promise<void> {
  // Apps built for tests without a store open their own handle on the configured store (the
  // data directory's file, or the PostgreSQL store).
  let store = deps.store;
  if (!store) {
    const own = await openStore(deps.config);
    app.addHook('onClose', async () => own.destroy());
    store = own;
  }
  const maps = new SavedMapService(new SavedMapStore(store), deps.connections, deps.apiTokens);
  const account = (request: FastifyRequest) => principalOf(request).accountId;
  const canRead = { onRequest: rolePermissionGuard('read:maps') };
  const canWrite = { onRequest: rolePermissionGuard('write:maps') };

  await app.register(async (scope) => {
    scope.addHook('onRequest', async (request) => readOptionalBearer(request, deps));
    scope.addHook('onSend', async (request, reply) => {
      if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
    });

    scope.get('/v3/maps', { ...canRead, schema: LIST_SAVED_MAPS_SCHEMA }, async (request) =>
      maps.list(account(request), request.query as Record<string, unknown>),
    );

    scope.post(
      '/v3/maps',
      { ...canWrite, schema: CREATE_SAVED_MAP_SCHEMA },
      async (request, reply: FastifyReply) => {
        const created = await maps.create(account(request), request.body);
        return reply.code(201).header('Location', `/v3/maps/${created.id}`).send(created);
      },
    );

    scope.get(
      '/v3/maps/:id',
      { ...canRead, schema: GET_SAVED_MAP_SCHEMA },
      async (request: ByIdRequest) => maps.get(account(request), request.params.id),
    );

    scope.patch(
      '/v3/maps/:id',
      { ...canWrite, schema: UPDATE_SAVED_MAP_SCHEMA },
      async (request: ByIdRequest) =>
        maps.update(account(request), request.params.id, request.body),
    );

    scope.delete(
      '/v3/maps/:id',
      { ...canWrite, schema: DELETE_SAVED_MAP_SCHEMA },
      async (request: ByIdRequest, reply: FastifyReply) => {
        await maps.remove(account(request), request.params.id);
        return reply.code(204).send();
      },
    );

    scope.get(
      '/v3/maps/public/:id',
      { schema: GET_PUBLIC_MAP_SCHEMA },
      async (request: ByIdRequest, reply: FastifyReply) => {
        const map = await maps.readShared(request.params.id, request.principal?.accountId ?? null);
        const etag = entityTagOf(map);
        reply.header(
          'Cache-Control',
          map.privacy === 'public'
            ? `public, max-age=${PUBLIC_MAP_MAX_AGE_SECONDS}`
            : 'private, no-cache',
        );
        reply.header('ETag', etag);
        reply.header('Last-Modified', new Date(map.updatedAt).toUTCString());
        if (isNotModified(request, etag, map.updatedAt)) return reply.code(304).send();
        return map;
      },
    );
  });
}
