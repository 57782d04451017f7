/** The APIs an API access token may be allowed to call. */
export const API_NAMES = ['sql', 'maps', 'imports', 'lds'] as const;
export type ApiName = (typeof API_NAMES)[number];

/** One grant: a source (table, tileset, pattern or SQL text) of a connection. */
export interface TokenGrant {
  connection_name: string;
  source: string;
}

/** An API access token as stored; the token string itself is never stored. */
export interface ApiTokenRecord {
  id: string;
  accountId: string;
  /** Subject of the OAuth token that created it. */
  createdBy: string;
  name: string;
  grants: TokenGrant[];
  allowedApis: ApiName[];
  /** Allowed origins or URL prefixes; empty: any. */
  referers: string[];
  /** ISO-8601 UTC, or null when the token never expires. */
  expirationDate: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A token as the Tokens API answers it; `token` is present only in the answer of creation. */
export interface ApiTokenView {
  token?: string;
  id: string;
  name: string;
  grants: TokenGrant[];
  allowed_apis: ApiName[];
  referers: string[];
  expiration_date: string | null;
  created_at: string;
  updated_at: string;
}

/** The API view of a record, without the token string. */
export function toApiTokenView(record: ApiTokenRecord): ApiTokenView {
  return {
    id: record.id,
    name: record.name,
    grants: record.grants.map((grant) => ({ ...grant })),
    allowed_apis: [...record.allowedApis],
    referers: [...record.referers],
    expiration_date: record.expirationDate,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

/** Whether the record's expiration date has passed at `nowMs`. */
export function isExpired(record: ApiTokenRecord, nowMs: number): boolean {
  return record.expirationDate !== null && Date.parse(record.expirationDate) <= nowMs;
}
