/**
 * What a read-only transaction does not stop. PostgreSQL refuses data changes, DDL, `nextval`
 * and `setval` in a read-only transaction, but some functions every role may call by default
 * still change the database or reach outside it: large objects (`lo_from_bytea` writes one),
 * `pg_notify`, and dblink's functions where that extension is installed. Source statements
 * (maps, widgets, stats), which run read-only, may not call them.
 *
 * Functions that need privileges (`pg_terminate_backend`, `pg_reload_conf`, ...) are the
 * connection role's to withhold: a connection for maps should use a role without them (see
 * docs/api-behaviour.md). User functions run with their owner's rights as the read-only
 * transaction allows.
 */

import { WarehouseError, type WarehouseQuery } from './driver.js';

/**
 * The functions refused, by name: every large-object function that creates, writes, removes
 * or moves one (the server-side `lo_import`/`lo_export` included), `pg_notify`, and every
 * dblink function. Quoted, schema-qualified and spaced calls all match.
 */
const UNGUARDED_WRITERS =
  /(?:^|[^\w$])"?(lo_(?:creat|create|from_bytea|import|export|put|unlink|truncate|truncate64|open)|lowrite|pg_notify|dblink\w*)"?\s*\(/i;

/** Comments could separate a function's name from its parenthesis. */
const COMMENTS = /\/\*[\s\S]*?\*\/|--[^\n]*/g;

/**
 * Identifiers written with Unicode escapes (`U&"\006co_create"`) can name any function
 * without spelling it out, so a source may not use them.
 */
const UNICODE_ESCAPED_NAME = /\bU&"/i;

/** A 400 for a source statement that calls a function a read-only transaction lets write. */
export function refuseUnguardedWrites(query: Pick<WarehouseQuery, 'sql' | 'readOnly'>): void {
  if (query.readOnly !== true) return;
  const { sql } = query;
  if (UNICODE_ESCAPED_NAME.test(sql)) {
    throw new WarehouseError(
      'invalid_input',
      'A source may not use Unicode-escaped identifiers (U&"..."); write the name as it is',
    );
  }
  const match = UNGUARDED_WRITERS.exec(sql.replace(COMMENTS, ' '));
  if (match) {
    throw new WarehouseError(
      'invalid_input',
      `A source may not call ${match[1]!.toLowerCase()}(): it changes the database even in a ` +
        'read-only query',
    );
  }
}
