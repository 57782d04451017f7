import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../store/store.js';
import { requireCaller } from '../users/caller.js';
import {
  CREATE_APPLICATION_SCHEMA,
  DELETE_APPLICATION_SCHEMA,
  GET_APPLICATION_SCHEMA,
  LIST_APPLICATIONS_SCHEMA,
  ROTATE_APPLICATION_SECRET_SCHEMA,
  UPDATE_APPLICATION_SCHEMA,
} from './application-schemas.js';
import { ApplicationService } from './application-service.js';

type ByClientIdRequest = FastifyRequest<{ Params: { clientId: string } }>;

/**
 * Applications API (`/v3/applications`, a Graticule extension: CARTO manages its OAuth clients
 * in its Developers section only). OAuth access tokens only; an account sees its own
 * applications, and another account's answer 404 like missing ones.
 */
export function registerApplicationRoutes(app: FastifyInstance, store: Store): void {
  const service = new ApplicationService(store);
  const noStore = (reply: FastifyReply) => reply.header('Cache-Control', 'no-store');

  app.get('/v3/applications', { schema: LIST_APPLICATIONS_SCHEMA }, async (request, reply) => {
    const caller = await requireCaller(store, request, 'read:apps');
    const data = await service.list(caller.actor.accountId);
    return noStore(reply).send({ data, meta: { total: data.length } });
  });

  app.post('/v3/applications', { schema: CREATE_APPLICATION_SCHEMA }, async (request, reply) => {
    const caller = await requireCaller(store, request, 'write:apps');
    const created = await service.create(caller.actor, caller.user.id, request.body);
    return noStore(reply)
      .code(201)
      .header('Location', `/v3/applications/${encodeURIComponent(created.client_id)}`)
      .send(created);
  });

  app.get(
    '/v3/applications/:clientId',
    { schema: GET_APPLICATION_SCHEMA },
    async (request: ByClientIdRequest, reply) => {
      const caller = await requireCaller(store, request, 'read:apps');
      return noStore(reply).send(
        await service.get(caller.actor.accountId, request.params.clientId),
      );
    },
  );

  app.patch(
    '/v3/applications/:clientId',
    { schema: UPDATE_APPLICATION_SCHEMA },
    async (request: ByClientIdRequest, reply) => {
      const caller = await requireCaller(store, request, 'write:apps');
      const updated = await service.update(caller.actor, request.params.clientId, request.body);
      return noStore(reply).send(updated);
    },
  );

  app.delete(
    '/v3/applications/:clientId',
    { schema: DELETE_APPLICATION_SCHEMA },
    async (request: ByClientIdRequest, reply) => {
      const caller = await requireCaller(store, request, 'write:apps');
      await service.remove(caller.actor, request.params.clientId);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v3/applications/:clientId/secret',
    { schema: ROTATE_APPLICATION_SECRET_SCHEMA },
    async (request: ByClientIdRequest, reply) => {
      const caller = await requireCaller(store, request, 'write:apps');
      const rotated = await service.rotateSecret(caller.actor, request.params.clientId);
      return noStore(reply).send(rotated);
    },
  );
}
