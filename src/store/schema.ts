import type { Generated } from 'kysely';

/**
 * Tables of the metadata store, as Kysely sees them, on SQLite and PostgreSQL alike.
 * Timestamps are ISO-8601 UTC strings; JSON is text; bigint columns read as numbers.
 */
export interface AccountsTable {
  id: string;
  name: string;
  created_at: string;
  /** 1 for the installation's operator account (the bootstrap one), else 0; at most one. */
  operator: Generated<number>;
}

export interface UsersTable {
  id: string;
  account_id: string;
  email: string;
  name: string;
  role: UserRole;
  created_at: string;
  updated_at: Generated<string>;
  /** scrypt hash of the password; null for users who cannot log in with one (yet). */
  password_hash: Generated<string | null>;
  /** Failed logins in a row; reset by a successful one. */
  failed_logins: Generated<number>;
  /** Logins are refused until then, after too many failures. */
  locked_until: Generated<string | null>;
  disabled_at: Generated<string | null>;
}

export type UserRole = 'admin' | 'editor' | 'viewer';

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
  updated_at: Generated<string>;
  secret_rotated_at: Generated<string | null>;
  thumbnail_url: Generated<string>;
  login_url: Generated<string>;
  /** JSON arrays of URLs / origins (the advanced settings). */
  callback_urls: Generated<string>;
  logout_urls: Generated<string>;
  web_origins: Generated<string>;
  cors_origins: Generated<string>;
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

/** API access tokens (`/v3/tokens`); the token string is a JWT whose `jti` is `id`. */
export interface ApiTokensTable {
  id: string;
  account_id: string;
  /** Subject of the OAuth token that created it; lists show a caller only their own. */
  created_by: string;
  name: string;
  /** JSON array of `{connection_name, source}`. */
  grants: string;
  /** JSON array of `sql | maps | imports | lds`. */
  allowed_apis: string;
  /** JSON array of allowed referers; empty: any. */
  referers: string;
  expiration_date: string | null;
  created_at: string;
  updated_at: string;
}

/** Credential and login events, queryable by an account's admins. */
export interface AuditEventsTable {
  seq: Generated<number>;
  /** Null for events not tied to an account (e.g. a login with an unknown e-mail). */
  account_id: string | null;
  at: string;
  event: string;
  /** Who did it: a token subject, a user id, or `anonymous`. */
  actor: string;
  target: string;
  ip: string;
  /** JSON object; never holds a secret. */
  details: string;
}

/** State of the OAuth server between requests (oidc-provider's adapter records). */
export interface OAuthRecordsTable {
  kind: string;
  id: string;
  /** JSON payload as the OAuth server gave it. */
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  /** Epoch seconds. */
  expires_at: number | null;
  consumed_at: number | null;
}

/**
 * Invitations to join an account (`/v3/account/invitations`): a link carrying a random
 * secret, of which only the SHA-256 is kept. Open while not accepted, revoked or expired.
 */
export interface InvitationsTable {
  /** `inv_<hex>`. */
  id: string;
  account_id: string;
  /** Lower-cased, like users' e-mails. */
  email: string;
  /** The role the new user gets. */
  role: UserRole;
  /** Hex SHA-256 of the link's secret. */
  secret_hash: string;
  /** Who invited: a token subject, or `cli`. */
  invited_by: string;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  /** The user the invitation made. */
  accepted_user_id: string | null;
  revoked_at: string | null;
  /** Set when the link lets this existing user (without a password) choose one. */
  user_id: Generated<string | null>;
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
  api_tokens: ApiTokensTable;
  audit_events: AuditEventsTable;
  oauth_records: OAuthRecordsTable;
  invitations: InvitationsTable;
}
