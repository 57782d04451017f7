import { sql } from 'kysely';
import { dialectOf } from './store-dialect.js';
import type { Store } from './store.js';

/**
 * Runs `work` while holding a lock named `name` that every node sharing the store respects,
 * for check-then-create steps that must happen once per install however many nodes start at
 * once (the bootstrap account, the first signing key).
 *
 * On PostgreSQL the lock is a transaction-level advisory lock held by a transaction of its
 * own, which ends (releasing the lock) when `work` settles; `work` runs its statements on
 * other pooled sessions, so the lock is a mutex and not a transaction around them. On SQLite
 * the store belongs to one node and its writes are serialised already: `work` just runs.
 */
export async function withStoreLock<T>(
  store: Store,
  name: string,
  work: () => Promise<T>,
): Promise<T> {
  if (dialectOf(store) !== 'postgres') return work();
  return store.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${`graticule:${name}`}))`.execute(tx);
    return work();
  });
}
