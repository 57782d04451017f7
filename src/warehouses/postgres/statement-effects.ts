/**
 * Which statements may leave state behind in a pooled session (settings, open transactions,
 * prepared statements, cursors, temporary tables, LISTENs, locks). After those the session is
 * reset before its next user; plain queries and data changes skip that round trip.
 */

import { analyzeSql, isRowQuery } from '../postgres-sql-text.js';

/** Statements that read or change rows but leave no session state by themselves. */
const SESSION_NEUTRAL_KEYWORDS = new Set(['with', 'insert', 'update', 'delete', 'merge']);

/**
 * True unless the text is one plain query or data change. A function called by a query can
 * still change settings (`set_config`); the reset is hygiene for well-meant SQL, not a
 * security boundary.
 */
export function mayLeaveSessionState(sql: string): boolean {
  const shape = analyzeSql(sql);
  if (shape.hasMultipleStatements) return true;
  return !(isRowQuery(shape) || SESSION_NEUTRAL_KEYWORDS.has(shape.firstKeyword));
}
