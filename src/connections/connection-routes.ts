import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rolePermissionGuard } from '../auth/permissions.js';
import { principalOf } from '../http/principal.js';
import {
  CREATE_CONNECTION_SCHEMA,
  DELETE_CONNECTION_SCHEMA,
  GET_CONNECTION_SCHEMA,
  LIST_CONNECTIONS_SCHEMA,
  TEST_CONNECTION_SCHEMA,
  TEST_NEW_CONNECTION_SCHEMA,
  UPDATE_CONNECTION_SCHEMA,
} from './connection-schemas.js';
import type { ConnectionService } from './connection-service.js';

type ByIdRequest = FastifyRequest<{ Params: { id: string } }>;

/**
 * Connections API (`/v3/connections`): the caller's account's warehouse connections plus the
 * embedded `carto_dw`. `{id}` takes a connection's id or its name.
 */
export function registerConnectionRoutes(app: FastifyInstance, service: ConnectionService): void {
  const account = (request: FastifyRequest) => principalOf(request).accountId;
  const canRead = { onRequest: rolePermissionGuard('read:connections') };
  const canWrite = { onRequest: rolePermissionGuard('write:connections') };

  app.get('/v3/connections', { ...canRead, schema: LIST_CONNECTIONS_SCHEMA }, async (request) => {
    const data = await service.list(account(request));
    return { data, meta: { total: data.length } };
  });

  app.post(
    '/v3/connections',
    { ...canWrite, schema: CREATE_CONNECTION_SCHEMA },
    async (request, reply: FastifyReply) => {
      const created = await service.create(account(request), request.body);
      return reply.code(201).send(created);
    },
  );

  app.post(
    '/v3/connections/test',
    { ...canWrite, schema: TEST_NEW_CONNECTION_SCHEMA },
    async (request) => service.testUnsaved(request.body),
  );

  app.get(
    '/v3/connections/:id',
    { ...canRead, schema: GET_CONNECTION_SCHEMA },
    async (request: ByIdRequest) => service.get(account(request), request.params.id),
  );

  app.patch(
    '/v3/connections/:id',
    { ...canWrite, schema: UPDATE_CONNECTION_SCHEMA },
    async (request: ByIdRequest) =>
      service.update(account(request), request.params.id, request.body),
  );

  app.delete(
    '/v3/connections/:id',
    { ...canWrite, schema: DELETE_CONNECTION_SCHEMA },
    async (request: ByIdRequest, reply: FastifyReply) => {
      await service.remove(account(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v3/connections/:id/test',
    { ...canWrite, schema: TEST_CONNECTION_SCHEMA },
    async (request: ByIdRequest) => service.test(account(request), request.params.id),
  );
}
