import type { Adapter, AdapterConstructor, AdapterPayload, ClientMetadata } from 'oidc-provider';
import type { Application } from '../../apps/application-store.js';
import type { ApplicationStore } from '../../apps/application-store.js';
import type { Store } from '../../store/store.js';
import { verifyClientSecret } from '../client-secret.js';

/** A well-formed hash no secret matches. */
const NO_CLIENT_HASH = `scrypt$16384$8$1$${'A'.repeat(22)}$${'A'.repeat(43)}`;

/** Client metadata key carrying an application's allowed web origins (silent renewal, CORS). */
export const WEB_ORIGINS_METADATA = 'web_origins';

function jsonList(text: string): string[] {
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * An application of the Developers section as the OAuth server sees it. Confidential clients'
 * `client_secret` holds the stored hash: the server's secret comparison is replaced by a hash
 * check (see oauth-server.ts), so no secret is ever kept in clear.
 */
export function clientMetadataOf(app: Application): ClientMetadata {
  const origins = [...jsonList(app.web_origins), ...jsonList(app.cors_origins)];
  const common = {
    client_id: app.client_id,
    client_name: app.name,
    [WEB_ORIGINS_METADATA]: [...new Set(origins)],
  };
  if (app.app_type === 'machine_to_machine') {
    return {
      ...common,
      client_secret: app.secretHash,
      token_endpoint_auth_method: app.token_endpoint_auth_method,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    };
  }
  const interactive = {
    ...common,
    grant_types: ['authorization_code'],
    response_types: ['code' as const],
    redirect_uris: jsonList(app.callback_urls),
    post_logout_redirect_uris: jsonList(app.logout_urls),
  };
  if (app.token_endpoint_auth_method === 'none') {
    return { ...interactive, token_endpoint_auth_method: 'none' };
  }
  return {
    ...interactive,
    client_secret: app.secretHash,
    token_endpoint_auth_method: app.token_endpoint_auth_method,
  };
}

/**
 * Keeps the OAuth server's state (sessions, interactions, codes, grants, refresh tokens) in
 * the metadata store, so every node sharing the store can continue a flow another one began.
 * Clients are read from the applications table, after the server's own (the web console).
 */
export function storeAdapter(
  store: Store,
  applications: ApplicationStore,
  builtInClients: ClientMetadata[] = [],
): AdapterConstructor {
  const now = () => Math.floor(Date.now() / 1000);

  class StoreAdapter implements Adapter {
    constructor(private readonly kind: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const row = {
        kind: this.kind,
        id,
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        uid: payload.uid ?? null,
        user_code: payload.userCode ?? null,
        expires_at: expiresIn ? now() + expiresIn : null,
        consumed_at: null,
      };
      await store
        .insertInto('oauth_records')
        .values(row)
        .onConflict((c) =>
          c.columns(['kind', 'id']).doUpdateSet({
            payload: row.payload,
            grant_id: row.grant_id,
            uid: row.uid,
            user_code: row.user_code,
            expires_at: row.expires_at,
          }),
        )
        .execute();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.kind === 'Client') {
        const builtIn = builtInClients.find((client) => client.client_id === id);
        if (builtIn) return builtIn;
        const app = await applications.findByClientId(id);
        // An unknown client costs a hash too, so timing does not tell which client ids exist.
        if (!app) await verifyClientSecret('', NO_CLIENT_HASH);
        return app ? clientMetadataOf(app) : undefined;
      }
      return this.findWhere('id', id);
    }

    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.findWhere('uid', uid);
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.findWhere('user_code', userCode);
    }

    async consume(id: string): Promise<void> {
      await store
        .updateTable('oauth_records')
        .set({ consumed_at: now() })
        .where('kind', '=', this.kind)
        .where('id', '=', id)
        .execute();
    }

    async destroy(id: string): Promise<void> {
      await store
        .deleteFrom('oauth_records')
        .where('kind', '=', this.kind)
        .where('id', '=', id)
        .execute();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await store.deleteFrom('oauth_records').where('grant_id', '=', grantId).execute();
    }

    private async findWhere(
      column: 'id' | 'uid' | 'user_code',
      value: string,
    ): Promise<AdapterPayload | undefined> {
      const row = await store
        .selectFrom('oauth_records')
        .select(['payload', 'expires_at', 'consumed_at'])
        .where('kind', '=', this.kind)
        .where(column, '=', value)
        .executeTakeFirst();
      if (!row) return undefined;
      if (row.expires_at !== null && row.expires_at <= now()) return undefined;
      const payload = JSON.parse(row.payload) as AdapterPayload;
      return row.consumed_at === null ? payload : { ...payload, consumed: row.consumed_at };
    }
  }
  return StoreAdapter;
}

/** Deletes expired OAuth records; run now and then. */
export async function pruneExpiredOAuthRecords(store: Store): Promise<number> {
  const result = await store
    .deleteFrom('oauth_records')
    .where('expires_at', '<=', Math.floor(Date.now() / 1000))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
