import { PostgresAdapter, type Kysely } from 'kysely';

/** Any store handle: the store, a transaction, or a migration's untyped handle. */
type StoreHandle = Pick<Kysely<unknown>, 'getExecutor'>;

/** Which database holds the metadata store. */
export type StoreDialect = 'sqlite' | 'postgres';

/**
 * The dialect of a store handle (the store itself, a transaction, or the untyped handle a
 * migration receives). Code that must differ between SQLite and PostgreSQL branches on this,
 * never on configuration, so a handle always gets the SQL its own database understands.
 */
export function dialectOf(db: StoreHandle): StoreDialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** PostgreSQL's SQLSTATE for a unique violation. */
const PG_UNIQUE_VIOLATION = '23505';

/**
 * Whether a failed statement broke a unique constraint: SQLite's extended result code, or
 * PostgreSQL's SQLSTATE. Both drivers put it in the error's `code`.
 */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === PG_UNIQUE_VIOLATION;
}
