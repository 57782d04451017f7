import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, readCsvRecords } from './csv-reader.js';
import { GeoJsonSyntaxError, readGeoJsonFeatures } from './geojson-reader.js';

async function* chunksOf(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const CSV = 'id,name,note\r\n1,"North, ""old""",plain\r\n\r\n2,South,"two\nlines"\n3,,';

const COLLECTION = JSON.stringify(
  {
    type: 'FeatureCollection',
    name: 'brackets ] and } in "strings" {',
    features: [
      {
        type: 'Feature',
        properties: { a: '}]' },
        geometry: { type: 'Point', coordinates: [1, 2] },
      },
      { type: 'Feature', properties: { b: [1, { c: 2 }] }, geometry: null },
    ],
    bbox: [0, 0, 1, 1],
  },
  null,
  1,
);

describe('readCsvRecords', () => {
  it('reads quoted fields, doubled quotes and line breaks wherever the chunks split', async () => {
    const expected = [
      { line: 1, fields: ['id', 'name', 'note'] },
      { line: 2, fields: ['1', 'North, "old"', 'plain'] },
      { line: 4, fields: ['2', 'South', 'two\nlines'] },
      { line: 6, fields: ['3', '', ''] },
    ];
    for (let size = 1; size <= CSV.length; size += 1) {
      expect(await collect(readCsvRecords(chunksOf(CSV, size)))).toEqual(expected);
    }
  });

  it('names the line where an unclosed quote or text after a closing quote shows', async () => {
    await expect(collect(readCsvRecords(chunksOf('a\n"open\nstill', 4)))).rejects.toEqual(
      new CsvSyntaxError(3, 'a quoted field is never closed'),
    );
    await expect(collect(readCsvRecords(chunksOf('a\n"x"y\n', 3)))).rejects.toMatchObject({
      line: 2,
      message: 'unexpected text after a closing quote',
    });
  });
});

describe('readGeoJsonFeatures', () => {
  it('yields each feature with its number and line wherever the chunks split', async () => {
    const parsed = JSON.parse(COLLECTION) as { features: unknown[] };
    for (let size = 1; size <= COLLECTION.length; size += 7) {
      const features = await collect(readGeoJsonFeatures(chunksOf(COLLECTION, size)));
      expect(features.map((f) => f.feature)).toEqual(parsed.features);
      expect(features.map((f) => f.index)).toEqual([1, 2]);
      expect(features[0]!.line).toBe(5);
    }
  });

  it('refuses other GeoJSON objects, cut files and features that are not objects', async () => {
    const feature = '{"type":"Feature","properties":{},"geometry":null}';
    await expect(collect(readGeoJsonFeatures(chunksOf(feature, 5)))).rejects.toThrow(
      'expected a FeatureCollection, found a Feature',
    );
    const cut = '{"type":"FeatureCollection","features":[{"type":"Feature"';
    await expect(collect(readGeoJsonFeatures(chunksOf(cut, 5)))).rejects.toThrow(
      'the file ends early (feature 1 is not closed)',
    );
    const numbers = '{"type":"FeatureCollection","features":[\n{},\n3]}';
    await expect(collect(readGeoJsonFeatures(chunksOf(numbers, 5)))).rejects.toEqual(
      new GeoJsonSyntaxError(3, 'is not an object', 2),
    );
    await expect(collect(readGeoJsonFeatures(chunksOf('[1,2]', 5)))).rejects.toThrow(
      'expected a GeoJSON FeatureCollection (an object)',
    );
  });
});
