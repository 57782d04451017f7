import { LRUCache } from 'lru-cache';
import type { Store } from '../store/store.js';
import { recordAuditEvent } from '../audit/audit-log.js';
import { verifyPassword } from './password.js';

/** Failed logins in a row a user gets before the account's logins are paused. */
export const FREE_FAILED_LOGINS = 5;
/** The first pause; each further failure doubles it, up to the maximum. */
const FIRST_LOCK_SECONDS = 60;
const MAX_LOCK_SECONDS = 900;

/** A well-formed hash no password matches, checked for unknown users to keep timing even. */
const NO_USER_HASH = `scrypt$16384$8$1$${'A'.repeat(22)}$${'A'.repeat(43)}`;

/**
 * Failures for e-mails that belong to nobody, kept like a user's, so that a pause after five
 * failures does not tell which e-mails exist. Per node, bounded.
 */
const unknownEmailFailures = new LRUCache<string, { failures: number; lockedUntil: number }>({
  max: 10_000,
  ttl: 3600_000,
});

export type LoginResult =
  | { ok: true; userId: string; accountId: string }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'locked'; retryAfterSeconds: number };

/** How long logins pause after the given number of failures in a row. */
export function lockSeconds(failures: number): number {
  if (failures < FREE_FAILED_LOGINS) return 0;
  const doublings = Math.min(failures - FREE_FAILED_LOGINS, 12);
  return Math.min(FIRST_LOCK_SECONDS * 2 ** doublings, MAX_LOCK_SECONDS);
}

/**
 * Checks an e-mail and password. Failures in a row pause the user's logins for a while that
 * doubles with each further failure; a success resets the count. Every outcome is audited.
 */
export async function verifyLogin(
  store: Store,
  input: { email: string; password: string; ip: string },
): Promise<LoginResult> {
  const email = input.email.trim().toLowerCase();
  const user = await store
    .selectFrom('users')
    .select(['id', 'account_id', 'password_hash', 'failed_logins', 'locked_until', 'disabled_at'])
    .where('email', '=', email)
    .executeTakeFirst();
  const audit = (event: 'login.succeeded' | 'login.failed' | 'login.locked', extra = {}) =>
    recordAuditEvent(store, {
      accountId: user?.account_id ?? null,
      event,
      actor: user?.id ?? 'anonymous',
      target: user?.id ?? '',
      ip: input.ip,
      details: user ? extra : { email: email.slice(0, 254), ...extra },
    });

  const now = Date.now();
  const strangerState = user ? undefined : unknownEmailFailures.get(email);
  const lockedUntil = user?.locked_until
    ? Date.parse(user.locked_until)
    : (strangerState?.lockedUntil ?? 0);
  // Every path pays for one hash, so the answer's timing tells nothing either.
  const matches = await verifyPassword(input.password, user?.password_hash ?? NO_USER_HASH);
  if (lockedUntil > now) {
    await audit('login.locked');
    return {
      ok: false,
      reason: 'locked',
      retryAfterSeconds: Math.ceil((lockedUntil - now) / 1000),
    };
  }

  if (!user || !matches || !user.password_hash || user.disabled_at) {
    let failures: number;
    if (user) {
      // Counted in the store, not read and written back: attempts made at once (here or on
      // another node) each count, so sending them in parallel does not dodge the pause.
      const counted = await store
        .updateTable('users')
        .set((eb) => ({ failed_logins: eb('failed_logins', '+', 1) }))
        .where('id', '=', user.id)
        .returning('failed_logins')
        .executeTakeFirst();
      failures = counted?.failed_logins ?? user.failed_logins + 1;
      const pause = lockSeconds(failures);
      if (pause > 0) {
        await store
          .updateTable('users')
          .set({ locked_until: new Date(now + pause * 1000).toISOString() })
          .where('id', '=', user.id)
          .execute();
      }
    } else {
      // Read again: other attempts may have counted while the hash ran.
      failures = (unknownEmailFailures.get(email)?.failures ?? 0) + 1;
      const pause = lockSeconds(failures);
      unknownEmailFailures.set(email, {
        failures,
        lockedUntil: pause > 0 ? now + pause * 1000 : 0,
      });
    }
    await audit('login.failed', { failures });
    return { ok: false, reason: 'invalid' };
  }

  // The right password wins only if no pause began while it was checked: attempts sent at
  // once are all hashed, and the failures among them may have paused the user meanwhile.
  const nowText = new Date().toISOString();
  const cleared = await store
    .updateTable('users')
    .set({ failed_logins: 0, locked_until: null })
    .where('id', '=', user.id)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', nowText)]))
    .returning('id')
    .executeTakeFirst();
  if (!cleared) {
    const row = await store
      .selectFrom('users')
      .select('locked_until')
      .where('id', '=', user.id)
      .executeTakeFirst();
    const until = row?.locked_until ? Date.parse(row.locked_until) : Date.now() + 1000;
    await audit('login.locked');
    return {
      ok: false,
      reason: 'locked',
      retryAfterSeconds: Math.max(1, Math.ceil((until - Date.now()) / 1000)),
    };
  }
  await audit('login.succeeded');
  return { ok: true, userId: user.id, accountId: user.account_id };
}
