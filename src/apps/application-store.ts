import type { Selectable } from 'kysely';
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

export interface NewApplication {
  clientId: string;
  clientSecret: string;
  accountId: string;
  ownerUserId: string;
  name: string;
  description?: string;
  url?: string;
  type: ApplicationType;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
}

/** Registered OAuth applications (the Developers section). Secrets are stored hashed. */
export class ApplicationStore {
  constructor(private readonly store: Store) {}

  async create(input: NewApplication): Promise<void> {
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
        secret_hash: await hashClientSecret(input.clientSecret),
        created_at: new Date().toISOString(),
      })
      .execute();
  }

  async findByClientId(clientId: string): Promise<Application | undefined> {
    const row = await this.store
      .selectFrom('applications')
      .selectAll()
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    if (!row) return undefined;
    const { secret_hash: secretHash, ...rest } = row;
    return { ...rest, secretHash };
  }

  /** Replaces an application's secret, e.g. when the operator pins a new one by configuration. */
  async replaceSecret(clientId: string, clientSecret: string): Promise<void> {
    await this.store
      .updateTable('applications')
      .set({ secret_hash: await hashClientSecret(clientSecret) })
      .where('client_id', '=', clientId)
      .execute();
  }

  async remove(clientId: string): Promise<void> {
    await this.store.deleteFrom('applications').where('client_id', '=', clientId).execute();
  }

  /**
   * The user an application acts for: a machine-to-machine token carries its owner's e-mail
   * and the permissions of its owner's role, as CARTO's do.
   */
  async findOwner(clientId: string): Promise<{ email: string; role: UserRole } | undefined> {
    const row = await this.store
      .selectFrom('applications')
      .innerJoin('users', 'users.id', 'applications.owner_user_id')
      .select(['users.email', 'users.role'])
      .where('applications.client_id', '=', clientId)
      .executeTakeFirst();
    return row;
  }
}
