import { errors } from '../http/errors.js';
import type { WarehouseDriver } from '../warehouses/driver.js';

/** A named connection and the driver that reaches its warehouse. */
export interface Connection {
  name: string;
  driver: WarehouseDriver;
}

/** Resolves connection names used in `/v3/.../{connection}/...` paths to drivers. */
export class ConnectionRegistry {
  private readonly byName = new Map<string, Connection>();

  register(connection: Connection): void {
    this.byName.set(connection.name, connection);
  }

  /** The connection called `name`, or a 404 `ApiError` naming it. */
  resolve(name: string): Connection {
    const connection = this.byName.get(name);
    if (!connection) throw errors.connectionNotFound(name);
    return connection;
  }
}
