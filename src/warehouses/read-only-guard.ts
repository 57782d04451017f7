/**
 * What a read-only transaction does not stop. PostgreSQL refuses data changes, DDL, `nextval`
 * and `setval` in a read-only transaction, but some functions every role may call by default
 * still change the database or reach outside it: large objects (`lo_from_bytea` writes one),
 * `pg_notify`, and dblink's functions where that extension is installed. Others run SQL given
 * as text (`query_to_xml`, `ts_stat`), which could call those without naming them. Source
 * statements (maps, widgets, stats), which run read-only, may call none of them.
 *
 * The check reads the statement's own words: comments and string literals are left out, so
 * neither hides a call nor makes a false one. Functions that need privileges
 * (`pg_terminate_backend`, `pg_reload_conf`, ...) are the connection role's to withhold: a
 * connection for maps should use a role without them (see docs/api-behaviour.md). User
 * functions run with their owner's rights as the read-only transaction allows.
 */

import { WarehouseError, type WarehouseQuery } from './driver.js';
import { maskLiteralsAndComments } from './postgres-sql-text.js';

/** The functions refused, by name: quoted, schema-qualified and spaced calls all match. */
const REFUSED_FUNCTIONS = [
  // Large objects: every function that creates, writes, moves or removes one.
  'lo_creat',
  'lo_create',
  'lo_from_bytea',
  'lo_import',
  'lo_export',
  'lo_put',
  'lo_unlink',
  'lo_truncate',
  'lo_truncate64',
  'lo_open',
  'lowrite',
  'pg_notify',
  // dblink: statements run by another session, which commits on its own.
  'dblink',
  'dblink_exec',
  'dblink_open',
  'dblink_fetch',
  'dblink_send_query',
  'dblink_connect',
  'dblink_connect_u',
  // SQL run from text, out of sight of this check.
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'ts_stat',
  'ts_rewrite',
];

/** A call: the name (maybe quoted), blanks, then its parenthesis. */
const CALL = new RegExp(`(?:^|[^\\w$])"?(${REFUSED_FUNCTIONS.join('|')})"?\\s*\\(`, 'gi');

/** `AS name (columns)`: an alias with a column list, not a call. */
const ALIAS_BEFORE = /\bAS\s*$/i;

/**
 * Identifiers written with Unicode escapes (`U&"\006co_create"`) can name any function
 * without spelling it out, so a source may not use them.
 */
const UNICODE_ESCAPED_NAME = /\bU&"/i;

/** A 400 for a source statement that calls a function a read-only transaction lets write. */
export function refuseUnguardedWrites(query: Pick<WarehouseQuery, 'sql' | 'readOnly'>): void {
  if (query.readOnly !== true) return;
  const words = maskLiteralsAndComments(query.sql);
  if (UNICODE_ESCAPED_NAME.test(words)) {
    throw new WarehouseError(
      'invalid_input',
      'A source may not use Unicode-escaped identifiers (U&"..."); write the name as it is',
    );
  }
  for (const match of words.matchAll(CALL)) {
    if (ALIAS_BEFORE.test(words.slice(0, match.index))) continue;
    throw new WarehouseError(
      'invalid_input',
      `A source may not call ${match[1]!.toLowerCase()}(): it changes the database even in a ` +
        'read-only query, or runs SQL given as text',
    );
  }
}
