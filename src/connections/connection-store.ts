import { randomBytes } from 'node:crypto';
import { isUniqueViolation } from '../store/store-dialect.js';
import type { Store } from '../store/store.js';
import type { ConnectionsTable } from '../store/schema.js';
import type { WarehouseProvider } from '../warehouses/driver.js';
import type {
  ConnectionInput,
  ConnectionSecrets,
  ConnectionSettings,
} from './connection-settings.js';
import type { SecretBox } from './secret-box.js';

/** A stored connection as the API shows it: no secrets. */
export interface ConnectionRecord {
  id: string;
  accountId: string;
  name: string;
  provider: WarehouseProvider;
  settings: ConnectionSettings;
  createdAt: string;
  updatedAt: string;
}

/** Thrown when a name is already taken in the account. */
export class DuplicateConnectionName extends Error {
  override readonly name = 'DuplicateConnectionName';
}

function toRecord(row: ConnectionsTable): ConnectionRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    provider: row.provider as WarehouseProvider,
    settings: JSON.parse(row.config) as ConnectionSettings,
    createdAt: row.created_at,
    updatedAt: row.updated_at || row.created_at,
  };
}

/** Per-account warehouse connections in the metadata store, credentials encrypted. */
export class ConnectionStore {
  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
  ) {}

  async create(accountId: string, input: ConnectionInput): Promise<ConnectionRecord> {
    const id = `conn_${randomBytes(8).toString('hex')}`;
    const now = new Date().toISOString();
    const row: ConnectionsTable = {
      id,
      account_id: accountId,
      name: input.name,
      provider: input.provider,
      config: JSON.stringify(input.settings),
      credentials: this.box.seal(JSON.stringify(input.secrets), id),
      created_at: now,
      updated_at: now,
    };
    try {
      await this.store.insertInto('connections').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateConnectionName(input.name);
      throw error;
    }
    return toRecord(row);
  }

  async list(accountId: string): Promise<ConnectionRecord[]> {
    const rows = await this.store
      .selectFrom('connections')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('name')
      .execute();
    return rows.map(toRecord);
  }

  /** The account's connection whose id, or else whose name, is `idOrName`. */
  async find(accountId: string, idOrName: string): Promise<ConnectionRecord | undefined> {
    for (const column of ['id', 'name'] as const) {
      const row = await this.store
        .selectFrom('connections')
        .selectAll()
        .where('account_id', '=', accountId)
        .where(column, '=', idOrName)
        .executeTakeFirst();
      if (row) return toRecord(row);
    }
    return undefined;
  }

  /** Decrypts a connection's secrets; only driver construction calls this. */
  async secretsOf(id: string): Promise<ConnectionSecrets> {
    const row = await this.store
      .selectFrom('connections')
      .select('credentials')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    if (!row.credentials) return { password: '' };
    return JSON.parse(this.box.open(row.credentials, id)) as ConnectionSecrets;
  }

  async update(record: ConnectionRecord, input: ConnectionInput): Promise<ConnectionRecord> {
    // Strictly later than the last change, so caches keyed on it always see a new value.
    const now = new Date(Math.max(Date.now(), Date.parse(record.updatedAt) + 1)).toISOString();
    try {
      await this.store
        .updateTable('connections')
        .set({
          name: input.name,
          config: JSON.stringify(input.settings),
          credentials: this.box.seal(JSON.stringify(input.secrets), record.id),
          updated_at: now,
        })
        .where('id', '=', record.id)
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateConnectionName(input.name);
      throw error;
    }
    return { ...record, name: input.name, settings: input.settings, updatedAt: now };
  }

  async remove(id: string): Promise<void> {
    await this.store.deleteFrom('connections').where('id', '=', id).execute();
  }
}
