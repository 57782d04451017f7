/**
 * The embedded warehouse's demo raster, `demo.relief_raster`: a smooth synthetic relief over
 * central Europe (two ranges of hills standing in for the Alps and the Carpathians), computed
 * from each pixel's centre, so it is the same on every machine. Three bands of three types:
 * `elevation` (float32, metres), `landcover` (uint8 classes by elevation, a palette) and
 * `temperature` (int16, tenths of a degree Celsius). Blocks of 256 pixels at resolution 5
 * (pixels of about 3 km) with overviews to resolution 3: six blocks, gzip-compressed.
 */
import type { TableName } from '../maps/table-name.js';
import type { WarehouseDriver } from '../warehouses/driver.js';
import { buildRasterTable, type BandSpec, type RasterPlan } from './raster-build.js';
import {
  metersToLonLat,
  pixelCenterMeters,
  type BlockAddress,
  type Bounds,
} from './raster-grid.js';

export const DEMO_RASTER_TABLE: TableName = { schema: 'demo', table: 'relief_raster' };

const BOUNDS: Bounds = [5, 44, 20, 55];
const BLOCK_SIZE = 256;

/** Elevation classes: the upper bound (metres) of classes 1 to 4; class 5 is above. */
const CLASS_TOPS = [300, 800, 1500, 2200];

const BANDS: BandSpec[] = [
  { name: 'elevation', type: 'float32', nodata: -9999, colorinterp: 'gray' },
  {
    name: 'landcover',
    type: 'uint8',
    nodata: 0,
    colorinterp: 'palette',
    colortable: {
      '1': [110, 170, 90, 255],
      '2': [170, 190, 110, 255],
      '3': [160, 130, 90, 255],
      '4': [190, 190, 190, 255],
      '5': [250, 250, 250, 255],
    },
    valuelabels: { '1': 'lowland', '2': 'hills', '3': 'mountains', '4': 'alpine', '5': 'glacier' },
  },
  { name: 'temperature', type: 'int16', nodata: -32768 },
];

const bump = (lon: number, lat: number, at: [number, number], spread: [number, number]) =>
  Math.exp(-(((lon - at[0]) / spread[0]) ** 2 + ((lat - at[1]) / spread[1]) ** 2) / 2);

/** The synthetic elevation, in metres, at a longitude and latitude. */
export function demoElevation(lon: number, lat: number): number {
  return (
    250 +
    2600 * bump(lon, lat, [10.5, 46.5], [2.2, 0.9]) +
    1300 * bump(lon, lat, [19, 48.8], [1.2, 0.7]) +
    120 * Math.sin(lon * 1.3) * Math.cos(lat * 1.7)
  );
}

function landcoverOf(elevation: number): number {
  const index = CLASS_TOPS.findIndex((top) => elevation < top);
  return index < 0 ? CLASS_TOPS.length + 1 : index + 1;
}

function sampleBlock(block: BlockAddress): Promise<Float64Array[]> {
  const pixels = BLOCK_SIZE * BLOCK_SIZE;
  const bands = BANDS.map(() => new Float64Array(pixels).fill(Number.NaN));
  for (let row = 0; row < BLOCK_SIZE; row += 1) {
    for (let column = 0; column < BLOCK_SIZE; column += 1) {
      const [lon, lat] = metersToLonLat(...pixelCenterMeters(block, BLOCK_SIZE, column, row));
      if (lon < BOUNDS[0] || lon > BOUNDS[2] || lat < BOUNDS[1] || lat > BOUNDS[3]) continue;
      const i = row * BLOCK_SIZE + column;
      const elevation = demoElevation(lon, lat);
      bands[0]![i] = elevation;
      bands[1]![i] = landcoverOf(elevation);
      bands[2]![i] = Math.round((15 - 0.0065 * elevation - 0.6 * (lat - 44)) * 10);
    }
  }
  return Promise.resolve(bands);
}

const PLAN: RasterPlan = {
  bands: BANDS,
  bounds: BOUNDS,
  blockResolution: 5,
  minResolution: 3,
  blockSize: BLOCK_SIZE,
  compression: 'gzip',
  sampleBlock,
};

/** Writes `demo.relief_raster` (replacing a raster table of that name); answers its blocks. */
export async function loadDemoRaster(driver: WarehouseDriver, timeoutMs: number): Promise<number> {
  const result = await buildRasterTable(driver, DEMO_RASTER_TABLE, PLAN, {
    overwrite: true,
    timeoutMs,
  });
  return result.blocks;
}
