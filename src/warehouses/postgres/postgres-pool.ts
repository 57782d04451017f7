/**
 * Creates the pg pool of a driver once its TLS settings are known: `sslmode=prefer` needs a
 * question to the server first, which pg cannot ask.
 */

import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import {
  endpointOf,
  poolConfigOf,
  sslModeOf,
  tlsOptionsOf,
  type PostgresDriverOptions,
} from './postgres-driver-options.js';
import { connectFailure, describeError } from './postgres-failures.js';
import { serverAcceptsTls } from './postgres-wire.js';

/** pg's `ssl` option; for `prefer`, asks the server first whether it speaks TLS, as libpq. */
async function decideTls(options: PostgresDriverOptions): Promise<false | ConnectionOptions> {
  const mode = sslModeOf(options);
  if (mode !== 'prefer') return tlsOptionsOf(mode, options.ca);
  // As in libpq, there is no TLS over a unix socket.
  if (options.host.startsWith('/')) return tlsOptionsOf('disable', undefined);

  const started = performance.now();
  try {
    const acceptsTls = await serverAcceptsTls(options, options.connectTimeoutMs);
    return tlsOptionsOf(acceptsTls ? 'require' : 'disable', undefined);
  } catch (error) {
    const timing = {
      elapsedMs: performance.now() - started,
      connectTimeoutMs: options.connectTimeoutMs,
    };
    throw connectFailure(error, endpointOf(options), timing);
  }
}

/**
 * A pool for these options whose clients parse values with `types`; fails with an
 * `unreachable` WarehouseError when the TLS question finds no server.
 */
export async function createPostgresPool(
  options: PostgresDriverOptions,
  types: pg.CustomTypesConfig,
): Promise<pg.Pool> {
  const pool = new pg.Pool(poolConfigOf(options, await decideTls(options), types));
  // A session that fails while idle in the pool is dropped by pg; without a listener the
  // 'error' event would end the process.
  pool.on('error', (error) => {
    options.logger?.warn(
      { endpoint: endpointOf(options), err: describeError(error) },
      'an idle PostgreSQL session failed and was dropped',
    );
  });
  return pool;
}
