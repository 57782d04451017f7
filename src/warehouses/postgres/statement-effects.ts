/**
 * Which statements may leave state behind in a pooled session (settings, open transactions,
 * prepared statements, cursors, temporary tables, LISTENs, locks). After those the session is
 * reset before its next user; plain queries and data changes skip that round trip.
 */

import { analyzeSql, isRowQuery } from '../postgres-sql-text.js';

/** Statements that read or change rows but leave no session state by themselves. */
const SESSION_NEUTRAL_KEYWORDS = new Set(['with', 'insert', 'update', 'delete', 'merge']);

/**
 * Answers for texts seen recently. Tile statements repeat one text per source with new bind
 * values, and reading a few kilobytes of SQL for every tile costs more than the lookup.
 */
const recentAnswers = new Map<string, boolean>();
const MAX_REMEMBERED_TEXTS = 256;
/** Longer texts are read every time rather than kept in memory. */
const MAX_REMEMBERED_TEXT_LENGTH = 16_384;

/**
 * True unless the text is one plain query or data change. A function called by a query can
 * still change settings (`set_config`); the reset is hygiene for well-meant SQL, not a
 * security boundary.
 */
export function mayLeaveSessionState(sql: string): boolean {
  const known = recentAnswers.get(sql);
  if (known !== undefined) return known;
  const answer = readsAsStateful(sql);
  if (sql.length <= MAX_REMEMBERED_TEXT_LENGTH) {
    // Oldest first out: a Map iterates in insertion order.
    if (recentAnswers.size >= MAX_REMEMBERED_TEXTS) {
      recentAnswers.delete(recentAnswers.keys().next().value as string);
    }
    recentAnswers.set(sql, answer);
  }
  return answer;
}

/**
 * Built-in functions a plain query can call to change its session: settings, advisory locks
 * held past the statement, and prepared-statement or cursor state through SQL functions.
 */
const SESSION_CHANGING_FUNCTIONS = /\b(set_config|pg_advisory_lock\w*|pg_try_advisory_lock\w*)\b/i;

/**
 * Identifiers written with Unicode escapes (`U&"\0073et_config"`) can name any function
 * without spelling it out; texts using them are reset after, whatever they call.
 */
const UNICODE_ESCAPED_NAME = /\bU&"/i;

function readsAsStateful(sql: string): boolean {
  if (SESSION_CHANGING_FUNCTIONS.test(sql) || UNICODE_ESCAPED_NAME.test(sql)) return true;
  const shape = analyzeSql(sql);
  if (shape.hasMultipleStatements) return true;
  return !(isRowQuery(shape) || SESSION_NEUTRAL_KEYWORDS.has(shape.firstKeyword));
}
