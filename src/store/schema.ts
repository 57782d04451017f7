/** Tables of the metadata store, as Kysely sees them. Timestamps are ISO-8601 UTC strings. */
export interface AccountsTable {
  id: string;
  name: string;
  created_at: string;
}

export interface UsersTable {
  id: string;
  account_id: string;
  email: string;
  name: string;
  role: 'admin' | 'editor' | 'viewer';
  created_at: string;
}

export type ApplicationType = 'machine_to_machine' | 'single_page' | 'regular_web';
export type TokenEndpointAuthMethod = 'client_secret_post' | 'client_secret_basic' | 'none';

export interface ApplicationsTable {
  /** The OAuth client id. */
  client_id: string;
  account_id: string;
  owner_user_id: string;
  name: string;
  description: string;
  url: string;
  app_type: ApplicationType;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  /** scrypt hash of the client secret; the secret itself is never stored. */
  secret_hash: string;
  created_at: string;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: string;
  created_at: string;
  retired_at: string | null;
}

export interface ConnectionsTable {
  id: string;
  account_id: string;
  name: string;
  provider: string;
  /** Provider settings as JSON; credentials inside are encrypted. */
  config: string;
  created_at: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface StoreSchema {
  accounts: AccountsTable;
  users: UsersTable;
  applications: ApplicationsTable;
  signing_keys: SigningKeysTable;
  connections: ConnectionsTable;
  meta: MetaTable;
}
