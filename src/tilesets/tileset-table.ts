/**
 * A tileset as a warehouse table: `z int, x int, y int, data bytea`, primary key (z, x, y),
 * one row per non-empty tile, plus one metadata row at z = -1, x = 0, y = 0 whose data is the
 * UTF-8 JSON of `TilesetMetadata`. Only `driver.query` is used, so it works on every
 * PostgreSQL-flavoured warehouse; drivers return bytea as `\x` hex text.
 */
import { StoredTable } from './stored-table.js';
import type { TilesetMetadata } from './tileset-metadata.js';
import { isTilesetMetadata } from './tileset-metadata.js';
import { tilesetErrors } from './tileset-errors.js';
import type { TileAddress } from './tile-ranges.js';

/** The row that holds the metadata; no tile has a negative zoom. */
export const METADATA_TILE: TileAddress = { z: -1, x: 0, y: 0 };

const READ_TILE_SQL = (table: string) => `
  SELECT "data" FROM ${table} WHERE "z" = $1::int AND "x" = $2::int AND "y" = $3::int`;

const LIST_TILES_SQL = (table: string) => `
  SELECT "z", "x", "y" FROM ${table} WHERE "z" >= 0 ORDER BY "z", "x", "y"`;

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);

/** Bytes of a bytea value as a driver hands it back: `\x` hex text, or already bytes. */
export function byteaToBuffer(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return Buffer.from(value);
  const text = String(value);
  if (!text.startsWith('\\x')) throw new TypeError('expected bytea as \\x hex text');
  return Buffer.from(text.slice(2), 'hex');
}

/** Reads a tileset table: its metadata, one tile, or all of them. */
export class TilesetTable extends StoredTable {
  /**
   * The metadata row, checked; 404 when the table is missing, or is not laid out as a tileset
   * (other columns, no metadata row, or metadata Graticule did not write).
   */
  async readMetadata(signal?: AbortSignal): Promise<TilesetMetadata> {
    const fields = await this.columns(signal);
    const typeOf = (name: string) => fields.find((f) => f.name === name)?.nativeType;
    const hasTileColumns =
      ['z', 'x', 'y'].every((c) => INTEGER_TYPES.has(typeOf(c) ?? '')) &&
      typeOf('data') === 'bytea';
    if (!hasTileColumns) {
      throw tilesetErrors.notATileset(this.displayName, 'expected columns z, x, y and data bytea');
    }
    const body = await this.readTile(METADATA_TILE, signal);
    let metadata: unknown;
    try {
      metadata = body ? JSON.parse(body.toString('utf8')) : undefined;
    } catch {
      metadata = undefined;
    }
    if (!isTilesetMetadata(metadata)) {
      throw tilesetErrors.notATileset(this.displayName, 'no valid metadata row at z = -1');
    }
    return metadata;
  }

  /** One tile's bytes, or null when the tileset has no such tile. */
  async readTile(tile: TileAddress, signal?: AbortSignal): Promise<Buffer | null> {
    const { rows } = await this.driver.query({
      sql: READ_TILE_SQL(this.sqlName),
      params: [tile.z, tile.x, tile.y],
      timeoutMs: this.timeoutMs,
      signal,
      repeatsText: true,
    });
    return byteaToBuffer(rows[0]?.data);
  }

  /** The addresses of every tile (not the metadata row), by zoom, column and row. */
  async listTiles(signal?: AbortSignal): Promise<TileAddress[]> {
    const { rows } = await this.driver.query({
      sql: LIST_TILES_SQL(this.sqlName),
      timeoutMs: this.timeoutMs,
      signal,
    });
    return rows.map((r) => ({ z: Number(r.z), x: Number(r.x), y: Number(r.y) }));
  }

  /** The bytes of several tiles in one statement, keyed `z/x/y`. */
  async readTiles(tiles: readonly TileAddress[], signal?: AbortSignal) {
    const params: number[] = [];
    const keys = tiles.map((t) => {
      params.push(t.z, t.x, t.y);
      const n = params.length;
      return `($${n - 2}::int, $${n - 1}::int, $${n}::int)`;
    });
    const { rows } = await this.driver.query({
      sql: `SELECT "z", "x", "y", "data" FROM ${this.sqlName}
             WHERE ("z", "x", "y") IN (${keys.join(', ')})`,
      params,
      timeoutMs: this.timeoutMs,
      signal,
    });
    const bodies = new Map<string, Buffer>();
    for (const row of rows) {
      const body = byteaToBuffer(row.data);
      if (body) bodies.set(`${row.z}/${row.x}/${row.y}`, body);
    }
    return bodies;
  }
}
