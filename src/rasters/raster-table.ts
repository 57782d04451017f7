/**
 * A raster table as CARTO's raster-loader writes it and RaQuet specifies it: one row per
 * block, `block` a bigint quadbin cell (overview blocks at coarser resolutions included), one
 * bytea column per band named as in the metadata, and a `metadata` text column holding JSON in
 * the row `block = 0` only. Only `driver.query` is used, so it works on the embedded
 * warehouse and on PostgreSQL; bytea comes back as `\x` hex text or as bytes.
 */
import { StoredTable } from '../tilesets/stored-table.js';
import { quoteIdentifier } from '../maps/table-name.js';
import { byteaToBuffer } from '../tilesets/tileset-table.js';
import { rasterErrors } from './raster-errors.js';
import {
  RasterMetadataError,
  parseRasterMetadata,
  type RasterMetadata,
} from './raster-metadata.js';

/** The block that holds the metadata; no quadbin cell is 0. */
export const METADATA_BLOCK = '0';

/**
 * The metadata row's text as stored, by the metadata read from it: it versions the raster,
 * including what the clients do not read (a rebuild's time), so a raster written again with
 * the same statistics still gets new URLs.
 */
const METADATA_TEXT = new WeakMap<RasterMetadata, string>();

/** The stored text of metadata this module read, or undefined. */
export function metadataTextOf(metadata: RasterMetadata): string | undefined {
  return METADATA_TEXT.get(metadata);
}

const READ_METADATA_SQL = (table: string) => `
  SELECT "metadata" FROM ${table} WHERE "block" = 0 LIMIT 1`;

const INTEGER_TYPES = new Set(['int8', 'int4']);
const TEXT_TYPES = new Set(['text', 'varchar', 'json', 'jsonb', 'bpchar']);

/** One band's stored bytes; null when the block's row has no value for it. */
export interface StoredBand {
  name: string;
  bytes: Buffer | null;
}

/** Reads a raster table: its metadata, then blocks by cell. */
export class RasterTable extends StoredTable {
  /**
   * The metadata, checked against the table's columns: 404 `table_not_found` when the table
   * is missing, 404 `not_a_raster` when it is not laid out as a raster table.
   */
  async readMetadata(signal?: AbortSignal): Promise<RasterMetadata> {
    const fields = await this.columns(signal);
    const typeOf = (name: string) => fields.find((f) => f.name === name)?.nativeType ?? '';
    const notARaster = (reason: string) => rasterErrors.notARaster(this.displayName, reason);
    if (!INTEGER_TYPES.has(typeOf('block')) || !TEXT_TYPES.has(typeOf('metadata'))) {
      throw notARaster('expected a bigint column block and a text column metadata');
    }
    // TODO: serve RaQuet's time series (a row per block and time step); refused for now.
    if (fields.some((f) => f.name === 'time_cf')) {
      throw notARaster('rasters with a time dimension (time_cf) are not served');
    }
    const { rows } = await this.driver.query({
      sql: READ_METADATA_SQL(this.sqlName),
      timeoutMs: this.timeoutMs,
      signal,
    });
    if (rows.length === 0 || rows[0]!.metadata === null) {
      throw notARaster('no metadata in the row block = 0');
    }
    let metadata: RasterMetadata;
    try {
      metadata = parseRasterMetadata(rows[0]!.metadata);
    } catch (error) {
      if (error instanceof RasterMetadataError) throw notARaster(error.message);
      throw error;
    }
    const missing = metadata.bands.filter((band) => typeOf(band.name) !== 'bytea');
    if (missing.length > 0) {
      const names = missing.map((band) => band.name).join(', ');
      throw notARaster(`no bytea column for band ${names}`);
    }
    METADATA_TEXT.set(metadata, String(rows[0]!.metadata));
    return metadata;
  }

  /** The bands of one block, in the metadata's order; null when the table has no such block. */
  async readBlock(
    block: bigint,
    bands: readonly string[],
    signal?: AbortSignal,
  ): Promise<StoredBand[] | null> {
    const columns = bands.map((name, i) => `${quoteIdentifier(name)} AS "b${i}"`).join(', ');
    const { rows } = await this.driver.query({
      sql: `SELECT ${columns} FROM ${this.sqlName} WHERE "block" = $1::bigint LIMIT 1`,
      params: [block.toString()],
      timeoutMs: this.timeoutMs,
      signal,
      repeatsText: true,
    });
    const row = rows[0];
    if (!row) return null;
    return bands.map((name, i) => ({ name, bytes: byteaToBuffer(row[`b${i}`]) }));
  }
}
