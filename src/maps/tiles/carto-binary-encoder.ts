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
 *
 * Fields (feature ids) are left out: sources carry no id column here, and loaders.gl spreads
 * `fields[i]` into the feature, so tile-local numbers would make features of different tiles
 * look identical to deck.gl's highlighting. Triangles are left out too; deck.gl runs earcut.
 */
import Pbf from 'pbf';
import { writeBytesField, writeTextField } from './pbf-writing.js';
import { lonLatProjection, type LonLatProjection, type TileGrid } from './tile-grid.js';
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
  /** The features, in order, for their string properties. */
  readonly features: TileFeature[] = [];
  /** Start vertex of each line, or of each polygon; closed by the vertex count. */
  readonly primaryIndices: number[] = [];
  /** Start vertex of each polygon ring; closed by the vertex count. */
  readonly ringIndices: number[] = [];

  constructor(
    private readonly project: LonLatProjection,
    private readonly numericIndex: readonly number[],
  ) {
    this.numeric = numericIndex.map(() => []);
  }

  get vertexCount(): number {
    return this.globalFeatureIds.length;
  }

  addVertices(points: readonly TilePoint[], feature: TileFeature): void {
    const featureId = this.features.length;
    for (const [px, py] of points) {
      this.positions.push(this.project.lon(px), this.project.lat(py));
      this.globalFeatureIds.push(feature.rowIndex);
      this.featureIds.push(featureId);
    }
    this.numericIndex.forEach((propertyIndex, i) => {
      const value = feature.values[propertyIndex];
      // A bigint beyond 2^53 arrives as a string; the nearest double is the best numericProps
      // can hold.
      const number = typeof value === 'number' ? value : value == null ? NaN : Number(value);
      const column = this.numeric[i]!;
      for (let n = 0; n < points.length; n++) column.push(number);
    });
  }

  add(feature: TileFeature): void {
    const { geometry } = feature;
    if (geometry.type === 'Point') this.addVertices(geometry.points, feature);
    else if (geometry.type === 'LineString') {
      for (const line of geometry.lines) {
        this.primaryIndices.push(this.vertexCount);
        this.addVertices(line, feature);
      }
    } else {
      for (const polygon of geometry.polygons) {
        this.primaryIndices.push(this.vertexCount);
        for (const ring of polygon) {
          this.ringIndices.push(this.vertexCount);
          this.addVertices(ring, feature);
        }
      }
    }
    this.features.push(feature);
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
 * Writes a large nested message built apart and added with one copy: pbf sizes a nested
 * message after writing it and then shifts its bytes one by one to fit the length prefix.
 */
function writeLarge(pbf: Pbf, tag: number, build: (inner: Pbf) => void): void {
  const inner = new Pbf();
  build(inner);
  writeBytesField(pbf, tag, inner.finish());
}

function writeDoubles(pbf: Pbf, tag: number, values: readonly number[]): void {
  writeLarge(pbf, tag, (inner) => {
    writeBytesField(inner, 1, float64Bytes(values));
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

function writeKind(
  pbf: Pbf,
  kind: Kind,
  buffers: KindBuffers,
  properties: readonly TileProperty[],
): void {
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
  for (const feature of buffers.features) {
    pbf.writeMessage(LAYOUT[kind].properties, () => {
      properties.forEach((property, i) => {
        const value = feature.values[i];
        if (property.kind === 'number' || value === null || value === undefined) return;
        pbf.writeMessage(1, () => {
          writeTextField(pbf, 1, property.name);
          writeTextField(pbf, 2, String(value));
        });
      });
    });
  }
  let numericColumn = 0;
  for (const property of properties) {
    if (property.kind !== 'number') continue;
    const values = buffers.numeric[numericColumn++]!;
    writeLarge(pbf, LAYOUT[kind].numeric, (entry) => {
      writeTextField(entry, 1, property.name);
      writeLarge(entry, 2, (value) => writeBytesField(value, 1, float64Bytes(values)));
    });
  }
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
  const project = lonLatProjection(grid);
  const numericIndex = properties.flatMap((p, i) => (p.kind === 'number' ? [i] : []));
  const kinds: Record<Kind, KindBuffers> = {
    Point: new KindBuffers(project, numericIndex),
    LineString: new KindBuffers(project, numericIndex),
    Polygon: new KindBuffers(project, numericIndex),
  };

  for (const feature of features) kinds[feature.geometry.type].add(feature);

  const pbf = new Pbf();
  writeLarge(pbf, 1, (inner) => writeKind(inner, 'Point', kinds.Point, properties));
  writeLarge(pbf, 2, (inner) => writeKind(inner, 'LineString', kinds.LineString, properties));
  writeLarge(pbf, 3, (inner) => writeKind(inner, 'Polygon', kinds.Polygon, properties));
  return pbf.finish();
}
