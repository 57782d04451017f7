/**
 * Reads which feature of a stored CARTO binary tile holds which key: deck.gl's boundary merge
 * looks a feature's data up by the `geoid` among its string properties, and indexes numeric
 * data by the feature's global id. Only ids and properties are read; positions are skipped.
 *
 * Tile  { 1: Points; 2: Lines; 3: Polygons }, each kind with `globalFeatureIds` and
 * `featureIds` (per vertex, `Ints { 1: packed varint }`) and one `Properties` per feature
 * (`{ 1: KeyValue { 1: key; 2: value } }`), at field numbers that differ by kind.
 */
import Pbf from 'pbf';

const LAYOUT = {
  1: { globalFeatureIds: 2, featureIds: 3, properties: 4 },
  2: { globalFeatureIds: 3, featureIds: 4, properties: 5 },
  3: { globalFeatureIds: 3, featureIds: 4, properties: 7 },
} as const;

/** `Ints { 1: packed varint value; 2: size }` as a plain array. */
function readInts(pbf: Pbf, end: number): number[] {
  const values: number[] = [];
  pbf.readFields(
    (tag) => {
      if (tag === 1) pbf.readPackedVarint(values);
    },
    null,
    end,
  );
  return values;
}

/** The value of `key` in one feature's `Properties`, or undefined. */
function readProperty(pbf: Pbf, end: number, key: string): string | undefined {
  let found: string | undefined;
  pbf.readFields(
    (tag) => {
      if (tag !== 1) return;
      let name = '';
      let value: string | undefined;
      pbf.readFields(
        (inner) => {
          if (inner === 1) name = pbf.readString();
          else if (inner === 2) value = pbf.readString();
        },
        null,
        pbf.readVarint() + pbf.pos,
      );
      if (name === key) found = value;
    },
    null,
    end,
  );
  return found;
}

/** One kind's features: the global id and the key of each, in feature order. */
/** Keys by global feature id, and the vertices counted so far. */
interface Keys extends Map<number, string> {
  vertices: number;
}

function readKind(pbf: Pbf, end: number, kind: 1 | 2 | 3, key: string, into: Keys) {
  const layout = LAYOUT[kind];
  let globalIds: number[] = [];
  let featureIds: number[] = [];
  const keys: (string | undefined)[] = [];
  pbf.readFields(
    (tag) => {
      if (tag === layout.globalFeatureIds) globalIds = readInts(pbf, pbf.readVarint() + pbf.pos);
      else if (tag === layout.featureIds) featureIds = readInts(pbf, pbf.readVarint() + pbf.pos);
      else if (tag === layout.properties)
        keys.push(readProperty(pbf, pbf.readVarint() + pbf.pos, key));
    },
    null,
    end,
  );
  const count = Math.min(globalIds.length, featureIds.length);
  into.vertices += count;
  for (let i = 0; i < count; i++) {
    const value = keys[featureIds[i]!];
    if (value !== undefined && !into.has(globalIds[i]!)) into.set(globalIds[i]!, value);
  }
}

/**
 * The string property `key` of every feature of a binary tile, by global feature id.
 * Features without it are left out. Throws on bytes that are not such a tile.
 */
export function featureKeysOf(tile: Uint8Array, key: string): Map<number, string> {
  const pbf = new Pbf(tile);
  const keys: Keys = Object.assign(new Map<number, string>(), { vertices: 0 });
  pbf.readFields((tag) => {
    if (tag === 1 || tag === 2 || tag === 3) {
      readKind(pbf, pbf.readVarint() + pbf.pos, tag, key, keys);
    }
  }, null);
  // A feature has a vertex at least, so ids count features: a larger id is not such a tile,
  // and would size the numeric arrays after it.
  for (const id of keys.keys()) {
    if (id >= keys.vertices) throw new RangeError(`feature id ${id} of ${keys.vertices} vertices`);
  }
  return keys;
}
