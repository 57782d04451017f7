/**
 * Options of a PostgreSQL-protocol driver and how they become pg pool settings: TLS per libpq's
 * `sslmode`, and the session defaults sent in the startup packet.
 */

import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import type { WarehouseProvider } from '../driver.js';
import type { ServerAddress } from './postgres-wire.js';

/** libpq's `sslmode` values (https://www.postgresql.org/docs/current/libpq-ssl.html). */
export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

/** Structured logging in pino's `(object, message)` form. */
export interface DriverLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface PostgresDriverOptions {
  provider: WarehouseProvider;
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  /** Defaults to `prefer` for PostgreSQL and `require` for Redshift, which always offers TLS. */
  sslmode?: SslMode;
  /** PEM certificates trusted for `verify-ca` and `verify-full`; the system's when absent. */
  ca?: string;
  /** Schema put first on every session's `search_path`. */
  schema?: string;
  /**
   * Starts every session with `default_transaction_read_only = on`. A guard against mistakes,
   * not a security boundary: a statement can turn it off again. Grant the role only what it
   * may do.
   */
  readOnly?: boolean;
  /** Most sessions the driver ever holds open at once. */
  maxConnections: number;
  /** How long an unused session stays open; 30 s when absent. */
  idleTimeoutMs?: number;
  /** Longest wait for the server to accept a new session. */
  connectTimeoutMs: number;
  /** Longest wait for a free session when all `maxConnections` are busy. */
  acquireTimeoutMs: number;
  /** Shown in `pg_stat_activity.application_name`; `graticule` when absent. */
  applicationName?: string;
  logger?: DriverLogger;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** The `sslmode` in force: the option, else the provider's default. */
export function sslModeOf(options: PostgresDriverOptions): SslMode {
  return options.sslmode ?? (options.provider === 'redshift' ? 'require' : 'prefer');
}

/**
 * pg's `ssl` option for an sslmode whose `prefer` has been decided already: pg cannot fall
 * back from TLS to plain text, so the driver asks the server first (`serverAcceptsTls`) and
 * passes `require` or `disable` here.
 */
export function tlsOptionsOf(
  mode: Exclude<SslMode, 'prefer'>,
  ca: string | undefined,
): false | ConnectionOptions {
  switch (mode) {
    case 'disable':
      return false;
    case 'require':
      // libpq's `require` encrypts without checking who answers.
      return { rejectUnauthorized: false };
    case 'verify-ca':
      // The chain must lead to `ca`, but any host name is accepted, as in libpq.
      return { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true, ca };
  }
}

/** Quotes a value for the startup `options` string, where spaces separate arguments. */
function escapeStartupValue(value: string): string {
  return value.replace(/[\\ ]/g, (ch) => `\\${ch}`);
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Session defaults sent in the startup packet (`-c name=value`). Settings that arrive there
 * are what `RESET ALL` returns to, so cleaning a session after a statement keeps them.
 */
export function startupOptionsOf(options: PostgresDriverOptions): string | undefined {
  const settings: string[] = [];
  if (options.schema) settings.push(`search_path=${quoteIdentifier(options.schema)},public`);
  if (options.readOnly) settings.push('default_transaction_read_only=on');
  if (settings.length === 0) return undefined;
  return settings.map((setting) => `-c ${escapeStartupValue(setting)}`).join(' ');
}

/** `host:port` for messages and logs: never the user, password or database options. */
export function endpointOf(address: ServerAddress): string {
  return address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/** The pg pool settings for these options and a TLS decision already made. */
export function poolConfigOf(
  options: PostgresDriverOptions,
  ssl: false | ConnectionOptions,
  types: pg.CustomTypesConfig,
): pg.PoolConfig {
  return {
    host: options.host,
    port: options.port,
    database: options.database,
    user: options.username,
    password: options.password,
    ssl,
    types,
    options: startupOptionsOf(options),
    application_name: options.applicationName ?? 'graticule',
    max: options.maxConnections,
    idleTimeoutMillis: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    connectionTimeoutMillis: options.connectTimeoutMs,
    // Without keep-alives a session whose server vanished is noticed only on next use.
    keepAlive: true,
  };
}
