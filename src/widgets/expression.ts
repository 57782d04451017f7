/**
 * Checks the SQL expressions CARTO's widget API accepts from clients (`operationExp`, an
 * `aggregations` string). They run with the connection's rights, as the SQL API does; the
 * check only keeps an expression inside the place it is put: balanced parentheses, no
 * statement separator, no comment, no bind marker, so it cannot close the builder's SQL
 * around it or hide the rest of it.
 */
import { errors } from '../http/errors.js';
import { raw, type Sql } from '../sql-builder/sql.js';
import { quotedEnd } from '../warehouses/postgres-sql-text.js';

const MAX_EXPRESSION_LENGTH = 10_000;

/** The expression as trusted text, once it is known to stay in its place; 400 otherwise. */
export function checkedExpression(text: unknown, parameter: string): Sql {
  if (typeof text !== 'string' || text.trim() === '') {
    throw errors.invalidParameter(parameter, 'expected a SQL expression');
  }
  if (text.length > MAX_EXPRESSION_LENGTH) {
    throw errors.invalidParameter(parameter, `longer than ${MAX_EXPRESSION_LENGTH} characters`);
  }
  if (text.includes('\\')) {
    // Escape-string literals would read a quote differently from this check.
    throw errors.invalidParameter(parameter, "'\\' is not allowed in an expression");
  }
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = quotedEnd(text, i, ch);
      if (end < 0) throw errors.invalidParameter(parameter, 'unterminated quote');
      i = end;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '--' || two === '/*' || ch === ';' || ch === '$') {
      throw errors.invalidParameter(parameter, `'${ch}' is not allowed in an expression`);
    }
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (depth < 0) throw errors.invalidParameter(parameter, 'unbalanced parentheses');
    i += 1;
  }
  if (depth !== 0) throw errors.invalidParameter(parameter, 'unbalanced parentheses');
  return raw(`(${text})`);
}

/** A list of `expression AS alias` items: the same check, without the wrapping parentheses. */
export function checkedSelectList(text: unknown, parameter: string): Sql {
  const wrapped = checkedExpression(text, parameter);
  const piece = wrapped.pieces[0];
  const inner = piece?.kind === 'text' ? piece.text.slice(1, -1) : '';
  return raw(inner);
}

/** The checked select list as SQL text, for builders that assemble text. */
export function checkedSelectListText(text: unknown, parameter: string): string {
  const piece = checkedSelectList(text, parameter).pieces[0];
  return piece?.kind === 'text' ? piece.text : '';
}
