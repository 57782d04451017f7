/**
 * SQL built from pieces whose nature is known: trusted text written here, identifiers that a
 * dialect quotes, and values that a dialect binds. User input only ever enters as an
 * identifier or a value, so the text of a statement never contains it unquoted.
 */

export type SqlPiece =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'identifier'; readonly name: string }
  | { readonly kind: 'value'; readonly value: unknown };

export class Sql {
  constructor(readonly pieces: readonly SqlPiece[]) {}

  get isEmpty(): boolean {
    return this.pieces.every((piece) => piece.kind === 'text' && piece.text === '');
  }
}

/** Appends one by one: spreading a long list into `push` overflows the call stack. */
function appendPieces(into: SqlPiece[], from: Sql): void {
  for (const piece of from.pieces) into.push(piece);
}

/**
 * Template tag: literal parts are trusted text, an interpolated `Sql` is inlined, anything
 * else becomes a bound value.
 */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  const pieces: SqlPiece[] = [];
  strings.forEach((text, i) => {
    if (text !== '') pieces.push({ kind: 'text', text });
    if (i >= values.length) return;
    const value = values[i];
    if (value instanceof Sql) appendPieces(pieces, value);
    else pieces.push({ kind: 'value', value });
  });
  return new Sql(pieces);
}

/** Trusted SQL text: only for text written in this code base, never for input. */
export function raw(text: string): Sql {
  return new Sql([{ kind: 'text', text }]);
}

/** A column or alias name, quoted by the dialect. */
export function identifier(name: string): Sql {
  return new Sql([{ kind: 'identifier', name }]);
}

/** A value bound as a parameter. */
export function value(bound: unknown): Sql {
  return new Sql([{ kind: 'value', value: bound }]);
}

export function join(items: readonly Sql[], separator = ', '): Sql {
  const pieces: SqlPiece[] = [];
  items.forEach((item, i) => {
    if (i > 0) pieces.push({ kind: 'text', text: separator });
    appendPieces(pieces, item);
  });
  return new Sql(pieces);
}

export const EMPTY = new Sql([]);

/** Joins conditions with AND; null when there are none. */
export function allOf(conditions: readonly Sql[]): Sql | null {
  if (conditions.length === 0) return null;
  if (conditions.length === 1) return conditions[0]!;
  return sql`(${join(conditions, ' AND ')})`;
}

/** Joins conditions with OR; null when there are none. */
export function anyOf(conditions: readonly Sql[]): Sql | null {
  if (conditions.length === 0) return null;
  if (conditions.length === 1) return conditions[0]!;
  return sql`(${join(conditions, ' OR ')})`;
}

/** How a dialect turns pieces into text. */
export interface SqlRenderer {
  quoteIdentifier(name: string): string;
  /** The marker of the bound value at 1-based position `index` of the statement. */
  placeholder(index: number): string;
}

export interface RenderedSql {
  text: string;
  params: unknown[];
}

/**
 * Renders a statement for a dialect. `leadingParams` are bound values the statement's trusted
 * text already refers to (a query source's own `$1..$n`); the builder's values follow them.
 */
export function render(
  statement: Sql,
  renderer: SqlRenderer,
  leadingParams: readonly unknown[] = [],
): RenderedSql {
  const params = [...leadingParams];
  let text = '';
  for (const piece of statement.pieces) {
    if (piece.kind === 'text') text += piece.text;
    else if (piece.kind === 'identifier') text += renderer.quoteIdentifier(piece.name);
    else {
      params.push(piece.value);
      text += renderer.placeholder(params.length);
    }
  }
  return { text, params };
}
