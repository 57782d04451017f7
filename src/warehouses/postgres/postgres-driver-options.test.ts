import { describe, expect, it } from 'vitest';
import {
  endpointOf,
  sslModeOf,
  startupOptionsOf,
  tlsOptionsOf,
  type PostgresDriverOptions,
} from './postgres-driver-options.js';

const base: PostgresDriverOptions = {
  provider: 'postgres',
  host: 'db.example',
  port: 5432,
  database: 'gis',
  username: 'reader',
  password: 'secret',
  maxConnections: 4,
  connectTimeoutMs: 1_000,
  acquireTimeoutMs: 1_000,
};

describe('postgres driver options', () => {
  it("defaults sslmode to libpq's prefer, and to require for Redshift", () => {
    expect(sslModeOf(base)).toBe('prefer');
    expect(sslModeOf({ ...base, provider: 'redshift' })).toBe('require');
    expect(sslModeOf({ ...base, provider: 'redshift', sslmode: 'verify-full' })).toBe(
      'verify-full',
    );
  });

  it('maps sslmode to TLS options; verify-ca checks the chain only, verify-full the host', () => {
    const ca = '-----BEGIN CERTIFICATE-----';

    expect(tlsOptionsOf('disable', ca)).toBe(false);
    expect(tlsOptionsOf('require', ca)).toEqual({ rejectUnauthorized: false });
    expect(tlsOptionsOf('verify-full', ca)).toEqual({ rejectUnauthorized: true, ca });
    const verifyCa = tlsOptionsOf('verify-ca', ca);
    expect(verifyCa).toMatchObject({ rejectUnauthorized: true, ca });
    expect(verifyCa && verifyCa.checkServerIdentity?.('other.host', {} as never)).toBeUndefined();
  });

  it('sends the schema and read-only default in the startup options, escaping spaces', () => {
    expect(startupOptionsOf(base)).toBeUndefined();
    expect(startupOptionsOf({ ...base, schema: 'my "odd" schema', readOnly: true })).toBe(
      String.raw`-c search_path="my\ ""odd""\ schema",public -c default_transaction_read_only=on`,
    );
  });

  it('names the server as host:port without credentials', () => {
    expect(endpointOf(base)).toBe('db.example:5432');
    expect(endpointOf({ host: '::1', port: 5433 })).toBe('[::1]:5433');
  });
});
