import Pbf from 'pbf';
import { describe, expect, it } from 'vitest';
import { encodePropertiesTile } from './properties-tile.js';
import { featureKeysOf } from './tile-feature-keys.js';

/** A binary tile of points only: per-vertex global and feature ids, and each feature's geoid. */
function pointsTile(globalIds: number[], geoids: string[]): Uint8Array {
  const points = new Pbf();
  const ints = (tag: number, values: number[]) =>
    points.writeMessage(tag, () => points.writePackedVarint(1, values));
  ints(2, globalIds);
  ints(
    3,
    globalIds.map((_, i) => i),
  );
  for (const geoid of geoids) {
    points.writeMessage(4, () =>
      points.writeMessage(1, () => {
        points.writeStringField(1, 'geoid');
        points.writeStringField(2, geoid);
      }),
    );
  }
  const tile = new Pbf();
  tile.writeBytesField(1, points.finish());
  return tile.finish();
}

describe('featureKeysOf', () => {
  it('reads the geoid of each feature by its global id', () => {
    const keys = featureKeysOf(pointsTile([0, 2, 1], ['a', 'c', 'b']), 'geoid');
    expect([...keys]).toEqual([
      [0, 'a'],
      [2, 'c'],
      [1, 'b'],
    ]);
  });

  it('refuses a feature id beyond what the tile can number', () => {
    expect(() => featureKeysOf(pointsTile([0, 2 ** 30], ['a', 'b']), 'geoid')).toThrow(RangeError);
  });
});

describe('encodePropertiesTile', () => {
  it('numbers the values of a tile of 200,000 features by their global ids', () => {
    const count = 200_000;
    const keys = new Map(Array.from({ length: count }, (_, i) => [i, `g${i}`] as const));
    const rows = [{ geoid: `g${count - 1}`, strings: [], numbers: [7] }];
    const tile = encodePropertiesTile(keys, rows, { strings: [], numbers: ['v'] });
    expect(tile).not.toBeNull();
    // Every feature gets a slot, 8 bytes each, the last one holding the value.
    expect(tile!.length).toBeGreaterThan(count * 8);
  });

  it('is empty when no feature has data', () => {
    const keys = new Map([[0, 'a']]);
    expect(encodePropertiesTile(keys, [], { strings: [], numbers: ['v'] })).toBeNull();
  });
});
