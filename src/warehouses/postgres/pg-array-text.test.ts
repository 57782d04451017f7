import { describe, expect, it } from 'vitest';
import { parseArrayText } from './pg-array-text.js';

const asNumber = (text: string) => Number(text);
const asText = (text: string) => text;

describe('parseArrayText', () => {
  it('parses elements with the element parser and NULL as null', () => {
    expect(parseArrayText('{1,NULL,3}', asNumber)).toEqual([1, null, 3]);
  });

  it('unquotes and unescapes quoted elements, keeping a quoted "NULL" as text', () => {
    const text = String.raw`{"a b","c,d","e\"f","g\\h","NULL",""}`;

    expect(parseArrayText(text, asText)).toEqual(['a b', 'c,d', 'e"f', 'g\\h', 'NULL', '']);
  });

  it('nests arrays of more dimensions and reads empty arrays', () => {
    expect(parseArrayText('{{1,2},{3,4}}', asNumber)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(parseArrayText('{}', asNumber)).toEqual([]);
  });

  it('ignores explicit bounds and honours another delimiter', () => {
    expect(parseArrayText('[0:1]={5,6}', asNumber)).toEqual([5, 6]);
    expect(parseArrayText('{(1,1),(0,0);(2,2),(1,1)}', asText, ';')).toEqual([
      '(1,1),(0,0)',
      '(2,2),(1,1)',
    ]);
  });

  it('rejects text that is not an array', () => {
    expect(() => parseArrayText('1,2', asNumber)).toThrow(/Malformed array text/);
    expect(() => parseArrayText('{"open', asText)).toThrow(/Malformed array text/);
  });
});
