/**
 * Builds a raster table from any sampler of pixel values: every block of each resolution from
 * the native one (`blockResolution`) up to `minResolution` that touches the bounds, each pixel
 * the value at its centre (nearest neighbour, overviews included), blocks without any data
 * left out. The metadata is RaQuet's layout, with each band's full statistics also under
 * `stats` as raster-loader writes them. The embedded warehouse's demo raster and
 * `graticule rasters create` both build through here.
 */
import { PRODUCT_VERSION } from '../openapi/product-version.js';
import type { TableName } from '../maps/table-name.js';
import type { WarehouseDriver } from '../warehouses/driver.js';
import { BandStatistics, encodeBand, storedValue, type WritableBandType } from './band-values.js';
import {
  blockCell,
  blocksCovering,
  pixelExtent,
  type BlockAddress,
  type Bounds,
} from './raster-grid.js';
import { MAX_QUADBIN_RESOLUTION, type BandStats } from './raster-metadata.js';
import { rasterErrors } from './raster-errors.js';
import { RasterWriter } from './raster-writer.js';

export interface BandSpec {
  name: string;
  type: WritableBandType;
  /** The value written for pixels without data (NaN: float bands only). */
  nodata: number;
  colorinterp?: string;
  /** Palette bands: the colour of each value, `[r, g, b, a]`. */
  colortable?: Record<string, [number, number, number, number]>;
  /** Integer bands: a label for each value. */
  valuelabels?: Record<string, string>;
  description?: string;
}

export interface RasterPlan {
  bands: BandSpec[];
  /** WGS84 `[west, south, east, north]` of the data. */
  bounds: Bounds;
  blockResolution: number;
  minResolution: number;
  blockSize: number;
  compression: 'gzip' | null;
  /**
   * The pixel values of one block, one array per band, row by row from the north-west corner
   * (`blockSize²` values each); NaN or the band's nodata where there is none.
   */
  sampleBlock: (block: BlockAddress) => Promise<ArrayLike<number>[]>;
  /** How the pixels were taken, for the metadata's `processing` note. */
  sourceCrs?: string;
}

export interface RasterBuildResult {
  blocks: number;
  nativeBlocks: number;
  metadata: Record<string, unknown>;
}

/** Called after each block visited. */
export type RasterProgress = (progress: {
  resolution: number;
  done: number;
  total: number;
}) => void;

/** Checks the plan's grid: resolutions within quadbin's, a square power-of-two block. */
export function checkRasterPlan(
  plan: Pick<RasterPlan, 'blockResolution' | 'minResolution' | 'blockSize'>,
) {
  const { blockResolution, minResolution, blockSize } = plan;
  if (!Number.isInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw rasterErrors.invalidRasterOption('blockSize', 'a power of two from 16');
  }
  const deepest = MAX_QUADBIN_RESOLUTION - Math.log2(blockSize);
  if (!Number.isInteger(blockResolution) || blockResolution < 0 || blockResolution > deepest) {
    throw rasterErrors.invalidRasterOption('resolution', `a block resolution from 0 to ${deepest}`);
  }
  if (!Number.isInteger(minResolution) || minResolution < 0 || minResolution > blockResolution) {
    throw rasterErrors.invalidRasterOption(
      'minResolution',
      `from 0 to the block resolution ${blockResolution}`,
    );
  }
}

/** True when no band of the block holds a value. */
function isEmpty(bands: BandSpec[], values: ArrayLike<number>[]): boolean {
  return bands.every((band, b) => {
    const pixels = values[b]!;
    for (let i = 0; i < pixels.length; i += 1) {
      const value = pixels[i]!;
      if (!Number.isNaN(value) && value !== band.nodata) return false;
    }
    return true;
  });
}

/** Values as stored: NaN becomes the band's nodata, the rest takes the band's type. */
function storedValues(band: BandSpec, pixels: ArrayLike<number>): Float64Array {
  const stored = new Float64Array(pixels.length);
  const nodata = storedValue(band.type, band.nodata);
  for (let i = 0; i < pixels.length; i += 1) {
    const value = pixels[i]!;
    stored[i] = Number.isNaN(value) ? nodata : storedValue(band.type, value);
  }
  return stored;
}

function raquetMetadata(plan: RasterPlan, stats: BandStats[], nativeBlocks: number) {
  const [width, height] = pixelExtent(plan.bounds, plan.blockResolution, plan.blockSize);
  const pixelZoom = plan.blockResolution + Math.log2(plan.blockSize);
  return {
    file_format: 'raquet',
    version: '0.3.0',
    width,
    height,
    crs: 'EPSG:3857',
    bounds: plan.bounds,
    bounds_crs: 'EPSG:4326',
    compression: plan.compression,
    tiling: {
      scheme: 'quadbin',
      block_width: plan.blockSize,
      block_height: plan.blockSize,
      min_zoom: plan.minResolution,
      max_zoom: plan.blockResolution,
      pixel_zoom: pixelZoom,
      num_blocks: nativeBlocks,
    },
    bands: plan.bands.map((band, b) => {
      const bandStats = stats[b]!;
      const pixels = width * height;
      return {
        name: band.name,
        ...(band.description ? { description: band.description } : {}),
        type: band.type,
        // RaQuet spells a NaN nodata as the string "NaN" (JSON has no NaN).
        nodata: Number.isNaN(band.nodata) ? 'NaN' : band.nodata,
        colorinterp: band.colorinterp ?? 'undefined',
        colortable: band.colortable ?? null,
        ...(band.valuelabels ? { valuelabels: band.valuelabels } : {}),
        STATISTICS_MINIMUM: bandStats.min,
        STATISTICS_MAXIMUM: bandStats.max,
        STATISTICS_MEAN: bandStats.mean,
        STATISTICS_STDDEV: bandStats.stddev,
        STATISTICS_VALID_PERCENT: pixels > 0 ? Math.min(100, (bandStats.count / pixels) * 100) : 0,
        stats: bandStats,
      };
    }),
    processing: {
      ...(plan.sourceCrs ? { source_crs: plan.sourceCrs } : {}),
      resampling: 'near',
      overview_resampling: 'near',
      created_by: `graticule ${PRODUCT_VERSION}`,
      created_at: new Date().toISOString(),
    },
  };
}

/**
 * Writes the raster table `target` from `plan`. The native resolution is written first, so
 * its statistics are complete before the overviews; the table appears only once all is in.
 */
export async function buildRasterTable(
  driver: WarehouseDriver,
  target: TableName,
  plan: RasterPlan,
  options: { overwrite: boolean; timeoutMs: number; onProgress?: RasterProgress },
): Promise<RasterBuildResult> {
  checkRasterPlan(plan);
  const names = plan.bands.map((band) => band.name);
  const writer = await RasterWriter.open(driver, target, names, options);
  try {
    const stats = plan.bands.map((band) => new BandStatistics(band.type, band.nodata));
    let nativeBlocks = 0;
    for (let z = plan.blockResolution; z >= plan.minResolution; z -= 1) {
      const blocks = blocksCovering(plan.bounds, z);
      for (const [index, block] of blocks.entries()) {
        const values = await plan.sampleBlock(block);
        if (!isEmpty(plan.bands, values)) {
          const stored = plan.bands.map((band, b) => storedValues(band, values[b]!));
          if (z === plan.blockResolution) {
            nativeBlocks += 1;
            stored.forEach((pixels, b) => stats[b]!.add(pixels));
          }
          const bytes = await Promise.all(
            plan.bands.map((band, b) => encodeBand(band.type, stored[b]!, plan.compression)),
          );
          await writer.add(blockCell(block), bytes);
        }
        options.onProgress?.({ resolution: z, done: index + 1, total: blocks.length });
      }
    }
    const version = PRODUCT_VERSION;
    const metadata = raquetMetadata(
      plan,
      stats.map((s) => s.result(version)),
      nativeBlocks,
    );
    await writer.commit(metadata, options.overwrite);
    return { blocks: writer.blocksWritten, nativeBlocks, metadata };
  } catch (error) {
    await writer.discard();
    throw error;
  }
}
