/**
 * The API errors of pre-generated tilesets, in the JSON error shape of every other API error
 * (`ApiError`); codes are stable and never reused.
 */
import { ApiError } from '../http/errors.js';

export const tilesetErrors = {
  /** The table exists but does not hold a tileset in Graticule's layout. */
  notATileset: (name: string, reason: string) =>
    new ApiError(404, 'not_a_tileset', `Table '${name}' is not a tileset: ${reason}`),
  tilesetExists: (name: string) =>
    new ApiError(409, 'tileset_exists', `Table '${name}' already exists`, {
      hint: 'Pass overwrite to replace a tileset, or choose another name',
    }),
  /** Overwriting is allowed for tilesets only, so a typo never drops a data table. */
  overwriteNotATileset: (name: string) =>
    new ApiError(
      409,
      'tileset_overwrite_refused',
      `Table '${name}' exists and is not a tileset; it is never overwritten`,
    ),
  tooManyTiles: (estimated: number, limit: number) =>
    new ApiError(
      400,
      'tileset_too_large',
      `The tileset would hold up to ${estimated} tiles, more than the limit of ${limit}`,
      { hint: 'Lower maxZoom, or tile a smaller area' },
    ),
  emptySource: () =>
    new ApiError(
      400,
      'tileset_source_empty',
      'The source has no rows with a usable geometry (or, for h3 and quadbin, a cell)',
    ),
  /** PMTiles has no tile type for CARTO's binary tiles. */
  exportNeedsMvt: (name: string) =>
    new ApiError(
      400,
      'tileset_export_unsupported',
      `Tileset '${name}' holds CARTO binary tiles; PMTiles archives hold Mapbox Vector Tiles ` +
        'only. Create the tileset with format mvt to export it.',
    ),
  /** PMTiles has no tile type for CARTO's spatial-index tiles either. */
  exportNeedsVectorTiles: (name: string, scheme: string) =>
    new ApiError(
      400,
      'tileset_export_unsupported',
      `Tileset '${name}' holds ${scheme} cells; PMTiles archives hold Mapbox Vector Tiles only`,
    ),
  jobNotFound: (id: string) =>
    new ApiError(404, 'tileset_job_not_found', `Tileset job '${id}' not found`),
  jobAlreadyFinished: (id: string, status: string) =>
    new ApiError(
      400,
      'tileset_job_finished',
      `Tileset job '${id}' has already finished (${status})`,
    ),
  jobQueueFull: (limit: number) =>
    new ApiError(
      503,
      'tileset_jobs_busy',
      `${limit} tileset jobs are already waiting on this server; retry later`,
      { retryAfterSeconds: 30 },
    ),
  cancelled: () => new ApiError(499, 'cancelled', 'The tileset creation was cancelled'),
} as const;
