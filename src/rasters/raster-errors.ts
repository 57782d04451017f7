/**
 * The API errors of raster sources, in the JSON error shape of every other API error
 * (`ApiError`); codes are stable and never reused.
 */
import { ApiError } from '../http/errors.js';

export const rasterErrors = {
  /** The table exists but is not laid out as a raster table (see docs/rasters.md). */
  notARaster: (name: string, reason: string) =>
    new ApiError(404, 'not_a_raster', `Table '${name}' is not a raster table: ${reason}`),
  rasterExists: (name: string) =>
    new ApiError(409, 'raster_exists', `Table '${name}' already exists`, {
      hint: 'Pass --overwrite to replace a raster table, or choose another name',
    }),
  /** Overwriting is allowed for raster tables only, so a typo never drops a data table. */
  overwriteNotARaster: (name: string) =>
    new ApiError(
      409,
      'raster_overwrite_refused',
      `Table '${name}' exists and is not a raster table; it is never overwritten`,
    ),
  invalidRasterOption: (name: string, reason: string) =>
    new ApiError(400, 'invalid_raster_option', `Invalid option '${name}': ${reason}`),
  sourceNotFound: (name: string, reason: string) =>
    new ApiError(400, 'raster_source_invalid', `Cannot read raster '${name}': ${reason}`),
  /** A stored block whose bytes cannot be the pixels its metadata describes. */
  invalidBlock: (name: string, reason: string) =>
    new ApiError(422, 'raster_block_invalid', `Raster '${name}' holds a broken block: ${reason}`),
  tooManyBlocks: (count: number, limit: number) =>
    new ApiError(
      400,
      'raster_too_large',
      `The raster would hold ${count} blocks at its native resolution, more than ${limit}`,
      { hint: 'Pass a coarser --resolution' },
    ),
} as const;
