/**
 * A `WarehouseDriver` over an in-process PGlite with PostGIS, for tests only. It passes SQL
 * and bind values straight through and returns PGlite's rows untouched.
 */
import { PGlite } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';
import type { WarehouseDriver, WarehouseQuery, WarehouseResult } from '../warehouses/driver.js';

/** Starts an in-memory PGlite with PostGIS (about 15 s; share one per test file). */
export async function createPostgisDatabase(): Promise<PGlite> {
  const db = await PGlite.create({ extensions: { postgis } });
  await db.exec('CREATE EXTENSION postgis');
  return db;
}

export class PgliteTestDriver implements WarehouseDriver {
  readonly provider = 'postgres' as const;
  /** Every statement run, newest last, so tests can inspect what was sent. */
  readonly statements: WarehouseQuery[] = [];

  constructor(private readonly db: PGlite) {}

  async query(query: WarehouseQuery): Promise<WarehouseResult> {
    this.statements.push(query);
    const result = await this.db.query<Record<string, unknown>>(query.sql, [
      ...(query.params ?? []),
    ]);
    return {
      fields: result.fields.map((f) => ({
        name: f.name,
        nativeType: String(f.dataTypeID),
        cartoType: 'unknown',
      })),
      rows: result.rows,
    };
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
