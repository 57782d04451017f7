/**
 * The cells of a spatial-index source (H3 or quadbin) that a shape selects, computed with the
 * reference libraries (`h3-js`, `quadbin`), so a viewport or drawn shape filters h3 and
 * quadbin sources on any warehouse, with or without spatial-index functions of its own.
 * The count is estimated before anything is computed: a shape that would select more cells
 * than a filter may hold answers 400 instead of exhausting memory.
 */
import {
  POLYGON_TO_CELLS_FLAGS,
  getHexagonAreaAvg,
  getResolution,
  isValidCell,
  polygonToCellsExperimental,
} from 'h3-js';
import { geometryToCells, getResolution as quadbinResolution } from 'quadbin';
import { errors } from '../http/errors.js';

export type CellType = 'h3' | 'h3int' | 'quadbin';
export type CoverMode = 'intersects' | 'contains' | 'center';

type Position = number[];
type Rings = Position[][];

const EARTH_KM2 = 510_072_000;

/** The resolution of a cell id as the warehouse returns it (text, number or decimal text). */
export function cellResolution(type: CellType, cell: unknown): number {
  try {
    if (type === 'quadbin') return Number(quadbinResolution(BigInt(String(cell))));
    const text = type === 'h3' ? String(cell) : BigInt(String(cell)).toString(16);
    if (!isValidCell(text)) throw new Error('not a cell');
    return getResolution(text);
  } catch {
    throw errors.badRequest(`The spatial column does not hold ${type} cells`);
  }
}

function polygonsOf(shape: { type: string; coordinates: unknown }): Rings[] {
  return shape.type === 'Polygon' ? [shape.coordinates as Rings] : (shape.coordinates as Rings[]);
}

/** Longitudes folded into [-180, 180]: H3 takes the short way between positions. */
function wrapped(rings: Rings): Rings {
  return rings.map((ring) =>
    ring.map(([lon, lat]) => [((((lon! + 180) % 360) + 360) % 360) - 180, lat!]),
  );
}

function boundsOf(polygons: Rings[]): [number, number, number, number] {
  const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  // A loop, not Math.min(...list): a shape may have more vertices than a call has arguments.
  for (const [lon, lat] of polygons.flat(2)) {
    box[0] = Math.min(box[0], lon!);
    box[1] = Math.min(box[1], lat!);
    box[2] = Math.max(box[2], lon!);
    box[3] = Math.max(box[3], lat!);
  }
  return box;
}

/** Square kilometres of a lon/lat box, on a sphere. */
function boxArea([west, south, east, north]: [number, number, number, number]): number {
  const rad = Math.PI / 180;
  const band = Math.abs(Math.sin(north * rad) - Math.sin(south * rad)) / 2;
  return EARTH_KM2 * band * (Math.min(360, east - west) / 360);
}

function quadbinTilesOver(box: [number, number, number, number], resolution: number): number {
  const n = 2 ** resolution;
  const x = (lon: number) => ((lon + 180) / 360) * n;
  const y = (lat: number) => {
    const clamped = Math.max(-85.0511, Math.min(85.0511, lat));
    const s = Math.sin((clamped * Math.PI) / 180);
    return (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n;
  };
  const width = Math.floor(x(Math.min(180, box[2]))) - Math.floor(x(Math.max(-180, box[0]))) + 1;
  const height = Math.floor(y(box[1])) - Math.floor(y(box[3])) + 1;
  return width * height;
}

function tooMany(limit: number, resolution: number, parameter: string): never {
  throw errors.invalidParameter(
    parameter,
    `the shape covers more than ${limit} cells of resolution ${resolution}; filter a smaller area`,
  );
}

const H3_FLAGS: Record<CoverMode, string> = {
  center: POLYGON_TO_CELLS_FLAGS.containmentCenter,
  contains: POLYGON_TO_CELLS_FLAGS.containmentFull,
  intersects: POLYGON_TO_CELLS_FLAGS.containmentOverlapping,
};

/**
 * The ids of the cells of `resolution` that `shape` (a checked GeoJSON Polygon or
 * MultiPolygon) selects, as the column stores them: H3 text for `h3`, decimal text of the
 * 64-bit id for `h3int` and `quadbin`. Quadbin cells are those the shape intersects.
 */
export function coverShape(
  shape: { type: string; coordinates: unknown },
  type: CellType,
  resolution: number,
  mode: CoverMode,
  limit: number,
  parameter: string,
): string[] {
  const polygons = polygonsOf(shape);
  const box = boundsOf(polygons);
  if (type === 'quadbin') {
    if (quadbinTilesOver(box, resolution) > 4 * limit) tooMany(limit, resolution, parameter);
    const cells = new Set<string>();
    for (const rings of polygons) {
      const polygon = { type: 'Polygon', coordinates: rings };
      for (const cell of geometryToCells(polygon, BigInt(resolution))) cells.add(cell.toString());
      if (cells.size > limit) tooMany(limit, resolution, parameter);
    }
    return [...cells];
  }
  if (boxArea(box) / getHexagonAreaAvg(resolution, 'km2') > 4 * limit) {
    tooMany(limit, resolution, parameter);
  }
  const cells = new Set<string>();
  for (const rings of polygons) {
    for (const cell of polygonToCellsExperimental(
      wrapped(rings),
      resolution,
      H3_FLAGS[mode],
      true,
    )) {
      cells.add(type === 'h3' ? cell : BigInt(`0x${cell}`).toString());
    }
    if (cells.size > limit) tooMany(limit, resolution, parameter);
  }
  return [...cells];
}
