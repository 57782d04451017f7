import type { WarehouseLogger } from '../warehouses/embedded/embedded-warehouse.js';
import { PostgresDriver } from '../warehouses/postgres/postgres-driver.js';
import type { DriverFactory } from './connection-registry.js';

export interface DriverDefaults {
  connectTimeoutMs: number;
  acquireTimeoutMs: number;
  logger?: WarehouseLogger;
}

/** Builds the driver of a stored PostgreSQL or Redshift connection. */
export function postgresDriverFactory(defaults: DriverDefaults): DriverFactory {
  return (record, secrets) =>
    new PostgresDriver({
      provider: record.provider,
      host: record.settings.host,
      port: record.settings.port,
      database: record.settings.database,
      username: record.settings.username,
      password: secrets.password,
      sslmode: record.settings.sslmode,
      ca: record.settings.ca,
      schema: record.settings.schema,
      readOnly: record.settings.readOnly,
      maxConnections: record.settings.maxConnections,
      connectTimeoutMs: defaults.connectTimeoutMs,
      acquireTimeoutMs: defaults.acquireTimeoutMs,
      applicationName: 'graticule',
      logger: defaults.logger,
    });
}
