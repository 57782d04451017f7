import { describe, expect, it } from 'vitest';
import { acceptsGzip, etagOf, etagOfTileKey } from './tile-cache.js';

describe('acceptsGzip', () => {
  it('accepts gzip listed plainly, with a positive q-value, or through *', () => {
    expect(acceptsGzip('gzip, deflate, br')).toBe(true);
    expect(acceptsGzip('br;q=1.0, gzip;q=0.5')).toBe(true);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('x-gzip')).toBe(true);
    expect(acceptsGzip('br;q=0.1, *;q=0.5')).toBe(true);
  });

  it('refuses when gzip is absent, excluded with q=0, or the header is missing', () => {
    expect(acceptsGzip('br, deflate')).toBe(false);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('gzip;q=0, *')).toBe(false);
    expect(acceptsGzip('*;q=0')).toBe(false);
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

describe('etagOfTileKey', () => {
  it('is weak, the same for one key whatever the bytes, and different for another key', () => {
    const a = etagOfTileKey('source|inspected|mvt|8/1/2', Buffer.from('tile a'));
    expect(a).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
    expect(etagOfTileKey('source|inspected|mvt|8/1/2', Buffer.from('tile a, again'))).toBe(a);
    expect(etagOfTileKey('source|inspected|mvt|8/1/3', Buffer.from('tile a'))).not.toBe(a);
    expect(etagOfTileKey('source|inspected|mvt|8/1/2', null)).toBe('"empty"');
  });
});
