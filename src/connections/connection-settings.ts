/**
 * What a connection is made of, and the validation of the bodies that create and change one.
 * Settings are readable; secrets are write-only and kept encrypted.
 */
import { errors } from '../http/errors.js';
import type { WarehouseProvider } from '../warehouses/driver.js';

/** The connection name CARTO gives its own data warehouse; ours is the embedded one. */
export const EMBEDDED_CONNECTION = 'carto_dw';

export const PROVIDERS: readonly WarehouseProvider[] = ['postgres', 'redshift'];

export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
const SSL_MODES: readonly SslMode[] = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'];

export interface ConnectionSettings {
  host: string;
  port: number;
  database: string;
  username: string;
  sslmode: SslMode;
  /** PEM of the certificate authority to trust for `verify-ca` and `verify-full`. */
  ca?: string;
  /** Schema searched first for unqualified names. */
  schema?: string;
  /** Sessions start read-only: a guard against mistakes, not a security boundary. */
  readOnly: boolean;
  maxConnections: number;
}

export interface ConnectionSecrets {
  password: string;
}

export interface ConnectionInput {
  name: string;
  provider: WarehouseProvider;
  settings: ConnectionSettings;
  secrets: ConnectionSecrets;
}

/** CARTO's rule: 3 to 50 of a-z, 0-9, `_` and `-`, not starting or ending with `_` or `-`. */
const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{1,48}[a-z0-9]$/;
export const MAX_POOL_SIZE = 100;
const DEFAULT_PORTS: Record<WarehouseProvider, number> = { postgres: 5432, redshift: 5439 };
const DEFAULT_SSL: Record<WarehouseProvider, SslMode> = { postgres: 'prefer', redshift: 'require' };

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Connection ids look like this; a name of that shape would make `{id}` ambiguous. */
const ID_PATTERN = /^conn_[0-9a-f]{16}$/;
/** A host name or an IP address (IPv6 optionally in brackets); never a socket directory. */
const HOST_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?|\[?[0-9A-Fa-f:.]+\]?)$/;
/** Names API paths use where a connection name would go: `/v3/maps/public/{mapId}`. */
const PATH_RESERVED_NAMES: readonly string[] = ['public'];
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export function validateConnectionName(name: unknown, reserved: readonly string[]): string {
  if (name === undefined || name === null || name === '') throw errors.missingParameter('name');
  if (typeof name !== 'string') throw errors.invalidParameter('name', 'not a string');
  if (ID_PATTERN.test(name)) {
    throw errors.invalidParameter('name', 'names of the form conn_<hex> are connection ids');
  }
  if (!NAME_PATTERN.test(name)) {
    throw errors.invalidParameter(
      'name',
      '3 to 50 characters of a-z, 0-9, _ and -, not starting or ending with _ or -',
    );
  }
  if (reserved.includes(name)) {
    throw errors.invalidParameter('name', `'${name}' is reserved for the embedded warehouse`);
  }
  if (PATH_RESERVED_NAMES.includes(name)) {
    const path = `/v3/maps/${name}/{mapId}`;
    throw errors.invalidParameter('name', `'${name}' is reserved: ${path} serves saved maps`);
  }
  return name;
}

interface TextRules {
  max?: number;
  /** Must be present (creating). */
  required: boolean;
  /** Must not be blank when present. */
  notEmpty?: boolean;
  /** No control characters (everything but PEM text). */
  plain?: boolean;
}

function text(fields: Fields, key: string, options: TextRules) {
  const value = fields[key];
  if (value === undefined || value === null) {
    if (options.required) throw errors.missingParameter(`config.${key}`);
    return undefined;
  }
  if (typeof value !== 'string') throw errors.invalidParameter(`config.${key}`, 'not a string');
  // Fields a connection cannot do without stay non-empty when changed, too.
  if (options.notEmpty && value.trim() === '') {
    throw errors.invalidParameter(`config.${key}`, 'must not be empty');
  }
  // Settings travel in PostgreSQL's startup packet, where control characters split options.
  if (options.plain && CONTROL_CHARACTERS.test(value)) {
    throw errors.invalidParameter(`config.${key}`, 'must not contain control characters');
  }
  if (value.includes('\u0000')) {
    throw errors.invalidParameter(`config.${key}`, 'must not contain NUL characters');
  }
  if (value.length > (options.max ?? 255)) {
    throw errors.invalidParameter(`config.${key}`, `longer than ${options.max ?? 255} characters`);
  }
  return value;
}

function integer(fields: Fields, key: string, min: number, max: number): number | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw errors.invalidParameter(`config.${key}`, `an integer from ${min} to ${max}`);
  }
  return number;
}

function boolean(fields: Fields, key: string): boolean | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw errors.invalidParameter(`config.${key}`, 'true or false');
  return value;
}

function sslMode(fields: Fields): SslMode | undefined {
  const value = text(fields, 'sslmode', { required: false, plain: true, max: 16 });
  if (value === undefined) return undefined;
  if (!SSL_MODES.includes(value as SslMode)) {
    throw errors.invalidParameter('config.sslmode', `one of ${SSL_MODES.join(', ')}`);
  }
  return value as SslMode;
}

function readProvider(value: unknown): WarehouseProvider {
  if (value === undefined || value === null || value === '') {
    throw errors.missingParameter('provider_id');
  }
  if (!PROVIDERS.includes(value as WarehouseProvider)) {
    throw errors.invalidParameter('provider_id', `one of ${PROVIDERS.join(', ')}`);
  }
  return value as WarehouseProvider;
}

/** Settings and secrets of `config`, over `base` when updating (omitted fields are kept). */
function readConfig(
  config: Fields,
  provider: WarehouseProvider,
  defaultPoolSize: number,
  base?: { settings: ConnectionSettings; secrets: ConnectionSecrets },
): { settings: ConnectionSettings; secrets: ConnectionSecrets } {
  const required = base === undefined;
  const essential = { required, notEmpty: true, plain: true };
  const host = text(config, 'host', essential);
  if (host !== undefined && !HOST_PATTERN.test(host)) {
    throw errors.invalidParameter('config.host', 'a host name or an IP address');
  }
  const settings: ConnectionSettings = {
    host: host ?? base?.settings.host ?? '',
    port: integer(config, 'port', 1, 65535) ?? base?.settings.port ?? DEFAULT_PORTS[provider],
    database: text(config, 'database', { ...essential, max: 63 }) ?? base?.settings.database ?? '',
    username: text(config, 'username', { ...essential, max: 63 }) ?? base?.settings.username ?? '',
    sslmode: sslMode(config) ?? base?.settings.sslmode ?? DEFAULT_SSL[provider],
    readOnly: boolean(config, 'readOnly') ?? base?.settings.readOnly ?? false,
    maxConnections:
      integer(config, 'maxConnections', 1, MAX_POOL_SIZE) ??
      base?.settings.maxConnections ??
      defaultPoolSize,
  };
  const ca = text(config, 'ca', { required: false, max: 65536 }) ?? base?.settings.ca;
  if (ca && !ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw errors.invalidParameter('config.ca', 'PEM certificates (-----BEGIN CERTIFICATE-----)');
  }
  if (ca) settings.ca = ca;
  const schema =
    text(config, 'schema', { required: false, plain: true, max: 63 }) ?? base?.settings.schema;
  if (schema) settings.schema = schema;
  if ((settings.sslmode === 'verify-ca' || settings.sslmode === 'verify-full') && !settings.ca) {
    throw errors.invalidParameter('config.ca', `sslmode ${settings.sslmode} needs a CA (PEM)`);
  }
  const password =
    text(config, 'password', { required, notEmpty: true, max: 1024 }) ?? base?.secrets.password;
  return { settings, secrets: { password: password ?? '' } };
}

/** The body of `POST /v3/connections`. */
export function readNewConnection(
  body: unknown,
  options: { reservedNames: readonly string[]; defaultPoolSize: number },
): ConnectionInput {
  if (!isObject(body)) throw errors.malformedBody('expected a JSON object');
  const name = validateConnectionName(body.name, options.reservedNames);
  const provider = readProvider(body.provider_id ?? body.provider);
  if (!isObject(body.config)) throw errors.missingParameter('config');
  return { name, provider, ...readConfig(body.config, provider, options.defaultPoolSize) };
}

/** The body of `PATCH /v3/connections/{id}` applied to what is stored. */
export function readConnectionChange(
  body: unknown,
  current: ConnectionInput,
  options: { reservedNames: readonly string[]; defaultPoolSize: number },
): ConnectionInput {
  if (!isObject(body)) throw errors.malformedBody('expected a JSON object');
  const name =
    body.name === undefined
      ? current.name
      : validateConnectionName(body.name, options.reservedNames);
  const provider = body.provider_id ?? body.provider;
  if (provider !== undefined && provider !== current.provider) {
    throw errors.invalidParameter('provider_id', 'a connection cannot change provider');
  }
  const config = body.config === undefined ? {} : body.config;
  if (!isObject(config)) throw errors.invalidParameter('config', 'expected an object');
  return {
    name,
    provider: current.provider,
    ...readConfig(config, current.provider, options.defaultPoolSize, current),
  };
}
