/**
 * CARTO binary vector tile writer: the protobuf deck.gl's CARTO layers read
 * (`@deck.gl/carto` `layers/schema/carto-tile.ts`), holding a loaders.gl
 * `BinaryFeatureCollection` with WGS84 positions.
 *
 * Tile     { 1: Points; 2: Lines; 3: Polygons }
 * Points   { 1: Doubles positions; 2: Ints globalFeatureIds; 3: Ints featureIds;
 *            4: Properties*; 5: NumericPropKV*; 6: Fields* }
 * Lines    { 1: positions; 2: Ints pathIndices; 3: globalFeatureIds; 4: featureIds;
 *            5: Properties*; 6: NumericPropKV*; 7: Fields* }
 * Polygons { 1: positions; 2: Ints polygonIndices; 3: globalFeatureIds; 4: featureIds;
 *            5: Ints primitivePolygonIndices; 6: Ints triangles; 7: Properties*;
 *            8: NumericPropKV*; 9: Fields* }
 * Doubles  { 1: bytes (float64 LE); 2: size }   Ints { 1: packed varint; 2: size }
 * Properties { 1: KeyValue { 1: key; 2: value }* }   NumericPropKV { 1: key; 2: { 1: bytes } }
 */
import Pbf from 'pbf';
import { writeTextField } from './pbf-text.js';
import { tileToLonLat, type TileGrid } from './tile-grid.js';
import type { TileFeature, TilePoint } from './tile-features.js';
import type { TileProperty } from './tile-properties.js';

type Kind = 'Point' | 'LineString' | 'Polygon';

/** One geometry kind's arrays, built feature by feature. */
class KindBuffers {
  readonly positions: number[] = [];
  readonly globalFeatureIds: number[] = [];
  readonly featureIds: number[] = [];
  /** Per-vertex values of each numeric property, NaN where a feature has none. */
  readonly numeric: number[][];
  readonly properties: [string, string][][] = [];
  /** Start vertex of each line, or of each polygon; closed by the vertex count. */
  readonly primaryIndices: number[] = [];
  /** Start vertex of each polygon ring; closed by the vertex count. */
  readonly ringIndices: number[] = [];
  private featureCount = 0;

  constructor(
    private readonly grid: TileGrid,
    numericCount: number,
  ) {
    this.numeric = Array.from({ length: numericCount }, () => []);
  }

  get vertexCount(): number {
    return this.globalFeatureIds.length;
  }

  addVertices(
    points: readonly TilePoint[],
    feature: TileFeature,
    numeric: readonly number[],
  ): void {
    for (const [px, py] of points) {
      const [lon, lat] = tileToLonLat(this.grid, px, py);
      this.positions.push(lon, lat);
      this.globalFeatureIds.push(feature.rowIndex);
      this.featureIds.push(this.featureCount);
      numeric.forEach((value, i) => this.numeric[i]!.push(value));
    }
  }

  endFeature(properties: [string, string][]): void {
    this.properties.push(properties);
    this.featureCount++;
  }
}

function float64Bytes(values: readonly number[]): Uint8Array {
  // Explicit little-endian: the reader copies these bytes straight into a Float64Array.
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setFloat64(i * 8, value, true));
  return bytes;
}

/**
 * Writes a large nested message built apart and added as bytes: pbf sizes a nested message
 * after writing it and shifts the bytes one by one when the length prefix needs more room.
 */
function writeLarge(pbf: Pbf, tag: number, build: (inner: Pbf) => void): void {
  const inner = new Pbf();
  build(inner);
  pbf.writeBytesField(tag, inner.finish());
}

function writeDoubles(pbf: Pbf, tag: number, values: readonly number[]): void {
  writeLarge(pbf, tag, (inner) => {
    inner.writeBytesField(1, float64Bytes(values));
    inner.writeVarintField(2, 2);
  });
}

function writeInts(pbf: Pbf, tag: number, values: number[]): void {
  writeLarge(pbf, tag, (inner) => {
    inner.writePackedVarint(1, values);
    inner.writeVarintField(2, 1);
  });
}

/** Field numbers of the repeated members, which shift with each kind's extra indices. */
const LAYOUT = {
  Point: { properties: 4, numeric: 5 },
  LineString: { properties: 5, numeric: 6 },
  Polygon: { properties: 7, numeric: 8 },
} as const;

function writeKind(pbf: Pbf, kind: Kind, buffers: KindBuffers, numericNames: string[]): void {
  const end = buffers.vertexCount;
  writeDoubles(pbf, 1, buffers.positions);
  if (kind === 'Point') {
    writeInts(pbf, 2, buffers.globalFeatureIds);
    writeInts(pbf, 3, buffers.featureIds);
  } else {
    writeInts(pbf, 2, [...buffers.primaryIndices, end]);
    writeInts(pbf, 3, buffers.globalFeatureIds);
    writeInts(pbf, 4, buffers.featureIds);
    if (kind === 'Polygon') writeInts(pbf, 5, [...buffers.ringIndices, end]);
  }
  for (const entries of buffers.properties) {
    pbf.writeMessage(LAYOUT[kind].properties, () => {
      for (const [key, value] of entries) {
        pbf.writeMessage(1, () => {
          writeTextField(pbf, 1, key);
          writeTextField(pbf, 2, value);
        });
      }
    });
  }
  numericNames.forEach((name, i) => {
    writeLarge(pbf, LAYOUT[kind].numeric, (entry) => {
      writeTextField(entry, 1, name);
      writeLarge(entry, 2, (value) => value.writeBytesField(1, float64Bytes(buffers.numeric[i]!)));
    });
  });
}

/**
 * Encodes features (tile units of `grid`) as a CARTO binary tile: WGS84 positions, numbers
 * as per-vertex numericProps (NaN for no value), every other value as a string property
 * (booleans 'true'/'false'). Returns null when there are no features.
 */
export function encodeCartoBinary(
  features: readonly TileFeature[],
  properties: readonly TileProperty[],
  grid: TileGrid,
): Uint8Array | null {
  if (features.length === 0) return null;
  const numericIndex = properties.flatMap((p, i) => (p.kind === 'number' ? [i] : []));
  const stringIndex = properties.flatMap((p, i) => (p.kind === 'number' ? [] : [i]));
  const kinds: Record<Kind, KindBuffers> = {
    Point: new KindBuffers(grid, numericIndex.length),
    LineString: new KindBuffers(grid, numericIndex.length),
    Polygon: new KindBuffers(grid, numericIndex.length),
  };

  for (const feature of features) {
    const numeric = numericIndex.map((i) => {
      const value = feature.values[i];
      return typeof value === 'number' ? value : value == null ? NaN : Number(value);
    });
    const strings: [string, string][] = [];
    for (const i of stringIndex) {
      const value = feature.values[i];
      if (value != null) strings.push([properties[i]!.name, String(value)]);
    }
    const { geometry } = feature;
    const buffers = kinds[geometry.type];
    if (geometry.type === 'Point') buffers.addVertices(geometry.points, feature, numeric);
    else if (geometry.type === 'LineString') {
      for (const line of geometry.lines) {
        buffers.primaryIndices.push(buffers.vertexCount);
        buffers.addVertices(line, feature, numeric);
      }
    } else {
      for (const polygon of geometry.polygons) {
        buffers.primaryIndices.push(buffers.vertexCount);
        for (const ring of polygon) {
          buffers.ringIndices.push(buffers.vertexCount);
          buffers.addVertices(ring, feature, numeric);
        }
      }
    }
    buffers.endFeature(strings);
  }

  const numericNames = numericIndex.map((i) => properties[i]!.name);
  const pbf = new Pbf();
  writeLarge(pbf, 1, (inner) => writeKind(inner, 'Point', kinds.Point, numericNames));
  writeLarge(pbf, 2, (inner) => writeKind(inner, 'LineString', kinds.LineString, numericNames));
  writeLarge(pbf, 3, (inner) => writeKind(inner, 'Polygon', kinds.Polygon, numericNames));
  return pbf.finish();
}
