/**
 * Tells whether SQL text holds no statement at all: only whitespace, semicolons and comments.
 * PostgreSQL answers such text with EmptyQueryResponse instead of a command tag.
 */
export function isBlankSql(sql: string): boolean {
  let index = 0;
  while (index < sql.length) {
    const char = sql[index];
    if (char === ';' || /\s/.test(char ?? '')) {
      index += 1;
    } else if (sql.startsWith('--', index)) {
      const newline = sql.indexOf('\n', index);
      index = newline < 0 ? sql.length : newline + 1;
    } else if (sql.startsWith('/*', index)) {
      index = endOfBlockComment(sql, index);
      if (index < 0) return false;
    } else {
      return false;
    }
  }
  return true;
}

/** Index just past the block comment opening at `start`; PostgreSQL nests them. -1 if open. */
function endOfBlockComment(sql: string, start: number): number {
  let depth = 0;
  let index = start;
  while (index < sql.length) {
    if (sql.startsWith('/*', index)) {
      depth += 1;
      index += 2;
    } else if (sql.startsWith('*/', index)) {
      depth -= 1;
      index += 2;
      if (depth === 0) return index;
    } else {
      index += 1;
    }
  }
  return -1;
}
