import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Store } from '../store/store.js';
import { requireCaller } from '../users/caller.js';
import {
  LIST_ACCOUNT_TOKENS_SCHEMA,
  REVOKE_ACCOUNT_TOKEN_SCHEMA,
} from './account-token-schemas.js';
import { AccountTokenService } from './account-token-service.js';
import type { ApiTokenService } from './api-token-service.js';

type ByIdRequest = FastifyRequest<{ Params: { tokenId: string } }>;

/**
 * Every API access token of the account, for its admins (`/v3/account/tokens`): list them
 * with their creators, revoke any. The path key may be a token string, a secret: the revoking
 * route logs at `warn` and up only, as the Tokens API's do.
 */
export function registerAccountTokenRoutes(
  app: FastifyInstance,
  store: Store,
  tokens: ApiTokenService,
): void {
  const service = new AccountTokenService(store, tokens);

  app.get('/v3/account/tokens', { schema: LIST_ACCOUNT_TOKENS_SCHEMA }, async (request, reply) => {
    const { actor } = await requireCaller(store, request, 'admin:account');
    const data = await service.list(actor.accountId);
    return reply.header('Cache-Control', 'no-store').send({ data, meta: { total: data.length } });
  });

  app.delete(
    '/v3/account/tokens/:tokenId',
    { logLevel: 'warn', schema: REVOKE_ACCOUNT_TOKEN_SCHEMA },
    async (request: ByIdRequest, reply) => {
      const { principal } = await requireCaller(store, request, 'admin:account');
      await service.revoke({ principal, ip: request.ip }, request.params.tokenId);
      return reply.header('Cache-Control', 'no-store').code(204).send();
    },
  );
}
