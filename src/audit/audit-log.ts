import type { Store } from '../store/store.js';

/** Credential and login events the audit log records. */
export type AuditEvent =
  | 'application.created'
  | 'application.updated'
  | 'application.deleted'
  | 'application.secret_rotated'
  | 'token.created'
  | 'token.updated'
  | 'token.revoked'
  | 'login.succeeded'
  | 'login.failed'
  | 'login.locked'
  | 'logout'
  | 'user.created'
  | 'user.updated'
  | 'user.deleted'
  | 'invitation.created'
  | 'invitation.revoked'
  | 'invitation.accepted'
  | 'account.created'
  | 'signing_key.rotated';

export interface AuditEntry {
  /** Null when the event belongs to no known account (a login with an unknown e-mail). */
  accountId: string | null;
  event: AuditEvent;
  /** Who acted: a token subject, a user id, or `anonymous`. */
  actor: string;
  /** What the event is about: a client id, a token id, a user id. Never a secret. */
  target?: string;
  ip?: string;
  /** Extra facts; never a secret. */
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  seq: number;
  at: string;
  event: string;
  actor: string;
  target: string;
  ip: string;
  details: Record<string, unknown>;
}

/** Appends an event to the audit log. */
export async function recordAuditEvent(store: Store, entry: AuditEntry): Promise<void> {
  await store
    .insertInto('audit_events')
    .values({
      account_id: entry.accountId,
      at: new Date().toISOString(),
      event: entry.event,
      actor: entry.actor,
      target: entry.target ?? '',
      ip: entry.ip ?? '',
      details: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}

/** Who acted, as an audit event records it: the account, the token subject, the address. */
export interface AuditActor {
  accountId: string;
  subject: string;
  ip?: string;
}

/** Appends an event `actor` did, to its own account's log or to `accountId`'s. */
export async function recordActorEvent(
  store: Store,
  actor: AuditActor,
  event: AuditEvent,
  target: string,
  details: Record<string, unknown> = {},
  accountId: string = actor.accountId,
): Promise<void> {
  await recordAuditEvent(store, {
    accountId,
    event,
    actor: actor.subject,
    target,
    ip: actor.ip,
    details,
  });
}

/** An account's events, newest first; `beforeSeq` pages further back. */
export async function listAuditEvents(
  store: Store,
  accountId: string,
  options: { limit: number; beforeSeq?: number; event?: string },
): Promise<AuditRecord[]> {
  let query = store
    .selectFrom('audit_events')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('seq', 'desc')
    .limit(options.limit);
  if (options.beforeSeq !== undefined) query = query.where('seq', '<', options.beforeSeq);
  if (options.event !== undefined) query = query.where('event', '=', options.event);
  const rows = await query.execute();
  return rows.map((row) => ({
    seq: row.seq,
    at: row.at,
    event: row.event,
    actor: row.actor,
    target: row.target,
    ip: row.ip,
    details: JSON.parse(row.details) as Record<string, unknown>,
  }));
}
