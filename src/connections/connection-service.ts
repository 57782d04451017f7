import { errors } from '../http/errors.js';
import type { WarehouseCapabilities, WarehouseTestReport } from '../warehouses/driver.js';
import type { Connection, ConnectionRegistry, DriverFactory } from './connection-registry.js';
import {
  EMBEDDED_CONNECTION,
  readConnectionChange,
  readNewConnection,
  type ConnectionInput,
  type ConnectionSettings,
} from './connection-settings.js';
import {
  DuplicateConnectionName,
  type ConnectionRecord,
  type ConnectionStore,
} from './connection-store.js';

/** A connection as the API shows it; secrets never appear. */
export interface ConnectionView {
  id: string;
  name: string;
  provider_id: string;
  privacy: 'private' | 'shared';
  /** True for the embedded warehouse, which Graticule manages. */
  managed: boolean;
  config: Omit<ConnectionSettings, 'ca'> & { ca?: string };
  created_at?: string;
  updated_at?: string;
}

export interface ConnectionTestView {
  ok: true;
  provider_id: string;
  serverVersion: string;
  postgisVersion: string | null;
  latencyMs: number;
  capabilities: WarehouseCapabilities;
}

function viewOf(record: ConnectionRecord): ConnectionView {
  return {
    id: record.id,
    name: record.name,
    provider_id: record.provider,
    privacy: 'private',
    managed: false,
    config: record.settings,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

function sharedViewOf(connection: Connection): ConnectionView {
  return {
    id: connection.id,
    name: connection.name,
    provider_id: connection.provider,
    privacy: 'shared',
    managed: true,
    config: {} as ConnectionView['config'],
  };
}

function testViewOf(provider: string, report: WarehouseTestReport): ConnectionTestView {
  return { ok: true, provider_id: provider, ...report };
}

/** The Connections API's operations, shared by the HTTP routes and the CLI. */
export class ConnectionService {
  constructor(
    private readonly store: ConnectionStore,
    private readonly registry: ConnectionRegistry,
    private readonly createDriver: DriverFactory,
    private readonly defaultPoolSize: number,
  ) {}

  private get rules() {
    const shared = this.registry.sharedConnections().map((c) => c.name);
    const reservedNames = [...new Set([EMBEDDED_CONNECTION, ...shared])];
    return { reservedNames, defaultPoolSize: this.defaultPoolSize };
  }

  async list(accountId: string): Promise<ConnectionView[]> {
    const shared = this.registry.sharedConnections().map(sharedViewOf);
    return [...shared, ...(await this.store.list(accountId)).map(viewOf)];
  }

  async get(accountId: string, idOrName: string): Promise<ConnectionView> {
    const shared = this.registry.sharedConnections().find((c) => c.name === idOrName);
    if (shared) return sharedViewOf(shared);
    return viewOf(await this.find(accountId, idOrName));
  }

  async create(accountId: string, body: unknown): Promise<ConnectionView> {
    const input = readNewConnection(body, this.rules);
    try {
      return viewOf(await this.store.create(accountId, input));
    } catch (error) {
      throw this.duplicateOr(error);
    }
  }

  async update(accountId: string, idOrName: string, body: unknown): Promise<ConnectionView> {
    const record = await this.findWritable(accountId, idOrName);
    const current: ConnectionInput = {
      name: record.name,
      provider: record.provider,
      settings: record.settings,
      secrets: await this.store.secretsOf(record.id),
    };
    const input = readConnectionChange(body, current, this.rules);
    try {
      const updated = await this.store.update(record, input);
      this.registry.forget(record.id);
      return viewOf(updated);
    } catch (error) {
      throw this.duplicateOr(error);
    }
  }

  async remove(accountId: string, idOrName: string): Promise<void> {
    const record = await this.findWritable(accountId, idOrName);
    await this.store.remove(record.id);
    this.registry.forget(record.id);
  }

  /** Connects with a stored connection and reports what the server offers. */
  async test(accountId: string, idOrName: string): Promise<ConnectionTestView> {
    const shared = this.registry.sharedConnections().find((c) => c.name === idOrName);
    if (shared) return testViewOf(shared.provider, await shared.driver.test());
    const record = await this.find(accountId, idOrName);
    const connection = await this.registry.connectionFor(record);
    return testViewOf(record.provider, await connection.driver.test());
  }

  /** Connects with settings that are not saved (the "test before saving" of a form). */
  async testUnsaved(body: unknown): Promise<ConnectionTestView> {
    const input = readNewConnection(body, { ...this.rules, reservedNames: [] });
    const now = new Date().toISOString();
    const record: ConnectionRecord = {
      id: 'unsaved',
      accountId: '',
      name: input.name,
      provider: input.provider,
      settings: { ...input.settings, maxConnections: 1 },
      createdAt: now,
      updatedAt: now,
    };
    const driver = this.createDriver(record, input.secrets);
    try {
      return testViewOf(input.provider, await driver.test());
    } finally {
      await driver.close();
    }
  }

  private async find(accountId: string, idOrName: string): Promise<ConnectionRecord> {
    const record = await this.store.find(accountId, idOrName);
    if (!record) throw errors.connectionNotFound(idOrName);
    return record;
  }

  private async findWritable(accountId: string, idOrName: string): Promise<ConnectionRecord> {
    if (this.registry.isShared(idOrName)) throw errors.connectionManaged(idOrName);
    return this.find(accountId, idOrName);
  }

  private duplicateOr(error: unknown): unknown {
    return error instanceof DuplicateConnectionName
      ? errors.connectionExists(error.message)
      : error;
  }
}
