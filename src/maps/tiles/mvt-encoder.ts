/**
 * Mapbox Vector Tile 2.1 writer for one layer, on `pbf`.
 *
 * Not vt-pbf: it writes every integral number as a varint, so a double such as 1e20 in a
 * property throws ("Given varint doesn't fit into 10 bytes") and loses the whole tile.
 * Here only integers that survive the varint path exactly become int values; every other
 * number is a double.
 * Spec: https://github.com/mapbox/vector-tile-spec/tree/master/2.1
 */
import Pbf from 'pbf';
import { writeBytesField, writeTextField } from './pbf-writing.js';
import { ringArea, type TileFeature, type TilePoint } from './tile-features.js';
import type { TileProperty, TilePropertyValue } from './tile-properties.js';

export const MVT_LAYER_NAME = 'default';

type TileValue = Exclude<TilePropertyValue, null>;

const GEOMETRY_TYPE = { Point: 1, LineString: 2, Polygon: 3 } as const;
const MOVE_TO = 1;
const LINE_TO = 2;
const CLOSE_PATH = 7;

/** Zigzag doubles the magnitude, so larger negative integers would lose precision in pbf. */
const MAX_SINT = 2 ** 52;

function command(id: number, count: number): number {
  return (id & 0x7) | (count << 3);
}

function zigzag(n: number): number {
  return (n << 1) ^ (n >> 31);
}

/** Appends geometry commands; the cursor carries over between parts as the spec requires. */
class GeometryWriter {
  readonly commands: number[] = [];
  private x = 0;
  private y = 0;

  private vertex(point: TilePoint): void {
    this.commands.push(zigzag(point[0] - this.x), zigzag(point[1] - this.y));
    this.x = point[0];
    this.y = point[1];
  }

  points(points: readonly TilePoint[]): void {
    this.commands.push(command(MOVE_TO, points.length));
    for (const point of points) this.vertex(point);
  }

  /** A line, or a ring when `close` (the ring's repeated last vertex is implied by ClosePath). */
  path(path: readonly TilePoint[], close: boolean): void {
    const count = close ? path.length - 1 : path.length;
    this.commands.push(command(MOVE_TO, 1));
    this.vertex(path[0]!);
    this.commands.push(command(LINE_TO, count - 1));
    for (let i = 1; i < count; i++) this.vertex(path[i]!);
    if (close) this.commands.push(command(CLOSE_PATH, 1));
  }
}

/** MVT 2.1 wants exteriors with positive area in y-down tile space and holes negative. */
function orientRing(ring: TilePoint[], isExterior: boolean): TilePoint[] {
  return ringArea(ring) > 0 === isExterior ? ring : ring.slice().reverse();
}

function encodeGeometry(feature: TileFeature): number[] {
  const writer = new GeometryWriter();
  const { geometry } = feature;
  switch (geometry.type) {
    case 'Point':
      writer.points(geometry.points);
      break;
    case 'LineString':
      for (const line of geometry.lines) writer.path(line, false);
      break;
    case 'Polygon':
      for (const polygon of geometry.polygons) {
        polygon.forEach((ring, i) => writer.path(orientRing(ring, i === 0), true));
      }
  }
  return writer.commands;
}

function writeValue(pbf: Pbf, value: TileValue): void {
  if (typeof value === 'string') return writeTextField(pbf, 1, value);
  if (typeof value === 'boolean') return pbf.writeBooleanField(7, value);
  if (Number.isSafeInteger(value) && value >= 0) return pbf.writeVarintField(5, value);
  if (Number.isSafeInteger(value) && value >= -MAX_SINT) return pbf.writeSVarintField(6, value);
  pbf.writeDoubleField(3, value);
}

/**
 * The layer's value table. Separate maps per type keep 1 and '1' apart and let numbers hash
 * as numbers; the indices follow first use, as the table is written afterwards.
 */
class ValueTable {
  readonly values: TileValue[] = [];
  private readonly strings = new Map<string, number>();
  private readonly numbers = new Map<number, number>();
  private readonly booleans = new Map<boolean, number>();

  indexOf(value: TileValue): number {
    const map: Map<typeof value, number> =
      typeof value === 'string'
        ? this.strings
        : typeof value === 'number'
          ? this.numbers
          : this.booleans;
    let index = map.get(value);
    if (index === undefined) {
      index = this.values.push(value) - 1;
      map.set(value, index);
    }
    return index;
  }
}

/**
 * Encodes features (tile units on a grid of `extent`) as an MVT with one layer named
 * `default`; null values are left out. Returns null when there is nothing to draw.
 */
export function encodeMvt(
  features: readonly TileFeature[],
  properties: readonly TileProperty[],
  extent: number,
): Uint8Array | null {
  if (features.length === 0) return null;
  const keys: string[] = [];
  const keyIndex: (number | undefined)[] = [];
  const values = new ValueTable();
  // The layer is built on its own and added as bytes: pbf sizes a nested message after
  // writing it and shifts the bytes one by one when the length prefix needs more room.
  const layer = new Pbf();

  layer.writeVarintField(15, 2);
  writeTextField(layer, 1, MVT_LAYER_NAME);
  layer.writeVarintField(5, extent);
  for (const feature of features) {
    layer.writeMessage(2, () => {
      const tags: number[] = [];
      feature.values.forEach((value, i) => {
        const property = properties[i];
        if (value === null || property === undefined) return;
        const key = (keyIndex[i] ??= keys.push(property.name) - 1);
        tags.push(key, values.indexOf(value));
      });
      layer.writePackedVarint(2, tags);
      layer.writeVarintField(3, GEOMETRY_TYPE[feature.geometry.type]);
      layer.writePackedVarint(4, encodeGeometry(feature));
    });
  }
  for (const key of keys) writeTextField(layer, 3, key);
  for (const value of values.values) layer.writeMessage(4, () => writeValue(layer, value));

  const tile = new Pbf();
  writeBytesField(tile, 3, layer.finish());
  return tile.finish();
}
