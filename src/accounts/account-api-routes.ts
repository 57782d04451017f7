import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../store/store.js';
import { requireCaller, type Caller } from '../users/caller.js';
import {
  CREATE_ACCOUNT_SCHEMA,
  GET_ACCOUNT_SCHEMA,
  LIST_ACCOUNTS_SCHEMA,
} from './account-api-schemas.js';
import { AccountApiService } from './account-api-service.js';
import { operatorAccountId } from './accounts.js';
import { identityErrors } from './identity-errors.js';

type ByIdRequest = FastifyRequest<{ Params: { accountId: string } }>;

/**
 * The caller if it is one of the installation's operators: a token that acts, now, for an
 * Admin of the operator account. The users API's rules apply first (API access tokens, a
 * missing `admin:account` and a demoted or disabled user answer 403), so a Machine to Machine
 * token of the operator account operates when its application's owner is an Admin there.
 */
export async function requireOperator(store: Store, request: FastifyRequest): Promise<Caller> {
  const caller = await requireCaller(store, request, 'admin:account');
  if (caller.actor.accountId !== (await operatorAccountId(store))) {
    throw identityErrors.notOperator();
  }
  return caller;
}

/**
 * The installation's accounts (`/v3/accounts`), for its operators: create an account with a
 * first Admin and that Admin's one-time link, list accounts, read one. Links are made on
 * `baseUrl()`, the server's public URL. A Graticule extension: CARTO provisions its tenants
 * itself. Deleting an account is not offered.
 */
export function registerAccountApiRoutes(
  app: FastifyInstance,
  store: Store,
  baseUrl: () => string,
): void {
  const service = new AccountApiService(store);
  const noStore = (reply: FastifyReply) => reply.header('Cache-Control', 'no-store');

  app.get('/v3/accounts', { schema: LIST_ACCOUNTS_SCHEMA }, async (request, reply) => {
    await requireOperator(store, request);
    const data = await service.list();
    return noStore(reply).send({ data, meta: { total: data.length } });
  });

  app.post('/v3/accounts', { schema: CREATE_ACCOUNT_SCHEMA }, async (request, reply) => {
    const { actor } = await requireOperator(store, request);
    const created = await service.create(actor, request.body, baseUrl());
    request.log.info({ accountId: created.id }, 'account created');
    return noStore(reply)
      .code(201)
      .header('Location', `/v3/accounts/${encodeURIComponent(created.id)}`)
      .send(created);
  });

  app.get(
    '/v3/accounts/:accountId',
    { schema: GET_ACCOUNT_SCHEMA },
    async (request: ByIdRequest, reply) => {
      await requireOperator(store, request);
      return noStore(reply).send(await service.get(request.params.accountId));
    },
  );
}
