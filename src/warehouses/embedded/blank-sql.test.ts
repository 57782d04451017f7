import { describe, expect, it } from 'vitest';
import { isBlankSql } from './blank-sql.js';

describe('isBlankSql', () => {
  it('accepts whitespace, semicolons and comments, nested ones included', () => {
    expect(isBlankSql('')).toBe(true);
    expect(isBlankSql(' ;\n\t;')).toBe(true);
    expect(isBlankSql('-- note\n/* a /* nested */ comment */ ;')).toBe(true);
    expect(isBlankSql('-- no newline at the end')).toBe(true);
  });

  it('rejects text holding a statement', () => {
    expect(isBlankSql('SELECT 1')).toBe(false);
    expect(isBlankSql('/* comment */ SELECT 1')).toBe(false);
    expect(isBlankSql('/* a /* nested */ still open */ x')).toBe(false);
    expect(isBlankSql('/* never closed')).toBe(false);
  });
});
