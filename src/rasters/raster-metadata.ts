/**
 * The metadata of a raster table, read from its `block = 0` row, in either layout in use:
 * the flat one CARTO's raster-loader writes (`bands`, `block_resolution`, `minresolution`,
 * ...) and RaQuet's (`file_format: "raquet"`, `tiling: {...}`, band statistics as GDAL's
 * `STATISTICS_*` keys). Both become `RasterMetadata`, the `raster_metadata` object of the
 * TileJSON that `@carto/api-client`'s `rasterSource` and deck.gl's `RasterTileLayer` read.
 */

/** Pixel types deck.gl's raster tile loader reads (its typed arrays). */
export const BAND_TYPES = [
  'uint8',
  'int8',
  'uint16',
  'int16',
  'uint32',
  'int32',
  'uint64',
  'int64',
  'float32',
  'float64',
] as const;
export type BandType = (typeof BAND_TYPES)[number];

/** Deepest quadbin resolution: a pixel can be no smaller than a zoom-26 cell. */
export const MAX_QUADBIN_RESOLUTION = 26;

export interface BandStats {
  min: number;
  max: number;
  mean: number;
  stddev: number;
  sum: number;
  sum_squares: number;
  count: number;
  /** For n buckets (3 to 19), the n − 1 values that split the pixels into equal shares. */
  quantiles?: Record<string, number[]> | null;
  /** Integer bands: the most frequent values and their pixel counts. */
  top_values?: Record<string, number> | null;
  approximated_stats?: boolean;
  version?: string;
}

export interface RasterBand {
  name: string;
  type: BandType;
  /** The value of pixels without data; `'nan'` when the band declares none. */
  nodata: number | string;
  stats: BandStats;
  colorinterp?: string | null;
  colortable?: Record<string, number[]> | null;
  valuelabels?: Record<string, string> | null;
}

/**
 * What clients read as `raster_metadata`. deck.gl's raster tile loader reads `compression`
 * from it too, to inflate band bytes.
 */
export interface RasterMetadata {
  block_resolution: number;
  minresolution: number;
  maxresolution: number;
  nodata: number | string;
  bands: RasterBand[];
  bounds: [number, number, number, number];
  center: [number, number, number];
  width: number;
  height: number;
  block_width: number;
  block_height: number;
  num_blocks: number;
  num_pixels: number;
  pixel_resolution: number;
  /** `gzip` when each band's bytes are gzip-compressed. */
  compression: 'gzip' | null;
}

/** Why a metadata row cannot be served; the reader turns it into a 404 `not_a_raster`. */
export class RasterMetadataError extends Error {
  override readonly name = 'RasterMetadataError';
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function integer(source: Json, key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const value = source[key];
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new RasterMetadataError(`'${key}' must be an integer from ${min} to ${max}`);
  }
  return value as number;
}

function optionalNumber(source: Json, key: string): number | undefined {
  const value = source[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function bounds(source: Json): [number, number, number, number] {
  const value = source.bounds;
  if (
    !Array.isArray(value) ||
    value.length !== 4 ||
    !value.every((n) => typeof n === 'number' && Number.isFinite(n))
  ) {
    throw new RasterMetadataError("'bounds' must be [west, south, east, north]");
  }
  return value as [number, number, number, number];
}

/** `null` or absent nodata reads as `'nan'`: no finite value is taken for a missing pixel. */
function nodataOf(value: unknown): number | string {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value !== '') return value;
  return 'nan';
}

function compressionOf(source: Json): 'gzip' | null {
  const value = source.compression;
  if (value === undefined || value === null || value === 'none') return null;
  if (value === 'gzip') return 'gzip';
  throw new RasterMetadataError(`compression '${String(value)}' is not served (gzip or none)`);
}

/** RaQuet's GDAL statistics as the statistics object clients read. */
function statsFromGdalKeys(band: Json, pixels: number): BandStats {
  const mean = optionalNumber(band, 'STATISTICS_MEAN') ?? 0;
  const stddev = optionalNumber(band, 'STATISTICS_STDDEV') ?? 0;
  const validPercent = optionalNumber(band, 'STATISTICS_VALID_PERCENT') ?? 100;
  const count = Math.round((pixels * validPercent) / 100);
  return {
    min: optionalNumber(band, 'STATISTICS_MINIMUM') ?? 0,
    max: optionalNumber(band, 'STATISTICS_MAXIMUM') ?? 0,
    mean,
    stddev,
    sum: mean * count,
    sum_squares: count * (stddev * stddev + mean * mean),
    count,
    approximated_stats: true,
  };
}

function bandOf(value: unknown, index: number, pixels: number): RasterBand {
  if (!isObject(value) || typeof value.name !== 'string' || value.name === '') {
    throw new RasterMetadataError(`band ${index + 1} has no name`);
  }
  const type = value.type;
  if (!BAND_TYPES.includes(type as BandType)) {
    throw new RasterMetadataError(
      `band '${value.name}' has type '${String(type)}'; served types: ${BAND_TYPES.join(', ')}`,
    );
  }
  const stats = isObject(value.stats)
    ? (value.stats as unknown as BandStats)
    : statsFromGdalKeys(value, pixels);
  const band: RasterBand = {
    name: value.name,
    type: type as BandType,
    nodata: nodataOf(value.nodata),
    stats,
    colorinterp: typeof value.colorinterp === 'string' ? value.colorinterp : null,
    colortable: isObject(value.colortable) ? (value.colortable as RasterBand['colortable']) : null,
  };
  if (isObject(value.valuelabels)) band.valuelabels = value.valuelabels as Record<string, string>;
  return band;
}

function bandsOf(source: Json, pixels: number): RasterBand[] {
  if (!Array.isArray(source.bands) || source.bands.length === 0) {
    throw new RasterMetadataError("'bands' must list at least one band");
  }
  const bands = source.bands.map((band, index) => bandOf(band, index, pixels));
  const names = new Set(bands.map((band) => band.name));
  if (names.size !== bands.length) throw new RasterMetadataError('two bands share a name');
  return bands;
}

/** Checks the block size and the resolutions, and derives the pixel resolution. */
function checkedGrid(input: {
  blockWidth: number;
  blockHeight: number;
  minResolution: number;
  maxResolution: number;
}) {
  const { blockWidth, blockHeight, minResolution, maxResolution } = input;
  const isPowerOfTwo = (n: number) => n >= 1 && (n & (n - 1)) === 0;
  if (blockWidth !== blockHeight || !isPowerOfTwo(blockWidth) || blockWidth > 4096) {
    throw new RasterMetadataError(
      `blocks of ${blockWidth}×${blockHeight} pixels: deck.gl reads square blocks whose side ` +
        'is a power of two',
    );
  }
  if (minResolution > maxResolution) {
    throw new RasterMetadataError('the minimum resolution is deeper than the maximum');
  }
  const pixelResolution = maxResolution + Math.log2(blockWidth);
  if (pixelResolution > MAX_QUADBIN_RESOLUTION) {
    throw new RasterMetadataError(`pixels at resolution ${pixelResolution}, deeper than 26`);
  }
  return pixelResolution;
}

/** raster-loader's flat layout. */
function fromFlatLayout(source: Json): RasterMetadata {
  const blockResolution = integer(source, 'block_resolution', 0, MAX_QUADBIN_RESOLUTION);
  const minResolution = integer(source, 'minresolution', 0, MAX_QUADBIN_RESOLUTION);
  const maxResolution = integer(source, 'maxresolution', 0, MAX_QUADBIN_RESOLUTION);
  const blockWidth = source.block_width === undefined ? 256 : integer(source, 'block_width', 1);
  const blockHeight =
    source.block_height === undefined ? blockWidth : integer(source, 'block_height', 1);
  const pixelResolution = checkedGrid({ blockWidth, blockHeight, minResolution, maxResolution });
  const width = optionalNumber(source, 'width') ?? 0;
  const height = optionalNumber(source, 'height') ?? 0;
  const numPixels = optionalNumber(source, 'num_pixels') ?? width * height;
  const bands = bandsOf(source, numPixels);
  const box = bounds(source);
  const center = Array.isArray(source.center) && source.center.length === 3 ? source.center : null;
  return {
    block_resolution: blockResolution,
    minresolution: minResolution,
    maxresolution: maxResolution,
    nodata: source.nodata === undefined ? bands[0]!.nodata : nodataOf(source.nodata),
    bands,
    bounds: box,
    center: (center as [number, number, number] | null) ?? centerOf(box, blockResolution),
    width,
    height,
    block_width: blockWidth,
    block_height: blockHeight,
    num_blocks: optionalNumber(source, 'num_blocks') ?? 0,
    num_pixels: numPixels,
    pixel_resolution: pixelResolution,
    compression: compressionOf(source),
  };
}

/** RaQuet's layout: the grid under `tiling`, native resolution = `max_zoom`. */
function fromRaquetLayout(source: Json, tiling: Json): RasterMetadata {
  if (tiling.scheme !== undefined && tiling.scheme !== 'quadbin') {
    throw new RasterMetadataError(`tiling scheme '${String(tiling.scheme)}' is not quadbin`);
  }
  const minResolution = integer(tiling, 'min_zoom', 0, MAX_QUADBIN_RESOLUTION);
  const maxResolution = integer(tiling, 'max_zoom', 0, MAX_QUADBIN_RESOLUTION);
  const blockWidth = tiling.block_width === undefined ? 256 : integer(tiling, 'block_width', 1);
  const blockHeight =
    tiling.block_height === undefined ? blockWidth : integer(tiling, 'block_height', 1);
  const pixelResolution = checkedGrid({ blockWidth, blockHeight, minResolution, maxResolution });
  const width = optionalNumber(source, 'width') ?? 0;
  const height = optionalNumber(source, 'height') ?? 0;
  const bands = bandsOf(source, width * height);
  const box = bounds(source);
  return {
    block_resolution: maxResolution,
    minresolution: minResolution,
    maxresolution: maxResolution,
    nodata: bands[0]!.nodata,
    bands,
    bounds: box,
    center: centerOf(box, maxResolution),
    width,
    height,
    block_width: blockWidth,
    block_height: blockHeight,
    num_blocks: optionalNumber(tiling, 'num_blocks') ?? 0,
    num_pixels: width * height,
    pixel_resolution: pixelResolution,
    compression: compressionOf(source),
  };
}

function centerOf(box: [number, number, number, number], zoom: number): [number, number, number] {
  return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, zoom];
}

/**
 * The metadata row's JSON (text or an already parsed value) as `RasterMetadata`; throws a
 * `RasterMetadataError` saying what is wrong when it is neither layout.
 */
export function parseRasterMetadata(value: unknown): RasterMetadata {
  let source = value;
  if (typeof value === 'string') {
    try {
      source = JSON.parse(value) as unknown;
    } catch {
      throw new RasterMetadataError('the metadata row does not hold JSON');
    }
  }
  if (!isObject(source)) throw new RasterMetadataError('the metadata is not a JSON object');
  if (isObject(source.tiling)) return fromRaquetLayout(source, source.tiling);
  if ('block_resolution' in source) return fromFlatLayout(source);
  throw new RasterMetadataError('the metadata has neither `tiling` nor `block_resolution`');
}
