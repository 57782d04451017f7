import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireOAuthToken, requirePermission, type Permission } from '../auth/permissions.js';
import { principalOf } from '../http/principal.js';
import type { ApiTokenService, TokenCaller } from './api-token-service.js';
import {
  CREATE_API_TOKEN_SCHEMA,
  DELETE_API_TOKEN_SCHEMA,
  GET_API_TOKEN_SCHEMA,
  LIST_API_TOKENS_SCHEMA,
  UPDATE_API_TOKEN_SCHEMA,
} from './token-schemas.js';

type ByKeyRequest = FastifyRequest<{ Params: { token: string } }>;

/**
 * The path key may be the token string itself, a secret: these routes log at `warn` and up
 * only, so the request line (with its path) never reaches the log.
 */
const byKeyOptions = { logLevel: 'warn' } as const;

/** The OAuth caller with `permission`; API access tokens are refused (403). */
function callerWith(request: FastifyRequest, permission: Permission): TokenCaller {
  const principal = principalOf(request);
  requireOAuthToken(principal);
  requirePermission(principal, permission);
  return { principal, ip: request.ip };
}

/**
 * Tokens API (`/v3/tokens`): the caller's own API access tokens. `{token}` takes the token
 * string (CARTO's path key) or the token id. Answers are never cached.
 */
export function registerTokenRoutes(app: FastifyInstance, tokens: ApiTokenService): void {
  const noStore = (reply: FastifyReply) => reply.header('Cache-Control', 'no-store');

  app.post('/v3/tokens', { schema: CREATE_API_TOKEN_SCHEMA }, async (request, reply) => {
    const caller = callerWith(request, 'write:tokens');
    const created = await tokens.create(caller, request.body);
    request.log.info({ tokenId: created.id }, 'API access token created');
    return noStore(reply).code(201).send(created);
  });

  app.get('/v3/tokens', { schema: LIST_API_TOKENS_SCHEMA }, async (request, reply) => {
    const { principal } = callerWith(request, 'read:tokens');
    const data = await tokens.list(principal);
    return noStore(reply).send({ data, meta: { total: data.length } });
  });

  app.get(
    '/v3/tokens/:token',
    { ...byKeyOptions, schema: GET_API_TOKEN_SCHEMA },
    async (request: ByKeyRequest, reply) => {
      const { principal } = callerWith(request, 'read:tokens');
      return noStore(reply).send(await tokens.get(principal, request.params.token));
    },
  );

  app.patch(
    '/v3/tokens/:token',
    { ...byKeyOptions, schema: UPDATE_API_TOKEN_SCHEMA },
    async (request: ByKeyRequest, reply) => {
      const caller = callerWith(request, 'write:tokens');
      return noStore(reply).send(await tokens.update(caller, request.params.token, request.body));
    },
  );

  app.delete(
    '/v3/tokens/:token',
    { ...byKeyOptions, schema: DELETE_API_TOKEN_SCHEMA },
    async (request: ByKeyRequest, reply) => {
      const caller = callerWith(request, 'write:tokens');
      await tokens.remove(caller, request.params.token);
      return noStore(reply).code(204).send();
    },
  );
}
