/**
 * The geometry half of the tile query: which rows a tile reads, and how each geometry reaches
 * tile space. Points stay as stored x/y until they are kept; everything else is clipped,
 * projected, simplified and snapped in PostGIS.
 */
import { quoteIdentifier } from '../table-name.js';
import { MERCATOR_RADIUS, type Box, type TileGrid } from './tile-grid.js';

/** Collects bind values after the source's own, each used through a typed placeholder. */
export class BindValues {
  readonly values: unknown[];

  constructor(sourceParams: readonly unknown[]) {
    this.values = [...sourceParams];
  }

  float(value: number): string {
    if (!Number.isFinite(value)) throw new RangeError(`Tile parameter is not finite: ${value}`);
    this.values.push(value);
    return `$${this.values.length}::float8`;
  }

  int(value: number): string {
    this.values.push(value);
    return `$${this.values.length}::int`;
  }

  box(box: Box, srid: number): string {
    const corners = [box.minX, box.minY, box.maxX, box.maxY].map((v) => this.float(v));
    return `ST_MakeEnvelope(${corners.join(', ')}, ${srid})`;
  }
}

/** SQL pieces that depend on how the geometry column is stored. */
export interface GeometryPlan {
  /** Index-friendly bounding-box test on the stored column. */
  filter: string;
  /** Stored x and y of a point row (NULL for other rows): WGS84, or metres for EPSG:3857. */
  pointX: string;
  pointY: string;
  /** Tile-space geometry of a line, polygon or collection row (NULL for points). */
  shape: string;
  /** Half-open test that a point's stored x/y lies in the tile. */
  isPointInTile: (x: string, y: string) => string;
  /** Tile-space integer x and y of a point from its stored x/y. */
  projectPoint: (x: string, y: string) => [string, string];
}

/** Re-indents a multi-line SQL fragment so it reads in place inside a template. */
export function indent(sql: string, spaces: number): string {
  return sql.replaceAll('\n', `\n${' '.repeat(spaces)}`);
}

/**
 * Half-open bounds (west and north edges in, east and south out) give a point on a shared
 * edge to exactly one tile, since neighbours compute that edge identically; the world's east
 * and south edges stay in.
 */
function pointInBoxSql(bounds: Box, grid: TileGrid, bind: BindValues) {
  const [west, east] = [bind.float(bounds.minX), bind.float(bounds.maxX)];
  const [south, north] = [bind.float(bounds.minY), bind.float(bounds.maxY)];
  return (x: string, y: string) =>
    `${x} >= ${west} AND ${x} ${grid.isLastColumn ? '<=' : '<'} ${east}` +
    ` AND ${y} <= ${north} AND ${y} ${grid.isLastRow ? '>=' : '>'} ${south}`;
}

/** How stored geometries reach tile space. */
export interface GeometryStorage {
  /** Unquoted geometry column. */
  column: string;
  /** SRID of the column; 0 (unknown) is read as 4326. */
  srid: number;
  /**
   * Run ST_MakeValid before clipping. GEOS fails on some invalid rings (zero-area ones
   * crossing the clip box): native PostGIS raises an error, PGlite ends the statement with no
   * result at all. Repairing every geometry is slow, so it is the retry, not the default.
   */
  repair: boolean;
}

/** `geom` made valid, keeping the geometry's own kind unless it is a collection. */
function repairedSql(geom: string): string {
  const valid = `ST_MakeValid(ST_Force2D(${geom}))`;
  return `CASE
  WHEN ST_GeometryType(${geom}) = 'ST_GeometryCollection' THEN ${valid}
  ELSE ST_CollectionExtract(${valid}, ST_Dimension(${geom}) + 1)
END`;
}

/**
 * Lines and polygons: clip with a buffer (before projecting, so vertices beyond the Mercator
 * latitude limit never reach ST_Transform), project, map into tile space with y down,
 * simplify and snap to whole units. Z and M go first: PostGIS fails to collect clipped parts
 * of mixed dimension. ST_Simplify runs in liblwgeom; ST_SimplifyPreserveTopology goes through
 * GEOS and made polygon tiles several times slower. preserveCollapsed keeps small rings for
 * the snap to judge, so holes of a pixel or more survive.
 */
function shapeSql(
  geom: string,
  clip: { box: string; toMercator: (g: string) => string; repair: boolean },
  grid: TileGrid,
  tolerance: string,
  bind: BindValues,
): string {
  const k = grid.unitsPerMetre;
  const { minX, maxY } = grid.mercator;
  const affine = [bind.float(k), '0', '0', bind.float(-k)];
  const offsets = [bind.float(-minX * k), bind.float(maxY * k)];
  const input = clip.repair ? repairedSql(geom) : `ST_Force2D(${geom})`;
  const clipped = `ST_ClipByBox2D(
  ${indent(input, 2)},
  ${clip.box}
)`;
  // A polygon without area has nothing to draw, and clipping one (a ring collapsed onto a
  // line) is what makes GEOS fail, so it is dropped before the clip.
  return `CASE
  WHEN ST_Dimension(${geom}) = 2 AND ST_Area(${geom}) = 0 THEN NULL
  WHEN ST_GeometryType(${geom}) <> 'ST_Point' THEN
    ST_SnapToGrid(
      ST_Simplify(
        ST_Affine(
          ${indent(clip.toMercator(clipped), 10)},
          ${affine.join(', ')}, ${offsets.join(', ')}
        ),
        ${tolerance},
        true
      ),
      1
    )
END`;
}

/** WGS84 to EPSG:3857; the SRID is set first because 0 (unknown) is read as 4326. */
function lonLatToMercatorSql(geom: string): string {
  return `ST_Transform(
  ST_SetSRID(
    ${indent(geom, 4)},
    4326
  ),
  3857
)`;
}

function pointCoordinateSql(geom: string, axis: 'X' | 'Y'): string {
  return `CASE WHEN ST_GeometryType(${geom}) = 'ST_Point' THEN ST_${axis}(${geom}) END`;
}

/** The geometry SQL for one tile of a column stored as `storage` describes. */
export function geometryPlan(
  storage: GeometryStorage,
  grid: TileGrid,
  tolerance: number,
  bind: BindValues,
): GeometryPlan {
  const column = quoteIdentifier(storage.column);
  const { srid, repair } = storage;
  const k = grid.unitsPerMetre;
  const tol = bind.float(tolerance);
  const [xOffset, yOffset] = [
    bind.float(-grid.mercator.minX * k),
    bind.float(grid.mercator.maxY * k),
  ];
  if (srid === 3857) {
    const box = bind.box(grid.bufferedMercator, 3857);
    const scale = bind.float(k);
    return {
      filter: `${column} && ${box}`,
      pointX: pointCoordinateSql(column, 'X'),
      pointY: pointCoordinateSql(column, 'Y'),
      shape: shapeSql(column, { box, toMercator: (g) => g, repair }, grid, tol, bind),
      isPointInTile: pointInBoxSql(grid.mercator, grid, bind),
      projectPoint: (x, y) => [`${x} * ${scale} + ${xOffset}`, `${yOffset} - ${y} * ${scale}`],
    };
  }
  // Longitude maps linearly; latitude through the Mercator formula, which is cheaper per
  // point than a PROJ call through ST_Transform.
  const [lonScale, latScale] = [
    bind.float((k * MERCATOR_RADIUS * Math.PI) / 180),
    bind.float(k * MERCATOR_RADIUS),
  ];
  const projectPoint = (x: string, y: string): [string, string] => [
    `${x} * ${lonScale} + ${xOffset}`,
    `${yOffset} - ${latScale} * ln(tan(pi() / 4 + radians(${y}) / 2))`,
  ];
  const box = bind.box(grid.bufferedLonLat, 4326);
  const isPointInTile = pointInBoxSql(grid.lonLat, grid, bind);
  if (srid === 4326 || srid === 0) {
    return {
      filter: `${column} && ${box}`,
      pointX: pointCoordinateSql(column, 'X'),
      pointY: pointCoordinateSql(column, 'Y'),
      shape: shapeSql(column, { box, toMercator: lonLatToMercatorSql, repair }, grid, tol, bind),
      isPointInTile,
      projectPoint,
    };
  }
  // Other projections: filter by the tile outline in the stored SRID (densified so curved
  // edges stay inside the box), then work in WGS84.
  const lonLat = `ST_Transform(${column}, 4326)`;
  const step = bind.float((grid.bufferedLonLat.maxX - grid.bufferedLonLat.minX) / 16);
  return {
    filter: `${column} && ST_Transform(ST_Segmentize(${box}, ${step}), ${bind.int(srid)})`,
    pointX: pointCoordinateSql(lonLat, 'X'),
    pointY: pointCoordinateSql(lonLat, 'Y'),
    shape: shapeSql(lonLat, { box, toMercator: lonLatToMercatorSql, repair }, grid, tol, bind),
    isPointInTile,
    projectPoint,
  };
}
