import { describe, expect, it } from 'vitest';
import { analyzeSql, isRowQuery, maskLiteralsAndComments } from './postgres-sql-text.js';

describe('analyzeSql', () => {
  it('drops trailing semicolons, comments and blanks but keeps them inside literals', () => {
    expect(analyzeSql('SELECT 1 ;  -- done\n').body).toBe('SELECT 1');
    expect(analyzeSql("/* lead */ SELECT ';' AS s /* tail */;").body).toBe(
      "/* lead */ SELECT ';' AS s",
    );
    expect(analyzeSql('SELECT $t$ ; -- $t$ AS s').body).toBe('SELECT $t$ ; -- $t$ AS s');
  });

  it('finds the first keyword and a second statement', () => {
    const shape = analyzeSql('-- note\n  with q AS (SELECT 1) SELECT * FROM q; SELECT 2');
    expect(shape.firstKeyword).toBe('with');
    expect(shape.hasMultipleStatements).toBe(true);
    expect(isRowQuery(analyzeSql('VALUES (1)'))).toBe(true);
    expect(isRowQuery(analyzeSql('DELETE FROM t'))).toBe(false);
  });

  it('leaves an unclosed block comment in the body for PostgreSQL to reject', () => {
    expect(analyzeSql('SELECT 1 /* never closed').body).toBe('SELECT 1 /* never closed');
    expect(analyzeSql('/* a /* nested */ comment */').body).toBe('');
  });
});

describe('maskLiteralsAndComments', () => {
  it('blanks literals and comments, keeps words and quoted names, and the length', () => {
    const text =
      "SELECT 'a--b' AS \"x\", E'it\\'s -- f(' AS y, $t$ g( $t$ -- h(\n/* i( */ lo_put(1)";
    const masked = maskLiteralsAndComments(text);
    expect(masked).toHaveLength(text.length);
    expect(masked.replace(/\s+/g, ' ')).toBe('SELECT AS "x", E AS y, lo_put(1)');
  });
});
