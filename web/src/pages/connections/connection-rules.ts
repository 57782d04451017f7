/**
 * The Connections API's rules for PostgreSQL and Redshift connections, checked before sending
 * where cheap. The password is kept out of the saved form values (drafts).
 */
import type { Provider } from '../../api/types';

export const PROVIDER_LABELS: Record<Provider, string> = {
  postgres: 'PostgreSQL / PostGIS',
  redshift: 'Amazon Redshift',
};

const DEFAULT_PORTS: Record<Provider, string> = { postgres: '5432', redshift: '5439' };
const DEFAULT_SSL: Record<Provider, SslMode> = { postgres: 'prefer', redshift: 'require' };

export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** CARTO's rule: 3 to 50 of a-z, 0-9, `_` and `-`, not starting or ending with `_` or `-`. */
const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{1,48}[a-z0-9]$/;
const HOST_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?|\[?[0-9A-Fa-f:.]+\]?)$/;
const MAX_POOL_SIZE = 100;

export interface ConnectionFormValues {
  name: string;
  provider: Provider;
  host: string;
  port: string;
  database: string;
  username: string;
  sslmode: SslMode;
  ca: string;
  schema: string;
  readOnly: boolean;
  maxConnections: string;
}

export type ConnectionFormErrors = Partial<Record<keyof ConnectionFormValues | 'password', string>>;

export function emptyConnectionForm(provider: Provider = 'postgres'): ConnectionFormValues {
  return {
    name: '',
    provider,
    host: '',
    port: DEFAULT_PORTS[provider],
    database: '',
    username: '',
    sslmode: DEFAULT_SSL[provider],
    ca: '',
    schema: '',
    readOnly: false,
    maxConnections: '',
  };
}

/** The form for another provider: its default port and SSL mode where the old defaults were. */
export function switchProvider(values: ConnectionFormValues, provider: Provider) {
  const old = values.provider;
  return {
    ...values,
    provider,
    port: values.port === DEFAULT_PORTS[old] ? DEFAULT_PORTS[provider] : values.port,
    sslmode: values.sslmode === DEFAULT_SSL[old] ? DEFAULT_SSL[provider] : values.sslmode,
  };
}

export const needsCa = (mode: SslMode) => mode === 'verify-ca' || mode === 'verify-full';

function integerProblem(text: string, min: number, max: number): string | undefined {
  if (text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isInteger(value) && value >= min && value <= max
    ? undefined
    : `An integer from ${min} to ${max}.`;
}

/** The form's problems by field (`requireName`: saving, not just testing). */
export function checkConnectionForm(
  values: ConnectionFormValues,
  password: string,
  requireName: boolean,
): ConnectionFormErrors {
  const errors: ConnectionFormErrors = {};
  if (requireName) {
    if (values.name === '') errors.name = 'Enter a name.';
    else if (!NAME_PATTERN.test(values.name)) {
      errors.name = '3 to 50 of a-z, 0-9, _ and -, not starting or ending with _ or -.';
    } else if (values.name === 'carto_dw') errors.name = 'carto_dw is the embedded warehouse.';
  }
  if (values.host.trim() === '') errors.host = 'Enter a host name or an IP address.';
  else if (!HOST_PATTERN.test(values.host.trim())) errors.host = 'A host name or an IP address.';
  const port = integerProblem(values.port, 1, 65535);
  if (port) errors.port = port;
  if (values.database.trim() === '') errors.database = 'Enter the database name.';
  if (values.username.trim() === '') errors.username = 'Enter the user name.';
  if (password === '') errors.password = 'Enter the password.';
  if (needsCa(values.sslmode) && !values.ca.includes('-----BEGIN CERTIFICATE-----')) {
    errors.ca = `SSL mode ${values.sslmode} needs the CA certificate (PEM).`;
  }
  const pool = integerProblem(values.maxConnections, 1, MAX_POOL_SIZE);
  if (pool) errors.maxConnections = pool;
  return errors;
}

/** The body of `POST /v3/connections` (and of the unsaved test). */
export function connectionBody(values: ConnectionFormValues, password: string) {
  const config: Record<string, unknown> = {
    host: values.host.trim(),
    database: values.database.trim(),
    username: values.username.trim(),
    password,
    sslmode: values.sslmode,
    readOnly: values.readOnly,
  };
  if (values.port.trim() !== '') config.port = Number(values.port);
  if (needsCa(values.sslmode)) config.ca = values.ca;
  if (values.schema.trim() !== '') config.schema = values.schema.trim();
  if (values.maxConnections.trim() !== '') config.maxConnections = Number(values.maxConnections);
  return { name: values.name, provider_id: values.provider, config };
}
