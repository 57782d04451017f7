import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../store/store.js';
import { callerPermissionGuard, requireCaller } from '../users/caller.js';
import {
  CREATE_INVITATION_SCHEMA,
  LIST_INVITATIONS_SCHEMA,
  REVOKE_INVITATION_SCHEMA,
} from './invitation-schemas.js';
import { InvitationService } from './invitation-service.js';

type ByIdRequest = FastifyRequest<{ Params: { invitationId: string } }>;

/**
 * The account's invitations (`/v3/account/invitations`), for its admins: invite an address,
 * list the pending invitations, revoke one. Links are made on `baseUrl()`, the server's public
 * URL. A Graticule extension: CARTO invites people from its Workspace.
 */
export function registerInvitationRoutes(
  app: FastifyInstance,
  store: Store,
  baseUrl: () => string,
): void {
  const service = new InvitationService(store);
  const noStore = (reply: FastifyReply) => reply.header('Cache-Control', 'no-store');
  // Refused before the body is read; the handlers check the caller's current role too.
  const isAdmin = { onRequest: callerPermissionGuard('admin:account') };

  app.get(
    '/v3/account/invitations',
    { ...isAdmin, schema: LIST_INVITATIONS_SCHEMA },
    async (request, reply) => {
      const { actor } = await requireCaller(store, request, 'admin:account');
      const data = await service.list(actor.accountId);
      return noStore(reply).send({ data, meta: { total: data.length } });
    },
  );

  app.post(
    '/v3/account/invitations',
    { ...isAdmin, schema: CREATE_INVITATION_SCHEMA },
    async (request, reply) => {
      const { actor } = await requireCaller(store, request, 'admin:account');
      const created = await service.create(actor, request.body, baseUrl());
      request.log.info({ invitationId: created.id }, 'invitation created');
      return noStore(reply).code(201).send(created);
    },
  );

  app.delete(
    '/v3/account/invitations/:invitationId',
    { ...isAdmin, schema: REVOKE_INVITATION_SCHEMA },
    async (request: ByIdRequest, reply) => {
      const { actor } = await requireCaller(store, request, 'admin:account');
      await service.revoke(actor, request.params.invitationId);
      return reply.code(204).send();
    },
  );
}
