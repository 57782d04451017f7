/**
 * A `WarehouseDriver` over an in-process PGlite with PostGIS, for tests only. It passes SQL
 * and bind values straight through and returns PGlite's rows untouched.
 */
import { PGlite } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';
import type {
  WarehouseCapabilities,
  WarehouseDriver,
  WarehouseQuery,
  WarehouseResult,
  WarehouseRowStream,
  WarehouseTestReport,
} from '../warehouses/driver.js';

/** Starts an in-memory PGlite with PostGIS (about 15 s; share one per test file). */
export async function createPostgisDatabase(): Promise<PGlite> {
  const db = await PGlite.create({ extensions: { postgis } });
  await db.exec('CREATE EXTENSION postgis');
  return db;
}

export class PgliteTestDriver implements WarehouseDriver {
  readonly provider = 'postgres' as const;
  readonly capabilities: WarehouseCapabilities = {
    nativeMvt: false,
    jsonTiles: true,
    cancellable: false,
  };
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

  async stream(query: WarehouseQuery): Promise<WarehouseRowStream> {
    const { fields, rows } = await this.query(query);
    async function* batches() {
      yield rows;
    }
    return { fields, rows: batches(), close: () => Promise.resolve() };
  }

  test(): Promise<WarehouseTestReport> {
    return Promise.reject(new Error('not used by the tests of this driver'));
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
