/**
 * Just enough lexing of PostgreSQL text to wrap user SQL safely: find where the statement
 * really ends (ignoring trailing semicolons and comments), whether there is a second
 * statement, and its first keyword. Literals, quoted identifiers, dollar quotes and comments
 * are skipped, so a ';' or '--' inside them means nothing.
 */
export interface SqlShape {
  /** The statement without trailing semicolons, comments and blanks. */
  body: string;
  /** Lower-cased first keyword, e.g. `select`, `with`, `insert`; '' when there is none. */
  firstKeyword: string;
  /** True when a ';' separates two statements that both have content. */
  hasMultipleStatements: boolean;
}

/**
 * Index just past the quoted text opening at `start` (a doubled quote stands for itself), or
 * -1 when it never closes.
 */
export function quotedEnd(text: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return -1;
}

/** `quotedEnd`, reading an unclosed quote as running to the end, for PostgreSQL to reject. */
function skipQuoted(text: string, start: number, quote: string): number {
  const end = quotedEnd(text, start, quote);
  return end < 0 ? text.length : end;
}

/** Index just past the block comment opening at `start` (they nest); -1 when it never closes. */
function skipBlockComment(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    if (text.startsWith('/*', i)) {
      depth += 1;
      i += 2;
    } else if (text.startsWith('*/', i)) {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return -1;
}

const DOLLAR_TAG = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/;

/** Describes the shape of one SQL text; see `SqlShape`. */
export function analyzeSql(text: string): SqlShape {
  let lastContentEnd = 0;
  let firstKeyword = '';
  let sawSeparator = false;
  let hasMultipleStatements = false;
  let i = 0;
  const markContent = (end: number) => {
    if (sawSeparator) hasMultipleStatements = true;
    lastContentEnd = end;
  };

  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '-' && text[i + 1] === '-') {
      const newline = text.indexOf('\n', i);
      i = newline < 0 ? text.length : newline + 1;
    } else if (ch === '/' && text[i + 1] === '*') {
      const end = skipBlockComment(text, i);
      // An unclosed comment is left in the body for PostgreSQL to reject.
      if (end < 0) markContent(text.length);
      i = end < 0 ? text.length : end;
    } else if (ch === "'" || ch === '"') {
      const isEscapeString =
        ch === "'" && /(^|[^A-Za-z0-9_$])[eE]$/.test(text.slice(Math.max(0, i - 2), i));
      const end = isEscapeString ? skipEscapeString(text, i) : skipQuoted(text, i, ch);
      markContent(end);
      i = end;
    } else if (ch === '$' && DOLLAR_TAG.test(text.slice(i, i + 64))) {
      const tag = DOLLAR_TAG.exec(text.slice(i, i + 64))![0];
      const close = text.indexOf(tag, i + tag.length);
      const end = close < 0 ? text.length : close + tag.length;
      markContent(end);
      i = end;
    } else if (ch === ';') {
      if (lastContentEnd > 0) sawSeparator = true;
      i += 1;
    } else if (/\s/.test(ch)) {
      i += 1;
    } else {
      if (!firstKeyword && /[A-Za-z]/.test(ch)) {
        firstKeyword = /^[A-Za-z]+/.exec(text.slice(i))![0].toLowerCase();
      }
      markContent(i + 1);
      i += 1;
    }
  }
  return { body: text.slice(0, lastContentEnd), firstKeyword, hasMultipleStatements };
}

function skipEscapeString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === '\\') {
      i += 2;
    } else if (text[i] === "'") {
      if (text[i + 1] === "'") {
        i += 2;
        continue;
      }
      return i + 1;
    } else {
      i += 1;
    }
  }
  return text.length;
}

/**
 * The text with every comment and string literal (plain, escape and dollar-quoted) blanked
 * out, same length; quoted identifiers stay. What is left is the statement's own words, so a
 * search in it cannot be fooled by a literal holding `--` or by a name inside a string.
 */
export function maskLiteralsAndComments(text: string): string {
  let masked = '';
  let i = 0;
  const blank = (end: number) => {
    masked += text.slice(i, end).replace(/[^\n]/g, ' ');
    i = end;
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '-' && text[i + 1] === '-') {
      const newline = text.indexOf('\n', i);
      blank(newline < 0 ? text.length : newline);
    } else if (ch === '/' && text[i + 1] === '*') {
      const end = skipBlockComment(text, i);
      blank(end < 0 ? text.length : end);
    } else if (ch === "'") {
      const isEscapeString = /(^|[^A-Za-z0-9_$])[eE]$/.test(text.slice(Math.max(0, i - 2), i));
      blank(isEscapeString ? skipEscapeString(text, i) : skipQuoted(text, i, ch));
    } else if (ch === '"') {
      const end = skipQuoted(text, i, ch);
      masked += text.slice(i, end);
      i = end;
    } else if (ch === '$' && DOLLAR_TAG.test(text.slice(i, i + 64))) {
      const tag = DOLLAR_TAG.exec(text.slice(i, i + 64))![0];
      const close = text.indexOf(tag, i + tag.length);
      blank(close < 0 ? text.length : close + tag.length);
    } else {
      masked += ch;
      i += 1;
    }
  }
  return masked;
}

/** Statements whose rows can be read through `SELECT * FROM (...)`. */
export function isRowQuery(shape: SqlShape): boolean {
  return ['select', 'values', 'table'].includes(shape.firstKeyword);
}

/**
 * Wraps a query as a subquery. The newline before ')' keeps a trailing line comment from
 * swallowing the parenthesis.
 */
export function wrapAsSubquery(body: string, alias: string): string {
  return `(\n${body}\n) AS "${alias}"`;
}
