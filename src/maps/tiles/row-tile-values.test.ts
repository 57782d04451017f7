import { describe, expect, it } from 'vitest';
import { rowPropertyValue } from './row-tile-values.js';
import type { TileProperty } from './tile-properties.js';

const property = (kind: TileProperty['kind'], cartoType: TileProperty['cartoType']) => ({
  name: 'p',
  kind,
  cartoType,
});

describe('row path property values', () => {
  it('keeps numbers, and bigints past 2^53 as their exact digits', () => {
    const bigint = property('number', 'bigint');

    expect(rowPropertyValue(42, property('number', 'number'))).toBe(42);
    expect(rowPropertyValue('100', bigint)).toBe(100);
    expect(rowPropertyValue('-9007199254740993', bigint)).toBe('-9007199254740993');
    expect(rowPropertyValue(9007199254740993n, bigint)).toBe('9007199254740993');
  });

  it('turns numerics into doubles, and values no double holds into no value', () => {
    const number = property('number', 'number');

    expect(rowPropertyValue('1234.5678', number)).toBe(1234.5678);
    expect(rowPropertyValue('0.000', number)).toBe(0);
    expect(rowPropertyValue('1e400', number)).toBeNull();
    expect(rowPropertyValue('NaN', number)).toBeNull();
    expect(rowPropertyValue(Infinity, number)).toBeNull();
  });

  it('writes instants as ISO-8601 UTC, reading zone-less text as UTC', () => {
    const timestamp = property('string', 'timestamp');

    expect(rowPropertyValue('2024-03-31T01:30:00+02:00', timestamp)).toBe(
      '2024-03-30T23:30:00.000Z',
    );
    expect(rowPropertyValue('1999-12-31', timestamp)).toBe('1999-12-31T00:00:00.000Z');
    expect(rowPropertyValue('2024-01-02 03:04:05', timestamp)).toBe('2024-01-02T03:04:05.000Z');
    expect(rowPropertyValue(new Date(Date.UTC(2020, 0, 1)), timestamp)).toBe(
      '2020-01-01T00:00:00.000Z',
    );
  });

  it('carries json and arrays as their JSON text, booleans as booleans', () => {
    expect(rowPropertyValue({ a: 1 }, property('string', 'object'))).toBe('{"a":1}');
    expect(rowPropertyValue(['a', 'b'], property('string', 'object'))).toBe('["a","b"]');
    expect(rowPropertyValue(true, property('boolean', 'boolean'))).toBe(true);
    expect(rowPropertyValue('yes', property('boolean', 'boolean'))).toBeNull();
    expect(rowPropertyValue(null, property('string', 'string'))).toBeNull();
  });
});
