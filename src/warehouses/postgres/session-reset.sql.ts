/** SQL that returns a pooled session to the state its next user expects. */

import type { WarehouseProvider } from '../driver.js';
import { RESET_POSTGRES_SESSION } from '../postgres-session-reset.sql.js';

/** Redshift has no DISCARD, LISTEN or advisory locks; settings are what can leak there. */
const RESET_REDSHIFT_SESSION = 'RESET ALL';

/**
 * The reset statement for a provider's sessions: it undoes what a statement may have left in
 * the session (see `statement-effects.ts`).
 */
export function resetSessionSql(provider: WarehouseProvider): string {
  return provider === 'redshift' ? RESET_REDSHIFT_SESSION : RESET_POSTGRES_SESSION;
}
