import type { Selectable } from 'kysely';
import type { ApiTokensTable } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { ApiName, ApiTokenRecord, TokenGrant } from './api-token-record.js';

type TokenRow = Selectable<ApiTokensTable>;

function toRecord(row: TokenRow): ApiTokenRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    createdBy: row.created_by,
    name: row.name,
    grants: JSON.parse(row.grants) as TokenGrant[],
    allowedApis: JSON.parse(row.allowed_apis) as ApiName[],
    referers: JSON.parse(row.referers) as string[],
    expirationDate: row.expiration_date,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** What an update may change. */
export type ApiTokenChanges = Partial<
  Pick<ApiTokenRecord, 'name' | 'grants' | 'allowedApis' | 'referers'>
>;

/** API access tokens in the metadata store (table `api_tokens`). */
export class ApiTokenStore {
  constructor(private readonly store: Store) {}

  async insert(record: ApiTokenRecord): Promise<void> {
    await this.store
      .insertInto('api_tokens')
      .values({
        id: record.id,
        account_id: record.accountId,
        created_by: record.createdBy,
        name: record.name,
        grants: JSON.stringify(record.grants),
        allowed_apis: JSON.stringify(record.allowedApis),
        referers: JSON.stringify(record.referers),
        expiration_date: record.expirationDate,
        created_at: record.createdAt,
        updated_at: record.updatedAt,
      })
      .execute();
  }

  async find(id: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.store
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** The tokens one caller of an account created, oldest first. */
  async listOwn(accountId: string, createdBy: string): Promise<ApiTokenRecord[]> {
    const rows = await this.store
      .selectFrom('api_tokens')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('created_by', '=', createdBy)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  /** Every token of an account, whoever created it, oldest first. */
  async listAccount(accountId: string): Promise<ApiTokenRecord[]> {
    const rows = await this.store
      .selectFrom('api_tokens')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  async update(id: string, changes: ApiTokenChanges, updatedAt: string): Promise<void> {
    await this.store
      .updateTable('api_tokens')
      .set({
        name: changes.name,
        grants: changes.grants && JSON.stringify(changes.grants),
        allowed_apis: changes.allowedApis && JSON.stringify(changes.allowedApis),
        referers: changes.referers && JSON.stringify(changes.referers),
        updated_at: updatedAt,
      })
      .where('id', '=', id)
      .execute();
  }

  /** Deletes a token; false when it was already gone. */
  async delete(id: string): Promise<boolean> {
    const result = await this.store
      .deleteFrom('api_tokens')
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
