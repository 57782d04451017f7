import { describe, expect, it } from 'vitest';
import { acceptsGzip, etagOf } from './tile-cache.js';

describe('acceptsGzip', () => {
  it('accepts gzip listed plainly, with a positive q-value, or through *', () => {
    expect(acceptsGzip('gzip, deflate, br')).toBe(true);
    expect(acceptsGzip('br;q=1.0, gzip;q=0.5')).toBe(true);
    expect(acceptsGzip('*')).toBe(true);
  });

  it('refuses when gzip is absent, excluded with q=0, or the header is missing', () => {
    expect(acceptsGzip('br, deflate')).toBe(false);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});

describe('etagOf', () => {
  it('is strong, stable for the same bytes and different for others', () => {
    const a = etagOf(Buffer.from('tile a'));
    expect(a).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(etagOf(Buffer.from('tile a'))).toBe(a);
    expect(etagOf(Buffer.from('tile b'))).not.toBe(a);
    expect(etagOf(null)).toBe('"empty"');
  });
});
