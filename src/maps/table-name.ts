import { splitTableName } from '../sql-builder/dialect.js';

/** A table reference split into schema and table, with PostgreSQL's case rules applied. */
export interface TableName {
  schema: string | null;
  table: string;
}

/**
 * Parses `table`, `schema.table` or `database.schema.table`. Quoted parts keep their exact
 * spelling (`public."CityPoints"`); unquoted parts fold to lower case, as PostgreSQL does.
 * The database part, when present, names the connection's own database and is dropped.
 */
export function parseTableName(text: string): TableName {
  const parts = splitTableName(text, '"', (part) => part.toLowerCase(), 3, 'name');
  const table = parts[parts.length - 1]!;
  const schema = parts.length >= 2 ? parts[parts.length - 2]! : null;
  return { schema, table };
}

/** Quotes an identifier for PostgreSQL: always quoted, embedded quotes doubled. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteTableName(name: TableName): string {
  return name.schema === null
    ? quoteIdentifier(name.table)
    : `${quoteIdentifier(name.schema)}.${quoteIdentifier(name.table)}`;
}
