import { describe, expect, it } from 'vitest';
import { generateClientId, generateClientSecret } from './client-secret.js';

describe('client credentials', () => {
  it('makes client ids of 32 letters and digits, which no command line takes for an option', () => {
    const ids = Array.from({ length: 2000 }, generateClientId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('makes URL-safe secrets of 48 characters that never start with a dash', () => {
    const secrets = Array.from({ length: 2000 }, generateClientSecret);
    for (const secret of secrets) expect(secret).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{47}$/);
    expect(new Set(secrets).size).toBe(secrets.length);
  });
});
