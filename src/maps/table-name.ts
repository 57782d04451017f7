import { errors } from '../http/errors.js';

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
  const parts: string[] = [];
  let i = 0;
  while (i <= text.length) {
    let part = '';
    if (text[i] === '"') {
      i += 1;
      while (i < text.length) {
        if (text[i] === '"' && text[i + 1] === '"') {
          part += '"';
          i += 2;
        } else if (text[i] === '"') {
          break;
        } else {
          part += text[i];
          i += 1;
        }
      }
      if (text[i] !== '"') throw errors.invalidParameter('name', 'unterminated quoted identifier');
      i += 1;
    } else {
      const end = text.indexOf('.', i);
      const raw = text.slice(i, end < 0 ? text.length : end).trim();
      if (/["\s]/.test(raw)) throw errors.invalidParameter('name', `bad identifier '${raw}'`);
      part = raw.toLowerCase();
      i = end < 0 ? text.length : end;
    }
    if (part === '') throw errors.invalidParameter('name', 'empty identifier');
    parts.push(part);
    if (i >= text.length) break;
    if (text[i] !== '.') throw errors.invalidParameter('name', `unexpected '${text[i]}'`);
    i += 1;
  }
  if (parts.length < 1 || parts.length > 3) {
    throw errors.invalidParameter('name', 'expected table, schema.table or database.schema.table');
  }
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
