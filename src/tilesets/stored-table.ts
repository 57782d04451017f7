/**
 * A table Graticule reads tiles from (a tileset or a raster): its name as written and as SQL,
 * whether it exists and what its columns are. Only `driver.query` is used, so it works on
 * every PostgreSQL-flavoured warehouse.
 */
import { errors } from '../http/errors.js';
import { quoteTableName, type TableName } from '../maps/table-name.js';
import type { WarehouseDriver, WarehouseField } from '../warehouses/driver.js';

const TABLE_EXISTS_SQL = 'SELECT to_regclass($1) IS NOT NULL AS "exists"';

const COLUMNS_SQL = (table: string) => `SELECT * FROM ${table} LIMIT 0`;

export class StoredTable {
  readonly sqlName: string;

  constructor(
    protected readonly driver: WarehouseDriver,
    /** The name as the caller wrote it, for messages. */
    readonly displayName: string,
    name: TableName,
    protected readonly timeoutMs: number,
  ) {
    this.sqlName = quoteTableName(name);
  }

  async exists(signal?: AbortSignal): Promise<boolean> {
    const { rows } = await this.driver.query({
      sql: TABLE_EXISTS_SQL,
      params: [this.sqlName],
      timeoutMs: this.timeoutMs,
      signal,
    });
    return rows[0]?.exists === true;
  }

  /** The table's columns; 404 `table_not_found` when there is no such table. */
  protected async columns(signal?: AbortSignal): Promise<WarehouseField[]> {
    if (!(await this.exists(signal))) throw errors.tableNotFound(this.displayName);
    const { fields } = await this.driver.query({
      sql: COLUMNS_SQL(this.sqlName),
      timeoutMs: this.timeoutMs,
      signal,
    });
    return fields;
  }
}
