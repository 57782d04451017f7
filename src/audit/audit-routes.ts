import type { FastifyInstance } from 'fastify';
import { errors } from '../http/errors.js';
import type { Store } from '../store/store.js';
import { requireCaller } from '../users/caller.js';
import { listAuditEvents } from './audit-log.js';
import { LIST_AUDIT_EVENTS_SCHEMA } from './audit-schemas.js';

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

function positiveInteger(value: unknown, name: string, max: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < 1 || number > max) {
    throw errors.invalidParameter(name, `an integer from 1 to ${max}`);
  }
  return number;
}

/**
 * `GET /v3/account/audit?limit=&before=&event=`: the account's credential, user and login
 * events, newest first, for its admins. `meta.next_before` pages further back.
 */
export function registerAuditRoutes(app: FastifyInstance, store: Store): void {
  app.get('/v3/account/audit', { schema: LIST_AUDIT_EVENTS_SCHEMA }, async (request, reply) => {
    const { actor } = await requireCaller(store, request, 'admin:account');
    const query = (request.query ?? {}) as Record<string, unknown>;
    const limit = positiveInteger(query.limit, 'limit', MAX_AUDIT_LIMIT) ?? DEFAULT_AUDIT_LIMIT;
    const beforeSeq = positiveInteger(query.before, 'before', Number.MAX_SAFE_INTEGER);
    const event = query.event;
    if (event !== undefined && (typeof event !== 'string' || event.length > 64)) {
      throw errors.invalidParameter('event', 'an event name such as application.created');
    }

    const data = await listAuditEvents(store, actor.accountId, {
      limit,
      beforeSeq,
      event: event === '' ? undefined : event,
    });
    const last = data.at(-1);
    const nextBefore = data.length === limit && last ? last.seq : null;
    return reply
      .header('Cache-Control', 'no-store')
      .send({ data, meta: { limit, next_before: nextBefore } });
  });
}
