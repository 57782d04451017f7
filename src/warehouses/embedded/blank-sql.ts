import { analyzeSql } from '../postgres-sql-text.js';

/**
 * Tells whether SQL text holds no statement at all: only whitespace, semicolons and comments.
 * PostgreSQL answers such text with EmptyQueryResponse instead of a command tag.
 */
export function isBlankSql(sql: string): boolean {
  return analyzeSql(sql).body === '';
}
