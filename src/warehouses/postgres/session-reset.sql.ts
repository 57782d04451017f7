/** SQL that returns a pooled session to the state its next user expects. */

import type { WarehouseProvider } from '../driver.js';

/**
 * Undoes what a statement may have left in the session (see `statement-effects.ts`):
 * settings (back to the startup values), cursors, prepared statements, LISTENs, advisory
 * locks, cached plans, sequence state and temporary tables.
 */
const RESET_POSTGRES_SESSION = `
  CLOSE ALL;
  RESET ALL;
  DEALLOCATE ALL;
  UNLISTEN *;
  SELECT pg_catalog.pg_advisory_unlock_all();
  DISCARD PLANS;
  DISCARD SEQUENCES;
  DISCARD TEMP`;

/** Redshift has no DISCARD, LISTEN or advisory locks; settings are what can leak there. */
const RESET_REDSHIFT_SESSION = 'RESET ALL';

/** The reset statement for a provider's sessions. */
export function resetSessionSql(provider: WarehouseProvider): string {
  return provider === 'redshift' ? RESET_REDSHIFT_SESSION : RESET_POSTGRES_SESSION;
}
