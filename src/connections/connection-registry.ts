import { errors } from '../http/errors.js';
import type { WarehouseDriver, WarehouseProvider } from '../warehouses/driver.js';
import type { ConnectionSecrets } from './connection-settings.js';
import type { ConnectionRecord, ConnectionStore } from './connection-store.js';

/** A named connection and the driver that reaches its warehouse. */
export interface Connection {
  /** Stable id; names are only unique within an account. */
  id: string;
  name: string;
  provider: WarehouseProvider;
  driver: WarehouseDriver;
  /** Changes whenever the connection's settings change; caches of its data key on it. */
  cacheKey: string;
}

/** Builds the driver of a stored connection (a connection pool; connects lazily). */
export type DriverFactory = (
  record: ConnectionRecord,
  secrets: ConnectionSecrets,
) => WarehouseDriver;

interface LiveDriver {
  updatedAt: string;
  connection: Promise<Connection>;
  /** `connection` once built. */
  built?: Connection;
}

/** A name resolved lately: which stored connection it named, and when that was read. */
interface RecentLookup {
  id: string;
  readAtMs: number;
  connection: Promise<Connection>;
}

/**
 * How long a resolved name is trusted without reading the store again. Reading it costs about
 * a tenth of a millisecond, as much as the rest of a cached tile request; a change made
 * through another API node or the CLI applies within this time, one made through this node's
 * Connections API at once.
 */
const RECHECK_AFTER_MS = 1_000;

/** The subset of a pino logger the registry writes to. */
interface RegistryLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Resolves the connection names used in `/v3/.../{connection}/...` paths, for the account a
 * token belongs to, to drivers. A name is looked up in the metadata store at most
 * once a second, so a change made through another API node or the CLI applies within a
 * second, and one made through this node at once; drivers (connection pools) are kept until
 * the stored connection changes or is removed.
 */
export class ConnectionRegistry {
  private readonly shared = new Map<string, Connection>();
  private readonly live = new Map<string, LiveDriver>();
  private readonly recent = new Map<string, RecentLookup>();

  constructor(
    private readonly store?: ConnectionStore,
    private readonly createDriver?: DriverFactory,
    private readonly logger?: RegistryLogger,
  ) {}

  /** A connection every account can use (the embedded warehouse). */
  registerShared(connection: Connection): void {
    this.shared.set(connection.name, connection);
  }

  sharedConnections(): Connection[] {
    return [...this.shared.values()];
  }

  isShared(name: string): boolean {
    return this.shared.has(name);
  }

  /** The connection `name` of `accountId`, or a 404 `ApiError` naming it. */
  async resolve(accountId: string, name: string): Promise<Connection> {
    const shared = this.shared.get(name);
    if (shared) return shared;
    const key = `${accountId}\n${name}`;
    const recent = this.recent.get(key);
    // A driver retired since (changed or removed here) is no longer live: read the store.
    if (
      recent &&
      performance.now() - recent.readAtMs < RECHECK_AFTER_MS &&
      this.live.get(recent.id)?.connection === recent.connection
    ) {
      return recent.connection;
    }

    const readAtMs = performance.now();
    const record = await this.store?.find(accountId, name);
    // Another account's connection is not found, rather than forbidden: names do not leak.
    if (!record || record.name !== name) {
      this.recent.delete(key);
      throw errors.connectionNotFound(name);
    }
    const connection = this.connectionFor(record);
    this.recent.set(key, { id: record.id, readAtMs, connection });
    return connection;
  }

  /**
   * The connection `name` of `accountId` when `resolve` would answer it without reading the
   * store (a shared connection, or a name resolved less than a second ago whose driver is
   * built); undefined otherwise, never an error.
   */
  peek(accountId: string, name: string): Connection | undefined {
    const shared = this.shared.get(name);
    if (shared) return shared;
    const recent = this.recent.get(`${accountId}\n${name}`);
    if (!recent || performance.now() - recent.readAtMs >= RECHECK_AFTER_MS) return undefined;
    const live = this.live.get(recent.id);
    return live?.connection === recent.connection ? live.built : undefined;
  }

  /** The live driver of a stored connection, built on first use and after every change. */
  connectionFor(record: ConnectionRecord): Promise<Connection> {
    const current = this.live.get(record.id);
    if (current && current.updatedAt === record.updatedAt) return current.connection;
    if (current) this.retire(record.id, current);

    const connection = this.build(record);
    const live: LiveDriver = { updatedAt: record.updatedAt, connection };
    this.live.set(record.id, live);
    connection.then(
      (built) => (live.built = built),
      () => this.live.delete(record.id),
    );
    return connection;
  }

  /** Closes the driver of a connection that was changed or removed. */
  forget(id: string): void {
    const current = this.live.get(id);
    if (current) this.retire(id, current);
  }

  async close(): Promise<void> {
    const closing = [...this.live.entries()].map(([id, live]) => this.retire(id, live));
    await Promise.all(closing);
  }

  private async build(record: ConnectionRecord): Promise<Connection> {
    if (!this.store || !this.createDriver) throw errors.connectionNotFound(record.name);
    const secrets = await this.store.secretsOf(record.id);
    return {
      id: record.id,
      name: record.name,
      provider: record.provider,
      driver: this.createDriver(record, secrets),
      cacheKey: `${record.id}@${record.updatedAt}`,
    };
  }

  private async retire(id: string, live: LiveDriver): Promise<void> {
    if (this.live.get(id) === live) this.live.delete(id);
    try {
      await (await live.connection).driver.close();
    } catch (error) {
      this.logger?.warn({ connectionId: id, err: error }, 'closing a connection pool failed');
    }
  }
}
