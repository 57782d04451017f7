import { describe, expect, it } from 'vitest';
import {
  PG_TEXT_PARSERS,
  PG_TYPE_OID,
  cartoTypeOf,
  parseFloatText,
  parseInt8Text,
  parseNumericText,
  parseTimestampText,
} from './postgres-types.js';

describe('parseInt8Text', () => {
  it('keeps integers up to 2^53-1 as numbers', () => {
    expect(parseInt8Text('9007199254740991')).toBe(9007199254740991);
    expect(parseInt8Text('-9007199254740991')).toBe(-9007199254740991);
    expect(parseInt8Text('0')).toBe(0);
  });

  it('returns integers beyond 2^53-1 as their exact decimal text', () => {
    expect(parseInt8Text('9007199254740992')).toBe('9007199254740992');
    expect(parseInt8Text('-9223372036854775808')).toBe('-9223372036854775808');
  });
});

describe('parseNumericText', () => {
  it('returns finite numerics as numbers', () => {
    expect(parseNumericText('12.50')).toBe(12.5);
    expect(parseNumericText('-0.001')).toBe(-0.001);
  });

  it('returns null for NaN and infinite numerics', () => {
    expect(parseNumericText('NaN')).toBeNull();
    expect(parseNumericText('Infinity')).toBeNull();
    expect(parseNumericText('-Infinity')).toBeNull();
  });

  it('keeps numerics beyond the range of a double as text', () => {
    const huge = '1' + '0'.repeat(400);
    expect(parseNumericText(huge)).toBe(huge);
  });
});

describe('parseFloatText', () => {
  it('returns null for values JSON cannot hold', () => {
    expect(parseFloatText('NaN')).toBeNull();
    expect(parseFloatText('Infinity')).toBeNull();
    expect(parseFloatText('-Infinity')).toBeNull();
    expect(parseFloatText('1.5e-7')).toBe(1.5e-7);
  });
});

describe('parseTimestampText', () => {
  it('converts timestamptz text in any offset to the UTC instant', () => {
    expect(parseTimestampText('2024-03-31 01:30:00+02')).toBe('2024-03-30T23:30:00.000Z');
    expect(parseTimestampText('2024-03-30 18:00:00.5-05:30')).toBe('2024-03-30T23:30:00.500Z');
    expect(parseTimestampText('1900-01-01 00:00:00+00:19:32')).toBe('1899-12-31T23:40:28.000Z');
  });

  it('reads a timestamp without zone as UTC and truncates microseconds', () => {
    expect(parseTimestampText('2024-03-30 23:30:00.123456')).toBe('2024-03-30T23:30:00.123Z');
  });

  it('keeps years below 100 and BC years', () => {
    expect(parseTimestampText('0044-03-15 12:00:00')).toBe('0044-03-15T12:00:00.000Z');
    expect(parseTimestampText('0044-03-15 12:00:00+00 BC')).toBe('-000043-03-15T12:00:00.000Z');
  });

  it('keeps PostgreSQL text for values a JS Date cannot hold', () => {
    expect(parseTimestampText('infinity')).toBe('infinity');
    expect(parseTimestampText('294276-12-31 23:59:59')).toBe('294276-12-31 23:59:59');
  });
});

describe('PG_TEXT_PARSERS', () => {
  it('keeps bytea as its hex text and parses json', () => {
    expect(PG_TEXT_PARSERS[PG_TYPE_OID.bytea]?.('\\xdeadbeef')).toBe('\\xdeadbeef');
    expect(PG_TEXT_PARSERS[PG_TYPE_OID.jsonb]?.('{"a":[1,"b"]}')).toEqual({ a: [1, 'b'] });
    expect(PG_TEXT_PARSERS[PG_TYPE_OID.bool]?.('t')).toBe(true);
  });
});

describe('cartoTypeOf', () => {
  it.each([
    ['int2', 'N', 'number'],
    ['int4', 'N', 'number'],
    ['float8', 'N', 'number'],
    ['numeric', 'N', 'number'],
    ['oid', 'N', 'number'],
    ['int8', 'N', 'bigint'],
    ['text', 'S', 'string'],
    ['bpchar', 'S', 'string'],
    ['uuid', 'U', 'string'],
    ['char', 'Z', 'string'],
    ['geometry', 'U', 'geometry'],
    ['geography', 'U', 'geometry'],
    ['timestamptz', 'D', 'timestamp'],
    ['date', 'D', 'timestamp'],
    ['timetz', 'D', 'timestamp'],
    ['jsonb', 'U', 'object'],
    ['record', 'P', 'object'],
    ['_int4', 'A', 'object'],
    ['bool', 'B', 'boolean'],
    ['interval', 'T', 'unknown'],
    ['bytea', 'U', 'unknown'],
    ['mood', 'E', 'string'],
  ] as const)('maps %s (category %s) to %s', (typname, typcategory, expected) => {
    expect(cartoTypeOf({ typname, typcategory })).toBe(expected);
  });
});
