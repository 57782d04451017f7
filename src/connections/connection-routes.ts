import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rolePermissionGuard } from '../auth/permissions.js';
import { principalOf } from '../http/principal.js';
import type { ConnectionService } from './connection-service.js';

type ByIdRequest = FastifyRequest<{ Params: { id: string } }>;

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 256 } },
  required: ['id'],
} as const;

/**
 * Connections API (`/v3/connections`): the caller's account's warehouse connections plus the
 * embedded `carto_dw`. `{id}` takes a connection's id or its name.
 */
export function registerConnectionRoutes(app: FastifyInstance, service: ConnectionService): void {
  const account = (request: FastifyRequest) => principalOf(request).accountId;
  const canRead = { onRequest: rolePermissionGuard('read:connections') };
  const canWrite = { onRequest: rolePermissionGuard('write:connections') };

  app.get('/v3/connections', canRead, async (request) => {
    const data = await service.list(account(request));
    return { data, meta: { total: data.length } };
  });

  app.post('/v3/connections', canWrite, async (request, reply: FastifyReply) => {
    const created = await service.create(account(request), request.body);
    return reply.code(201).send(created);
  });

  app.post('/v3/connections/test', canWrite, async (request) => service.testUnsaved(request.body));

  app.get(
    '/v3/connections/:id',
    { ...canRead, schema: { params: idParams } },
    async (request: ByIdRequest) => service.get(account(request), request.params.id),
  );

  app.patch(
    '/v3/connections/:id',
    { ...canWrite, schema: { params: idParams } },
    async (request: ByIdRequest) =>
      service.update(account(request), request.params.id, request.body),
  );

  app.delete(
    '/v3/connections/:id',
    { ...canWrite, schema: { params: idParams } },
    async (request: ByIdRequest, reply: FastifyReply) => {
      await service.remove(account(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v3/connections/:id/test',
    { ...canWrite, schema: { params: idParams } },
    async (request: ByIdRequest) => service.test(account(request), request.params.id),
  );
}
