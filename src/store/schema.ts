import type { Generated } from 'kysely';

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
  /** Provider settings as JSON, without secrets. */
  config: string;
  /** Secrets (password, CA key material) as JSON, AES-256-GCM encrypted; see secret-box.ts. */
  credentials: string | null;
  created_at: string;
  updated_at: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

export type SqlJobStatus = 'pending' | 'running' | 'success' | 'failure' | 'cancelled';

/** Async SQL jobs (`/v3/sql/{connection}/job`), queued and run by `src/jobs/`. */
export interface SqlJobsTable {
  /** Queue order: workers claim the lowest pending `seq` first; lists show the highest first. */
  seq: Generated<number>;
  /** The id used in URLs, `job_<hex>`. */
  external_id: string;
  account_id: string;
  /** Token subject that created the job. */
  created_by: string;
  connection_id: string;
  connection_name: string;
  connection_provider: string;
  query: string;
  /** JSON array of bind values; null when the job has none. */
  query_parameters: string | null;
  status: SqlJobStatus;
  error_message: string | null;
  error_code: string | null;
  /** JSON object answered as `jobMetadata`. */
  metadata: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Stable name of the node running the job (same across its restarts). */
  node_id: string | null;
  /** Which start of that node claimed the job; a different one means the claimer is gone. */
  node_incarnation: string | null;
  /** The claimer renews this while it runs the job; once past, any node may end the job. */
  lease_expires_at: string | null;
}

export type MapPrivacy = 'public' | 'private';

/** Saved maps, read by CARTO's `fetchMap` through `/v3/maps/public/{id}`; see src/public-maps/. */
export interface SavedMapsTable {
  /** A random UUID, as CARTO's map ids are. */
  id: string;
  account_id: string;
  title: string;
  description: string;
  /** `public`: anyone with the id may read it; `private`: only tokens of its account. */
  privacy: MapPrivacy;
  /** JSON array of the map's datasets, as fetchMap reads them. */
  datasets: string;
  /** JSON object: the Kepler.gl map configuration (`{version: 'v1', config}`). */
  kepler_map_config: string;
  created_at: string;
  updated_at: string;
}

export interface StoreSchema {
  accounts: AccountsTable;
  users: UsersTable;
  applications: ApplicationsTable;
  signing_keys: SigningKeysTable;
  connections: ConnectionsTable;
  meta: MetaTable;
  sql_jobs: SqlJobsTable;
  saved_maps: SavedMapsTable;
}
