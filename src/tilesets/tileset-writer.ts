/**
 * Writes a new tileset table under a temporary name and renames it into place at the end, so
 * a run that fails or is cancelled leaves no half tileset behind: readers see the old
 * tileset (or none) until the rename. Each statement commits on its own (the embedded
 * warehouse refuses explicit transactions), which this layout does not need.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { quoteIdentifier, quoteTableName, type TableName } from '../maps/table-name.js';
import { WarehouseError, type WarehouseDriver } from '../warehouses/driver.js';
import type { TilesetMetadata } from './tileset-metadata.js';
import { METADATA_TILE } from './tileset-table.js';
import { tilesetErrors } from './tileset-errors.js';
import type { TileAddress } from './tile-ranges.js';

/** Prefix of the temporary tables; a leftover (after a crash) may be dropped at any time. */
export const TEMPORARY_TABLE_PREFIX = '_graticule_tileset_';
/** One INSERT carries at most this many tiles ... */
const BATCH_TILES = 200;
/** ... and about this much base64 text. */
const BATCH_CHARS = 4 * 1024 * 1024;
const DUPLICATE_TABLE = '42P07';

const CREATE_SQL = (table: string) => `
  CREATE TABLE ${table} (
    "z" int NOT NULL,
    "x" int NOT NULL,
    "y" int NOT NULL,
    "data" bytea NOT NULL,
    PRIMARY KEY ("z", "x", "y")
  )`;

const INSERT_METADATA_SQL = (table: string) => `
  INSERT INTO ${table} ("z", "x", "y", "data")
  VALUES ($1::int, $2::int, $3::int, convert_to($4::text, 'UTF8'))`;

const RENAME_SQL = (from: string, to: string) => `ALTER TABLE ${from} RENAME TO ${to}`;

/** Waits between further attempts to drop a failed job's table, after the first one. */
const DROP_RETRY_DELAYS_MS = [2_000, 15_000, 60_000];

/**
 * Drops a failed job's table. A job often fails because the warehouse is busy or away, and
 * the first `DROP` then fails the same way: it is tried again in the background a few times,
 * so the caller reports the failure at once and the table does not stay behind.
 */
export async function dropTemporaryTable(
  driver: WarehouseDriver,
  sqlName: string,
  timeoutMs: number,
  delaysMs: readonly number[] = DROP_RETRY_DELAYS_MS,
): Promise<void> {
  const drop = () => driver.query({ sql: `DROP TABLE IF EXISTS ${sqlName}`, timeoutMs });
  try {
    await drop();
  } catch {
    void (async () => {
      for (const delayMs of delaysMs) {
        await delay(delayMs);
        if (
          await drop().then(
            () => true,
            () => false,
          )
        )
          return;
      }
    })();
  }
}

/** Drop and rename in one statement (a DO block is one transaction), so readers never miss. */
export function replaceSql(from: string, target: string, newName: string): string {
  const body =
    `BEGIN DROP TABLE IF EXISTS ${target}; ` + `ALTER TABLE ${from} RENAME TO ${newName}; END`;
  let tag = '$tileset$';
  while (body.includes(tag)) tag = `$tileset_${randomBytes(4).toString('hex')}$`;
  return `DO ${tag} ${body} ${tag}`;
}

interface PendingTile {
  tile: TileAddress;
  base64: string;
}

export class TilesetWriter {
  private pending: PendingTile[] = [];
  private pendingChars = 0;
  /** Flushes run one after another, in the order tiles arrived. */
  private flushing: Promise<void> = Promise.resolve();
  private added = 0;
  private addedBytes = 0;

  private constructor(
    private readonly driver: WarehouseDriver,
    private readonly target: TableName,
    private readonly temporary: TableName,
    private readonly timeoutMs: number,
  ) {}

  /** Creates the temporary table next to where `target` will be (same schema). */
  static async open(
    driver: WarehouseDriver,
    target: TableName,
    timeoutMs: number,
  ): Promise<TilesetWriter> {
    const temporary: TableName = {
      schema: target.schema,
      table: `${TEMPORARY_TABLE_PREFIX}${randomBytes(6).toString('hex')}`,
    };
    await driver.query({ sql: CREATE_SQL(quoteTableName(temporary)), timeoutMs });
    return new TilesetWriter(driver, target, temporary, timeoutMs);
  }

  /** Tiles added so far (stored, or queued for the next batch). */
  get tilesWritten(): number {
    return this.added;
  }

  get bytesWritten(): number {
    return this.addedBytes;
  }

  /** Queues a tile; resolves once any batch it completed is stored. */
  async add(tile: TileAddress, body: Uint8Array): Promise<void> {
    const base64 = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64');
    this.pending.push({ tile, base64 });
    this.pendingChars += base64.length;
    this.added += 1;
    this.addedBytes += body.byteLength;
    if (this.pending.length >= BATCH_TILES || this.pendingChars >= BATCH_CHARS) {
      await this.flush();
    }
  }

  /** Stores the queued tiles. */
  flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.pendingChars = 0;
    if (batch.length > 0) {
      this.flushing = this.flushing.then(() => this.insert(batch));
    }
    return this.flushing;
  }

  /**
   * Stores the last tiles and the metadata, then puts the table in place: a plain rename, or
   * with `replace` a drop of the existing tileset and the rename in one statement.
   */
  async commit(metadata: TilesetMetadata, replace: boolean): Promise<void> {
    await this.flush();
    const temporary = quoteTableName(this.temporary);
    const { z, x, y } = METADATA_TILE;
    await this.driver.query({
      sql: INSERT_METADATA_SQL(temporary),
      params: [z, x, y, JSON.stringify(metadata)],
      timeoutMs: this.timeoutMs,
    });
    const newName = quoteIdentifier(this.target.table);
    const sql = replace
      ? replaceSql(temporary, quoteTableName(this.target), newName)
      : RENAME_SQL(temporary, newName);
    try {
      await this.driver.query({ sql, timeoutMs: this.timeoutMs });
    } catch (error) {
      if (error instanceof WarehouseError && error.sqlState === DUPLICATE_TABLE) {
        throw tilesetErrors.tilesetExists(quoteTableName(this.target));
      }
      throw error;
    }
  }

  /** Drops the temporary table; never throws (it runs while another error is on its way). */
  async discard(): Promise<void> {
    await this.flushing.catch(() => undefined);
    await dropTemporaryTable(this.driver, quoteTableName(this.temporary), this.timeoutMs);
  }

  private async insert(batch: PendingTile[]): Promise<void> {
    const params: unknown[] = [];
    const rows = batch.map(({ tile, base64 }) => {
      params.push(tile.z, tile.x, tile.y, base64);
      const n = params.length;
      return `($${n - 3}::int, $${n - 2}::int, $${n - 1}::int, decode($${n}::text, 'base64'))`;
    });
    await this.driver.query({
      sql: `INSERT INTO ${quoteTableName(this.temporary)} ("z", "x", "y", "data")
            VALUES ${rows.join(',\n                   ')}`,
      params,
      timeoutMs: this.timeoutMs,
    });
  }
}
