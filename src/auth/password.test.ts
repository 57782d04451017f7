import { describe, expect, it } from 'vitest';
import { MIN_PASSWORD_LENGTH, passwordProblem } from './password.js';

describe('passwordProblem', () => {
  it('counts characters, not UTF-16 units', () => {
    expect(passwordProblem('🔑'.repeat(MIN_PASSWORD_LENGTH - 1))).toMatch(/at least/);
    expect(passwordProblem('🔑'.repeat(MIN_PASSWORD_LENGTH))).toBeNull();
  });

  it('refuses a password of blanks only, and takes blanks within one', () => {
    expect(passwordProblem(' '.repeat(MIN_PASSWORD_LENGTH + 1))).toMatch(/only blanks/);
    expect(passwordProblem('correct horse battery')).toBeNull();
  });

  it('refuses passwords that are too short', () => {
    expect(passwordProblem('short')).toMatch(/at least/);
  });
});
