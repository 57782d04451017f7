import { errors } from '../http/errors.js';
import type { WarehouseDriver, WarehouseProvider } from '../warehouses/driver.js';

/** A named connection and the driver that reaches its warehouse. */
export interface Connection {
  /** Stable id; caches key on it, since names are only unique within an account. */
  id: string;
  name: string;
  provider: WarehouseProvider;
  driver: WarehouseDriver;
}

/**
 * Resolves the connection names used in `/v3/.../{connection}/...` paths, for the account a
 * token belongs to, to drivers.
 */
export class ConnectionRegistry {
  private readonly shared = new Map<string, Connection>();

  /** A connection every account can use (the embedded warehouse). */
  registerShared(connection: Connection): void {
    this.shared.set(connection.name, connection);
  }

  /** The connection `name` of `accountId`, or a 404 `ApiError` naming it. */
  resolve(accountId: string, name: string): Promise<Connection> {
    void accountId;
    const connection = this.shared.get(name);
    if (!connection) return Promise.reject(errors.connectionNotFound(name));
    return Promise.resolve(connection);
  }
}
