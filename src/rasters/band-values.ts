/**
 * A band's pixels as stored (typed, little-endian, optionally gzip-compressed) and the
 * statistics written in a raster's metadata, counted over the pixels at the native resolution
 * (never the overviews), nodata left out.
 */
import { endianness } from 'node:os';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { BandStats } from './raster-metadata.js';

const gzip = promisify(gzipCallback);

/** Pixel types Graticule writes (PostGIS rasters have no 64-bit integers). */
export const WRITABLE_BAND_TYPES = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;
export type WritableBandType = keyof typeof WRITABLE_BAND_TYPES;

const isFloat = (type: WritableBandType) => type === 'float32' || type === 'float64';

/** Most values kept for quantiles; past it every second one is dropped, evenly over the data. */
const QUANTILE_SAMPLE = 100_000;
/** Integer bands with more distinct values than this get no `top_values`. */
const MAX_DISTINCT = 1000;
const TOP_VALUES = 10;

// Typed arrays use the machine's byte order; rasters are little-endian.
if (endianness() !== 'LE') throw new Error('raster writing needs a little-endian machine');

/** The stored bytes of one band of one block. */
export async function encodeBand(
  type: WritableBandType,
  values: ArrayLike<number>,
  compression: 'gzip' | null,
): Promise<Buffer> {
  const typed = WRITABLE_BAND_TYPES[type].from(values);
  const bytes = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
  return compression === 'gzip' ? gzip(bytes) : bytes;
}

/** Values as the band's type stores them (rounded and clamped for integers, float32 rounded). */
export function storedValue(type: WritableBandType, value: number): number {
  return WRITABLE_BAND_TYPES[type].from([value])[0]!;
}

/** Accumulates one band's statistics block by block. */
export class BandStatistics {
  private count = 0;
  private sum = 0;
  private sumSquares = 0;
  private min = Infinity;
  private max = -Infinity;
  private sample: number[] = [];
  private stride = 1;
  private seen = 0;
  private frequencies: Map<number, number> | null;

  constructor(
    private readonly type: WritableBandType,
    private readonly nodata: number,
  ) {
    this.frequencies = isFloat(type) ? null : new Map();
  }

  /** Adds a block's pixels (as stored), skipping nodata and NaN. */
  add(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i += 1) {
      const value = values[i]!;
      if (Number.isNaN(value) || value === this.nodata) continue;
      this.count += 1;
      this.sum += value;
      this.sumSquares += value * value;
      if (value < this.min) this.min = value;
      if (value > this.max) this.max = value;
      if (this.seen++ % this.stride === 0) this.keep(value);
      if (this.frequencies) {
        this.frequencies.set(value, (this.frequencies.get(value) ?? 0) + 1);
        if (this.frequencies.size > MAX_DISTINCT) this.frequencies = null;
      }
    }
  }

  private keep(value: number): void {
    this.sample.push(value);
    if (this.sample.length >= 2 * QUANTILE_SAMPLE) {
      this.sample = this.sample.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
  }

  /** The statistics clients read (`stats` of a band in `raster_metadata`). */
  result(version: string): BandStats {
    if (this.count === 0) {
      return { min: 0, max: 0, mean: 0, stddev: 0, sum: 0, sum_squares: 0, count: 0, version };
    }
    const mean = this.sum / this.count;
    const variance = Math.max(0, this.sumSquares / this.count - mean * mean);
    const sorted = Float64Array.from(this.sample).sort();
    const quantiles: Record<string, number[]> = {};
    for (let buckets = 3; buckets < 20; buckets += 1) {
      quantiles[String(buckets)] = Array.from({ length: buckets - 1 }, (_, j) => {
        const at = Math.floor(((j + 1) / buckets) * (sorted.length - 1));
        return sorted[at]!;
      });
    }
    const top = this.frequencies
      ? [...this.frequencies.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP_VALUES)
      : null;
    return {
      min: this.min,
      max: this.max,
      mean,
      stddev: Math.sqrt(variance),
      sum: this.sum,
      sum_squares: this.sumSquares,
      count: this.count,
      quantiles,
      top_values: top ? Object.fromEntries(top.map(([v, n]) => [String(v), n])) : null,
      approximated_stats: this.stride > 1,
      version,
    };
  }
}
