import { describe, expect, it } from 'vitest';
import { PG_TEXT_PARSERS, PG_TYPE_OID, keepText } from '../postgres-types.js';
import { columnReaderOf, isJsonNumberText } from './column-readers.js';

const TEXTS: Record<string, string[]> = {
  int2: ['0', '-32768', '32767'],
  int4: ['0', '-2147483648', '2147483647'],
  int8: [
    '0',
    '-1',
    '999999999999999',
    '9007199254740991',
    '9007199254740993',
    '-9223372036854775808',
  ],
  float8: [
    '0',
    '-0',
    '0.1',
    '123.45',
    '-2.5',
    '1e+20',
    '1e-05',
    '1.5e-07',
    '0.0001',
    '123456789012345',
    '1234567890123456',
    '0.30000000000000004',
    '1.7976931348623157e+308',
    'NaN',
    'Infinity',
    '-Infinity',
  ],
  float4: ['0.1', '3.4028235e+38', '-0', '1e-45', 'NaN'],
  numeric: ['0', '1.50', '-0.5', '100', '12345678901234567890', '1e+400', 'NaN', '0.000001'],
  bool: ['t', 'f'],
  text: ['', 'plain', 'say "hi"\n\\', '\u2028 é 😀'],
  timestamptz: ['2024-03-30 23:30:00.123456+05:30', 'infinity'],
  json: ['{"a": [1, 2.50, null]}', '"x"', '12345678901234567890'],
};

const OIDS: Record<string, number> = { ...PG_TYPE_OID, text: 25 };

describe('columnReaderOf', () => {
  for (const [type, texts] of Object.entries(TEXTS)) {
    it(`writes ${type} text as JSON.stringify writes its value`, () => {
      const oid = OIDS[type]!;
      const parse = PG_TEXT_PARSERS[oid] ?? keepText;
      const reader = columnReaderOf(oid, parse);

      for (const text of texts) {
        expect(reader.valueOf(text), text).toEqual(parse(text));
        expect(reader.jsonOf(text), text).toBe(JSON.stringify(parse(text)));
      }
    });
  }
});

describe('isJsonNumberText', () => {
  it('accepts only short plain decimals that read back as the same text', () => {
    const plain = ['0', '12', '-3.25', '0.001', '123456789012345'];
    const other = ['-0', '1.50', '01', '1e+20', '.5', '1.', '1234567890123456', 'NaN', ''];

    expect(plain.filter(isJsonNumberText)).toEqual(plain);
    expect(other.filter(isJsonNumberText)).toEqual([]);
    for (const text of plain) expect(String(Number(text))).toBe(text);
  });
});
