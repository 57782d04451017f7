/**
 * What a grant's `source` covers, and whether a request's source is covered. Table names are
 * compared as PostgreSQL resolves them (the rules `parseTableName` and the dialects apply):
 * identifier by identifier, quoted parts exact, unquoted parts folded to lower case, and a
 * leading database part dropped (it names the connection's own database).
 */
import { errors } from '../http/errors.js';
import { splitTableName } from '../sql-builder/dialect.js';

/** A grant's source, classified. */
export type GrantSource =
  | { kind: 'all' }
  /** `schema.*` or `db.schema.*`: every table and tileset of the schema. */
  | { kind: 'schema'; schema: string }
  | { kind: 'table'; name: TableKey }
  | { kind: 'query'; text: string };

/** A request's source: a table or tileset name, or SQL text. */
export type RequestedSource = { kind: 'table'; name: TableKey } | { kind: 'query'; text: string };

/** A table as the warehouse resolves it: schema (null: the search path) and table. */
export interface TableKey {
  schema: string | null;
  table: string;
}

/** An unquoted name part: a letter or underscore, then letters, digits, `_`, `$` or `-`. */
const UNQUOTED_PART = String.raw`[A-Za-z_][A-Za-z0-9_$-]*`;
const QUOTED_PART = String.raw`"(?:[^"]|"")+"`;
const PART = `(?:${UNQUOTED_PART}|${QUOTED_PART})`;
/** One to three dotted parts, as a table or tileset FQN is written. */
const TABLE_NAME = new RegExp(`^${PART}(?:\\.${PART}){0,2}$`);
/** One or two dotted parts followed by `.*`. */
const SCHEMA_PATTERN = new RegExp(`^(${PART}(?:\\.${PART})?)\\.\\*$`);

/** Parts of a name as the warehouse reads them; throws a 400 naming `parameter`. */
function tableKeyOf(text: string, parameter: string): TableKey {
  const parts = splitTableName(text, '"', (part) => part.toLowerCase(), 3, parameter);
  const table = parts[parts.length - 1]!;
  return { schema: parts.length >= 2 ? parts[parts.length - 2]! : null, table };
}

/**
 * SQL text as grants and requests are compared: surrounding white space and trailing
 * semicolons removed, nothing else.
 */
export function normalizeQueryText(text: string): string {
  return text.replace(/[\s;]+$/u, '').trim();
}

/**
 * Classifies a grant's source: `*`, a schema pattern (`schema.*`, `db.schema.*`), a table or
 * tileset FQN (1 to 3 parts), or, when it holds white space, a SQL query. Anything else is a
 * 400 naming `parameter`.
 */
export function parseGrantSource(source: string, parameter: string): GrantSource {
  const text = source.trim();
  if (text === '*') return { kind: 'all' };
  const pattern = SCHEMA_PATTERN.exec(text);
  if (pattern) {
    const parts = splitTableName(pattern[1]!, '"', (part) => part.toLowerCase(), 2, parameter);
    return { kind: 'schema', schema: parts[parts.length - 1]! };
  }
  if (TABLE_NAME.test(text)) return { kind: 'table', name: tableKeyOf(text, parameter) };
  if (/\s/u.test(text) && normalizeQueryText(text) !== '') {
    return { kind: 'query', text: normalizeQueryText(text) };
  }
  throw errors.invalidParameter(
    parameter,
    "expected a table or tileset name (schema.table), a pattern (schema.* or db.schema.*), '*' " +
      'or a SQL query',
  );
}

/** The table a request names, as the warehouse will resolve it; 400 naming `parameter`. */
export function requestedTable(name: string, parameter: string): RequestedSource {
  return { kind: 'table', name: tableKeyOf(name, parameter) };
}

export function requestedQuery(text: string): RequestedSource {
  return { kind: 'query', text: normalizeQueryText(text) };
}

/** Whether a grant covers the requested source. */
export function grantCovers(grant: GrantSource, requested: RequestedSource): boolean {
  switch (grant.kind) {
    case 'all':
      return true;
    case 'query':
      return requested.kind === 'query' && requested.text === grant.text;
    case 'schema':
      return requested.kind === 'table' && requested.name.schema === grant.schema;
    case 'table':
      return (
        requested.kind === 'table' &&
        requested.name.schema === grant.name.schema &&
        requested.name.table === grant.name.table
      );
  }
}

/** How a requested source reads in an error message. */
export function describeSource(requested: RequestedSource): string {
  if (requested.kind === 'query') return 'this query';
  const { schema, table } = requested.name;
  return `table '${schema === null ? table : `${schema}.${table}`}'`;
}
