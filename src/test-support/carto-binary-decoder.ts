/**
 * Reads a CARTO binary vector tile the way deck.gl's CARTO loader lays it out, for tests.
 * Written from the wire layout alone, not from the encoder, so the two check each other.
 * Throws on anything deck.gl would choke on: a missing kind, positions or id arrays, or a
 * bytes field whose length is not a whole number of float64 values.
 */
import Pbf from 'pbf';

export interface DecodedKind {
  positions: Float64Array;
  positionSize: number;
  featureIds: number[];
  globalFeatureIds: number[];
  /** String properties, one object per feature of this kind. */
  properties: Record<string, string>[];
  /** Per-vertex numeric properties. */
  numericProps: Record<string, Float64Array>;
  /** pathIndices (lines), polygonIndices and primitivePolygonIndices (polygons). */
  indices: Record<string, number[]>;
  fieldIds: number[];
}

export interface DecodedCartoTile {
  points: DecodedKind;
  lines: DecodedKind;
  polygons: DecodedKind;
}

type FieldRole =
  | 'positions'
  | 'globalFeatureIds'
  | 'featureIds'
  | 'properties'
  | 'numericProps'
  | 'fields'
  | `index:${string}`;

const POINT_FIELDS: Record<number, FieldRole> = {
  1: 'positions',
  2: 'globalFeatureIds',
  3: 'featureIds',
  4: 'properties',
  5: 'numericProps',
  6: 'fields',
};
const LINE_FIELDS: Record<number, FieldRole> = {
  1: 'positions',
  2: 'index:pathIndices',
  3: 'globalFeatureIds',
  4: 'featureIds',
  5: 'properties',
  6: 'numericProps',
  7: 'fields',
};
const POLYGON_FIELDS: Record<number, FieldRole> = {
  1: 'positions',
  2: 'index:polygonIndices',
  3: 'globalFeatureIds',
  4: 'featureIds',
  5: 'index:primitivePolygonIndices',
  6: 'index:triangles',
  7: 'properties',
  8: 'numericProps',
  9: 'fields',
};

function readFloat64Bytes(pbf: Pbf): Float64Array {
  const bytes = pbf.readBytes();
  if (bytes.length % 8 !== 0) throw new Error(`float64 bytes of length ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float64Array(bytes.length / 8);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat64(i * 8, true);
  return values;
}

/** `Ints { 1: packed varint value; 2: size }` */
function readInts(pbf: Pbf): number[] {
  const values: number[] = [];
  const end = pbf.readVarint() + pbf.pos;
  pbf.readFields(
    (tag) => {
      if (tag === 1) pbf.readPackedVarint(values);
    },
    undefined,
    end,
  );
  return values;
}

/** `Doubles { 1: bytes value; 2: size }` */
function readDoubles(pbf: Pbf): { values: Float64Array; size: number } {
  let values: Float64Array = new Float64Array(0);
  let size = 0;
  const end = pbf.readVarint() + pbf.pos;
  pbf.readFields(
    (tag) => {
      if (tag === 1) values = readFloat64Bytes(pbf);
      else if (tag === 2) size = pbf.readVarint(true);
    },
    undefined,
    end,
  );
  return { values, size };
}

/** `Properties { 1: repeated KeyValue { 1: key; 2: value } }` */
function readProperties(pbf: Pbf): Record<string, string> {
  const result: Record<string, string> = {};
  const end = pbf.readVarint() + pbf.pos;
  pbf.readFields(
    (tag) => {
      if (tag !== 1) return;
      let key = '';
      let value = '';
      const pairEnd = pbf.readVarint() + pbf.pos;
      pbf.readFields(
        (pairTag) => {
          if (pairTag === 1) key = pbf.readString();
          else if (pairTag === 2) value = pbf.readString();
        },
        undefined,
        pairEnd,
      );
      result[key] = value;
    },
    undefined,
    end,
  );
  return result;
}

/** `NumericPropKV { 1: key; 2: NumericProp { 1: bytes value } }` */
function readNumericProp(pbf: Pbf): [string, Float64Array] {
  let key = '';
  let values: Float64Array = new Float64Array(0);
  const end = pbf.readVarint() + pbf.pos;
  pbf.readFields(
    (tag) => {
      if (tag === 1) key = pbf.readString();
      else if (tag === 2) {
        const innerEnd = pbf.readVarint() + pbf.pos;
        pbf.readFields(
          (innerTag) => {
            if (innerTag === 1) values = readFloat64Bytes(pbf);
          },
          undefined,
          innerEnd,
        );
      }
    },
    undefined,
    end,
  );
  return [key, values];
}

function readKind(pbf: Pbf, layout: Record<number, FieldRole>, label: string): DecodedKind {
  const kind: DecodedKind = {
    positions: new Float64Array(0),
    positionSize: 0,
    featureIds: [],
    globalFeatureIds: [],
    properties: [],
    numericProps: {},
    indices: {},
    fieldIds: [],
  };
  const seen = new Set<FieldRole>();
  const end = pbf.readVarint() + pbf.pos;
  pbf.readFields(
    (tag) => {
      const role = layout[tag];
      if (role === undefined) throw new Error(`${label}: unexpected field ${tag}`);
      seen.add(role);
      if (role === 'positions') {
        const { values, size } = readDoubles(pbf);
        kind.positions = values;
        kind.positionSize = size;
      } else if (role === 'globalFeatureIds') kind.globalFeatureIds = readInts(pbf);
      else if (role === 'featureIds') kind.featureIds = readInts(pbf);
      else if (role === 'properties') kind.properties.push(readProperties(pbf));
      else if (role === 'numericProps') {
        const [key, values] = readNumericProp(pbf);
        kind.numericProps[key] = values;
      } else if (role === 'fields') {
        const fieldEnd = pbf.readVarint() + pbf.pos;
        pbf.readFields(
          (t) => {
            if (t === 1) kind.fieldIds.push(pbf.readVarint());
          },
          undefined,
          fieldEnd,
        );
      } else kind.indices[role.slice('index:'.length)] = readInts(pbf);
    },
    undefined,
    end,
  );
  for (const required of ['positions', 'globalFeatureIds', 'featureIds'] as const) {
    if (!seen.has(required)) throw new Error(`${label}: no ${required}`);
  }
  return kind;
}

/** Decodes a whole tile; all three geometry kinds must be present. */
export function decodeCartoBinaryTile(bytes: Uint8Array): DecodedCartoTile {
  const pbf = new Pbf(bytes);
  const found: Partial<DecodedCartoTile> = {};
  pbf.readFields((tag) => {
    if (tag === 1) found.points = readKind(pbf, POINT_FIELDS, 'points');
    else if (tag === 2) found.lines = readKind(pbf, LINE_FIELDS, 'lines');
    else if (tag === 3) found.polygons = readKind(pbf, POLYGON_FIELDS, 'polygons');
    else throw new Error(`tile: unexpected field ${tag}`);
  });
  const { points, lines, polygons } = found;
  if (!points || !lines || !polygons) throw new Error('tile: a geometry kind is missing');
  return { points, lines, polygons };
}
