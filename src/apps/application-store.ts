import type { Selectable, Updateable } from 'kysely';
import type { Store } from '../store/store.js';
import type {
  ApplicationType,
  ApplicationsTable,
  TokenEndpointAuthMethod,
  UserRole,
} from '../store/schema.js';
import { hashClientSecret } from '../auth/client-secret.js';

export type Application = Omit<Selectable<ApplicationsTable>, 'secret_hash'> & {
  secretHash: string;
};

/**
 * The stored hash of an application without a secret (`token_endpoint_auth_method` `none`).
 * No secret verifies against it: it is no `scrypt$...` string.
 */
export const NO_SECRET_HASH = '';

export interface NewApplication {
  clientId: string;
  /** Shown once; only its hash is stored. Null for applications that have no secret. */
  clientSecret: string | null;
  accountId: string;
  ownerUserId: string;
  name: string;
  description?: string;
  url?: string;
  type: ApplicationType;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  thumbnailUrl?: string;
  loginUrl?: string;
  callbackUrls?: string[];
  logoutUrls?: string[];
  webOrigins?: string[];
  corsOrigins?: string[];
}

/** Columns an update may set; URL lists as arrays. */
export interface ApplicationUpdate {
  name?: string;
  description?: string;
  url?: string;
  type?: ApplicationType;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  thumbnailUrl?: string;
  loginUrl?: string;
  callbackUrls?: string[];
  logoutUrls?: string[];
  webOrigins?: string[];
  corsOrigins?: string[];
}

function toColumns(input: ApplicationUpdate): Updateable<ApplicationsTable> {
  const list = (values: string[] | undefined) =>
    values === undefined ? undefined : JSON.stringify(values);
  const columns: Updateable<ApplicationsTable> = {
    name: input.name,
    description: input.description,
    url: input.url,
    app_type: input.type,
    token_endpoint_auth_method: input.tokenEndpointAuthMethod,
    thumbnail_url: input.thumbnailUrl,
    login_url: input.loginUrl,
    callback_urls: list(input.callbackUrls),
    logout_urls: list(input.logoutUrls),
    web_origins: list(input.webOrigins),
    cors_origins: list(input.corsOrigins),
  };
  for (const key of Object.keys(columns) as (keyof typeof columns)[]) {
    if (columns[key] === undefined) delete columns[key];
  }
  return columns;
}

function toApplication(row: Selectable<ApplicationsTable>): Application {
  const { secret_hash: secretHash, ...rest } = row;
  return { ...rest, secretHash };
}

async function hashOrNone(secret: string | null): Promise<string> {
  return secret === null ? NO_SECRET_HASH : hashClientSecret(secret);
}

/** Registered OAuth applications (the Developers section). Secrets are stored hashed. */
export class ApplicationStore {
  constructor(private readonly store: Store) {}

  async create(input: NewApplication): Promise<void> {
    const now = new Date().toISOString();
    await this.store
      .insertInto('applications')
      .values({
        client_id: input.clientId,
        account_id: input.accountId,
        owner_user_id: input.ownerUserId,
        name: input.name,
        description: input.description ?? '',
        url: input.url ?? '',
        app_type: input.type,
        token_endpoint_auth_method: input.tokenEndpointAuthMethod,
        thumbnail_url: input.thumbnailUrl ?? '',
        login_url: input.loginUrl ?? '',
        callback_urls: JSON.stringify(input.callbackUrls ?? []),
        logout_urls: JSON.stringify(input.logoutUrls ?? []),
        web_origins: JSON.stringify(input.webOrigins ?? []),
        cors_origins: JSON.stringify(input.corsOrigins ?? []),
        secret_hash: await hashOrNone(input.clientSecret),
        created_at: now,
        updated_at: now,
      })
      .execute();
  }

  async findByClientId(clientId: string): Promise<Application | undefined> {
    const row = await this.store
      .selectFrom('applications')
      .selectAll()
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row ? toApplication(row) : undefined;
  }

  /** An account's application; undefined for another account's, as for a missing one. */
  async findInAccount(accountId: string, clientId: string): Promise<Application | undefined> {
    const row = await this.store
      .selectFrom('applications')
      .selectAll()
      .where('client_id', '=', clientId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return row ? toApplication(row) : undefined;
  }

  /** An account's applications, oldest first. */
  async listForAccount(accountId: string): Promise<Application[]> {
    const rows = await this.store
      .selectFrom('applications')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('client_id')
      .execute();
    return rows.map(toApplication);
  }

  async update(clientId: string, changes: ApplicationUpdate): Promise<void> {
    await this.store
      .updateTable('applications')
      .set({ ...toColumns(changes), updated_at: new Date().toISOString() })
      .where('client_id', '=', clientId)
      .execute();
  }

  /** Replaces an application's secret, e.g. when the operator pins a new one by configuration. */
  async replaceSecret(clientId: string, clientSecret: string): Promise<void> {
    await this.store
      .updateTable('applications')
      .set({ secret_hash: await hashClientSecret(clientSecret) })
      .where('client_id', '=', clientId)
      .execute();
  }

  /**
   * Rotates the secret: the old one stops verifying at once, since every check reads the
   * stored hash. Null removes the secret (the application turned public).
   */
  async rotateSecret(clientId: string, clientSecret: string | null): Promise<void> {
    const now = new Date().toISOString();
    await this.store
      .updateTable('applications')
      .set({ secret_hash: await hashOrNone(clientSecret), secret_rotated_at: now, updated_at: now })
      .where('client_id', '=', clientId)
      .execute();
  }

  async remove(clientId: string): Promise<void> {
    await this.store.deleteFrom('applications').where('client_id', '=', clientId).execute();
  }

  /** How many applications a user owns (they act as that user). */
  async countOwnedBy(userId: string): Promise<number> {
    const row = await this.store
      .selectFrom('applications')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('owner_user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /**
   * The user an application acts for: a machine-to-machine token carries its owner's e-mail
   * and the permissions of its owner's role, as CARTO's do.
   */
  async findOwner(
    clientId: string,
  ): Promise<{ email: string; role: UserRole; accountId: string } | undefined> {
    const row = await this.store
      .selectFrom('applications')
      .innerJoin('users', 'users.id', 'applications.owner_user_id')
      .select(['users.email', 'users.role', 'applications.account_id as accountId'])
      .where('applications.client_id', '=', clientId)
      .executeTakeFirst();
    return row;
  }
}
