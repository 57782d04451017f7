/** The API's answers, as the console reads them. */

export type Role = 'admin' | 'editor' | 'viewer';

/** `GET /v3/me`. */
export interface Me {
  id: string;
  email: string;
  name: string;
  role: Role;
  account_id: string;
  account_name: string;
  permissions: string[];
}

export type ApplicationType = 'single_page' | 'regular_web' | 'machine_to_machine';
export type AuthMethod = 'client_secret_post' | 'client_secret_basic' | 'none';

/** An application (`/v3/applications`); `client_secret` only in creation and rotation. */
export interface Application {
  client_id: string;
  client_secret?: string;
  name: string;
  description: string;
  url: string;
  thumbnail_url: string;
  login_url: string;
  type: ApplicationType;
  token_endpoint_auth_method: AuthMethod;
  callback_urls: string[];
  logout_urls: string[];
  web_origins: string[];
  cors_origins: string[];
  created_at: string;
  updated_at: string;
}

export interface Grant {
  connection_name: string;
  source: string;
}

export type ApiName = 'sql' | 'maps' | 'imports' | 'lds';

/** An API access token (`/v3/tokens`); `token` only in the answer that creates it. */
export interface ApiToken {
  id: string;
  token?: string;
  name: string;
  grants: Grant[];
  allowed_apis: ApiName[];
  referers: string[];
  expiration_date: string | null;
  created_at: string;
  updated_at: string;
}

export type Provider = 'postgres' | 'redshift';

/** A connection (`/v3/connections`); `carto_dw` is managed and has an empty config. */
export interface Connection {
  id: string;
  name: string;
  provider_id: string;
  privacy: string;
  managed: boolean;
  config: {
    host?: string;
    port?: number;
    database?: string;
    username?: string;
    sslmode?: string;
    schema?: string;
    readOnly?: boolean;
    maxConnections?: number;
  };
  created_at?: string;
}

/** `POST /v3/connections/{id}/test`. */
export interface ConnectionTestReport {
  ok: boolean;
  provider_id: string;
  serverVersion: string;
  postgisVersion: string | null;
  latencyMs: number;
}

export interface ColumnInfo {
  name: string;
  type: string;
}

/** The SQL API's answer: rows, then their columns and types. */
export interface SqlAnswer {
  rows: Record<string, unknown>[];
  schema: ColumnInfo[];
  meta?: { rowCount?: number };
}

/** A list answer of the control-plane APIs. */
export interface ListAnswer<T> {
  data: T[];
  meta: { total: number };
}
