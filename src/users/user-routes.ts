import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { permissionsForRole } from '../auth/permissions.js';
import type { Store } from '../store/store.js';
import { callerPermissionGuard, requireCaller } from './caller.js';
import {
  CREATE_USER_SCHEMA,
  DELETE_USER_SCHEMA,
  GET_ME_SCHEMA,
  GET_USER_SCHEMA,
  LIST_USERS_SCHEMA,
  UPDATE_USER_SCHEMA,
} from './user-schemas.js';
import { UserService } from './user-service.js';

type ByUserIdRequest = FastifyRequest<{ Params: { userId: string } }>;

/**
 * `GET /v3/me` (the caller) and the account's users (`/v3/account/users`, admins only).
 * Graticule extensions: CARTO manages users in its Workspace only.
 */
export function registerUserRoutes(app: FastifyInstance, store: Store): void {
  const service = new UserService(store);
  const noStore = (reply: FastifyReply) => reply.header('Cache-Control', 'no-store');
  // Refused before the body is read; the handlers check the caller's current role too.
  const isAdmin = { onRequest: callerPermissionGuard('admin:account') };

  app.get('/v3/me', { schema: GET_ME_SCHEMA }, async (request, reply) => {
    const { principal, user } = await requireCaller(store, request, 'read:current_user');
    const account = await store
      .selectFrom('accounts')
      .select(['id', 'name'])
      .where('id', '=', principal.accountId)
      .executeTakeFirstOrThrow();
    return noStore(reply).send({
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      account_id: account.id,
      account_name: account.name,
      token_kind: principal.kind,
      ...(principal.kind === 'machine' ? { client_id: principal.clientId } : {}),
      permissions: permissionsForRole(user.role),
    });
  });

  app.get(
    '/v3/account/users',
    { ...isAdmin, schema: LIST_USERS_SCHEMA },
    async (request, reply) => {
      const { actor } = await requireCaller(store, request, 'admin:account');
      const data = await service.list(actor.accountId);
      return noStore(reply).send({ data, meta: { total: data.length } });
    },
  );

  app.post(
    '/v3/account/users',
    { ...isAdmin, schema: CREATE_USER_SCHEMA },
    async (request, reply) => {
      const { actor } = await requireCaller(store, request, 'admin:account');
      const created = await service.create(actor, request.body);
      return noStore(reply)
        .code(201)
        .header('Location', `/v3/account/users/${encodeURIComponent(created.id)}`)
        .send(created);
    },
  );

  app.get(
    '/v3/account/users/:userId',
    { ...isAdmin, schema: GET_USER_SCHEMA },
    async (request: ByUserIdRequest, reply) => {
      const { actor } = await requireCaller(store, request, 'admin:account');
      return noStore(reply).send(await service.get(actor.accountId, request.params.userId));
    },
  );

  app.patch(
    '/v3/account/users/:userId',
    { ...isAdmin, schema: UPDATE_USER_SCHEMA },
    async (request: ByUserIdRequest, reply) => {
      const { actor } = await requireCaller(store, request, 'admin:account');
      return noStore(reply).send(await service.update(actor, request.params.userId, request.body));
    },
  );

  app.delete(
    '/v3/account/users/:userId',
    { ...isAdmin, schema: DELETE_USER_SCHEMA },
    async (request: ByUserIdRequest, reply) => {
      const { actor } = await requireCaller(store, request, 'admin:account');
      await service.remove(actor, request.params.userId);
      return reply.code(204).send();
    },
  );
}
