/**
 * Writes a raster table under a temporary name and renames it into place at the end, so a
 * run that fails leaves no half raster behind: readers see the old table (or none) until the
 * rename. Each statement commits on its own (the embedded warehouse refuses explicit
 * transactions). Band bytes travel as base64 text and are decoded in SQL, which every
 * PostgreSQL-flavoured driver binds the same way.
 */
import { randomBytes } from 'node:crypto';
import { quoteIdentifier, quoteTableName, type TableName } from '../maps/table-name.js';
import { WarehouseError, type WarehouseDriver } from '../warehouses/driver.js';
import { dropTemporaryTable, replaceSql } from '../tilesets/tileset-writer.js';
import { rasterErrors } from './raster-errors.js';
import { RasterTable } from './raster-table.js';

/** Prefix of the temporary tables; a leftover (after a crash) may be dropped at any time. */
export const TEMPORARY_RASTER_PREFIX = '_graticule_raster_';
/** One INSERT carries at most about this much base64 text. */
const BATCH_CHARS = 4 * 1024 * 1024;
const DUPLICATE_TABLE = '42P07';

interface PendingBlock {
  cell: bigint;
  bands: string[];
  chars: number;
}

export class RasterWriter {
  private pending: PendingBlock[] = [];
  private pendingChars = 0;
  private written = 0;

  private constructor(
    private readonly driver: WarehouseDriver,
    private readonly target: TableName,
    private readonly temporary: TableName,
    private readonly bandNames: readonly string[],
    private readonly timeoutMs: number,
  ) {}

  /**
   * Checks that `target` may be written (absent, or with `overwrite` a raster table), then
   * creates the temporary table next to it (same schema).
   */
  static async open(
    driver: WarehouseDriver,
    target: TableName,
    bandNames: readonly string[],
    options: { overwrite: boolean; timeoutMs: number },
  ): Promise<RasterWriter> {
    const existing = new RasterTable(driver, quoteTableName(target), target, options.timeoutMs);
    if (await existing.exists()) {
      if (!options.overwrite) throw rasterErrors.rasterExists(quoteTableName(target));
      await existing.readMetadata().catch(() => {
        throw rasterErrors.overwriteNotARaster(quoteTableName(target));
      });
    }
    const temporary: TableName = {
      schema: target.schema,
      table: `${TEMPORARY_RASTER_PREFIX}${randomBytes(6).toString('hex')}`,
    };
    const bandColumns = bandNames.map((name) => `${quoteIdentifier(name)} bytea`).join(', ');
    await driver.query({
      sql: `CREATE TABLE ${quoteTableName(temporary)} (
              "block" bigint NOT NULL PRIMARY KEY,
              "metadata" text,
              ${bandColumns}
            )`,
      timeoutMs: options.timeoutMs,
    });
    return new RasterWriter(driver, target, temporary, bandNames, options.timeoutMs);
  }

  /** Blocks added so far. */
  get blocksWritten(): number {
    return this.written;
  }

  /** Queues a block's band bytes (in the order of the band names); stores a full batch. */
  async add(cell: bigint, bands: readonly Buffer[]): Promise<void> {
    const encoded = bands.map((bytes) => bytes.toString('base64'));
    const chars = encoded.reduce((total, text) => total + text.length, 0);
    this.pending.push({ cell, bands: encoded, chars });
    this.pendingChars += chars;
    this.written += 1;
    if (this.pendingChars >= BATCH_CHARS) await this.flush();
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.pendingChars = 0;
    if (batch.length === 0) return;
    const params: unknown[] = [];
    const rows = batch.map(({ cell, bands }) => {
      params.push(cell.toString());
      const values = [`$${params.length}::bigint`];
      for (const text of bands) {
        params.push(text);
        values.push(`decode($${params.length}::text, 'base64')`);
      }
      return `(${values.join(', ')})`;
    });
    const columns = ['"block"', ...this.bandNames.map(quoteIdentifier)].join(', ');
    await this.driver.query({
      sql: `INSERT INTO ${quoteTableName(this.temporary)} (${columns}) VALUES ${rows.join(', ')}`,
      params,
      timeoutMs: this.timeoutMs,
    });
  }

  /**
   * Stores the last blocks and the metadata row, then puts the table in place: a rename, or
   * with `replace` a drop of the existing raster and the rename in one statement.
   */
  async commit(metadata: object, replace: boolean): Promise<void> {
    await this.flush();
    const temporary = quoteTableName(this.temporary);
    await this.driver.query({
      sql: `INSERT INTO ${temporary} ("block", "metadata") VALUES (0, $1::text)`,
      params: [JSON.stringify(metadata)],
      timeoutMs: this.timeoutMs,
    });
    const newName = quoteIdentifier(this.target.table);
    const rename = `ALTER TABLE ${temporary} RENAME TO ${newName}`;
    const sql = replace ? replaceSql(temporary, quoteTableName(this.target), newName) : rename;
    try {
      await this.driver.query({ sql, timeoutMs: this.timeoutMs });
    } catch (error) {
      if (error instanceof WarehouseError && error.sqlState === DUPLICATE_TABLE) {
        throw rasterErrors.rasterExists(quoteTableName(this.target));
      }
      throw error;
    }
  }

  /** Drops the temporary table; never throws (it runs while another error is on its way). */
  async discard(): Promise<void> {
    await dropTemporaryTable(this.driver, quoteTableName(this.temporary), this.timeoutMs);
  }
}
