import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isPostgresUrl } from '../store/metadata-url.js';

/**
 * Every setting, with its environment variable. Configuration is read once at start-up:
 * defaults, then the optional JSON file named by GRATICULE_CONFIG_FILE, then environment.
 */
const SETTINGS = {
  host: { env: 'HOST', type: 'string', default: '127.0.0.1' },
  port: { env: 'PORT', type: 'integer', default: 8080, min: 0, max: 65535 },
  dataDir: { env: 'GRATICULE_DATA_DIR', type: 'string', default: 'data' },
  publicUrl: { env: 'GRATICULE_PUBLIC_URL', type: 'string', default: '' },
  logLevel: { env: 'GRATICULE_LOG_LEVEL', type: 'string', default: 'info' },
  bootstrapClientId: { env: 'GRATICULE_BOOTSTRAP_CLIENT_ID', type: 'string', default: '' },
  bootstrapClientSecret: {
    env: 'GRATICULE_BOOTSTRAP_CLIENT_SECRET',
    type: 'string',
    default: '',
    secret: true,
  },
  loadDemoData: { env: 'GRATICULE_DEMO_DATA', type: 'boolean', default: true },
  metrics: { env: 'GRATICULE_METRICS', type: 'boolean', default: true },
  tokenTtlSeconds: {
    env: 'GRATICULE_TOKEN_TTL_SECONDS',
    type: 'integer',
    default: 86400,
    min: 60,
    max: 31_536_000,
  },
  tokenRateLimitPerIp: {
    env: 'GRATICULE_TOKEN_RATE_LIMIT_PER_IP',
    type: 'integer',
    default: 600,
    min: 1,
  },
  tokenRateLimitPerClient: {
    env: 'GRATICULE_TOKEN_RATE_LIMIT_PER_CLIENT',
    type: 'integer',
    default: 300,
    min: 1,
  },
  identityRefreshSeconds: {
    env: 'GRATICULE_IDENTITY_REFRESH_SECONDS',
    type: 'integer',
    default: 5,
    min: 1,
    max: 300,
  },
  signingKeyCheckSeconds: {
    env: 'GRATICULE_SIGNING_KEY_CHECK_SECONDS',
    type: 'integer',
    default: 30,
    min: 1,
    max: 3600,
  },
  loginRateLimitPerIp: {
    env: 'GRATICULE_LOGIN_RATE_LIMIT_PER_IP',
    type: 'integer',
    default: 30,
    min: 1,
  },
  queryTimeoutMs: {
    env: 'GRATICULE_QUERY_TIMEOUT_MS',
    type: 'integer',
    default: 60_000,
    min: 100,
    max: 3_600_000,
  },
  sqlMaxRows: { env: 'GRATICULE_SQL_MAX_ROWS', type: 'integer', default: 200_000, min: 1 },
  maxResultMegabytes: {
    env: 'GRATICULE_MAX_RESULT_MB',
    type: 'integer',
    default: 64,
    min: 1,
    max: 1024,
  },
  maxBodyBytes: {
    env: 'GRATICULE_MAX_BODY_BYTES',
    type: 'integer',
    default: 4 * 1024 * 1024,
    min: 1024,
  },
  tileMaxFeatures: {
    env: 'GRATICULE_TILE_MAX_FEATURES',
    type: 'integer',
    default: 10_000,
    min: 1,
  },
  mapsSmallSourceRows: {
    env: 'GRATICULE_MAPS_SMALL_SOURCE_ROWS',
    type: 'integer',
    default: 10_000,
    min: 0,
  },
  mapsExactStatsRows: {
    env: 'GRATICULE_MAPS_EXACT_STATS_ROWS',
    type: 'integer',
    default: 200_000,
    min: 0,
  },
  tileCacheMegabytes: { env: 'GRATICULE_TILE_CACHE_MB', type: 'integer', default: 128, min: 0 },
  tileMaxAgeSeconds: {
    env: 'GRATICULE_TILE_MAX_AGE_SECONDS',
    type: 'integer',
    default: 300,
    min: 0,
  },
  redisUrl: { env: 'GRATICULE_REDIS_URL', type: 'string', default: '', secret: true },
  warehouseQueueLimit: {
    env: 'GRATICULE_WAREHOUSE_QUEUE_LIMIT',
    type: 'integer',
    default: 256,
    min: 1,
  },
  corsOrigins: { env: 'GRATICULE_CORS_ORIGINS', type: 'string', default: '*' },
  trustProxy: { env: 'GRATICULE_TRUST_PROXY', type: 'string', default: '' },
  environment: { env: 'GRATICULE_ENV', type: 'string', default: 'development' },
  encryptionKey: {
    env: 'GRATICULE_ENCRYPTION_KEY',
    type: 'string',
    default: '',
    secret: true,
  },
  sqlGetMaxAgeSeconds: {
    env: 'GRATICULE_SQL_GET_MAX_AGE_SECONDS',
    type: 'integer',
    default: 31_536_000,
    min: 0,
    max: 31_536_000,
  },
  sqlStreamThresholdMegabytes: {
    env: 'GRATICULE_SQL_STREAM_THRESHOLD_MB',
    type: 'integer',
    default: 8,
    min: 1,
    max: 1024,
  },
  poolMaxConnections: {
    env: 'GRATICULE_POOL_MAX_CONNECTIONS',
    type: 'integer',
    default: 10,
    min: 1,
    max: 1000,
  },
  poolAcquireTimeoutMs: {
    env: 'GRATICULE_POOL_ACQUIRE_TIMEOUT_MS',
    type: 'integer',
    default: 30_000,
    min: 100,
    max: 600_000,
  },
  connectTimeoutMs: {
    env: 'GRATICULE_CONNECT_TIMEOUT_MS',
    type: 'integer',
    default: 10_000,
    min: 100,
    max: 300_000,
  },
  metadataUrl: { env: 'GRATICULE_METADATA_URL', type: 'string', default: '', secret: true },
  metadataPoolMax: {
    env: 'GRATICULE_METADATA_POOL_MAX',
    type: 'integer',
    default: 10,
    min: 2,
    max: 1000,
  },
  jobConcurrency: { env: 'GRATICULE_JOB_CONCURRENCY', type: 'integer', default: 2, min: 1 },
  jobLeaseSeconds: {
    env: 'GRATICULE_JOB_LEASE_SECONDS',
    type: 'integer',
    default: 60,
    min: 2,
    max: 3600,
  },
  jobTimeoutMs: {
    env: 'GRATICULE_JOB_TIMEOUT_MS',
    type: 'integer',
    default: 6 * 3_600_000,
    min: 1000,
    max: 7 * 24 * 3_600_000,
  },
  tilesetMaxTiles: {
    env: 'GRATICULE_TILESET_MAX_TILES',
    type: 'integer',
    default: 100_000,
    min: 1,
    max: 100_000_000,
  },
  apiTokenCacheTtlMs: {
    env: 'GRATICULE_API_TOKEN_CACHE_TTL_MS',
    type: 'integer',
    default: 2_000,
    min: 0,
    max: 60_000,
  },
} as const;

type SettingSpec = (typeof SETTINGS)[keyof typeof SETTINGS];
type ValueOf<S extends SettingSpec> = S['type'] extends 'string'
  ? string
  : S['type'] extends 'boolean'
    ? boolean
    : number;

export type Config = Readonly<{ [K in keyof typeof SETTINGS]: ValueOf<(typeof SETTINGS)[K]> }> & {
  /** Where the optional config file was read from, if any. */
  readonly configFile: string | null;
};

/** A configuration problem, reported at start-up with every bad value at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const FileSchema = Type.Record(Type.String(), Type.Unknown());

/** Lists the settings for documentation and `--help`. */
export function describeSettings(): { key: string; env: string; default: unknown }[] {
  return Object.entries(SETTINGS).map(([key, spec]) => ({
    key,
    env: spec.env,
    default: 'secret' in spec ? '(none)' : spec.default,
  }));
}

function coerce(key: string, spec: SettingSpec, raw: unknown, problems: string[]): unknown {
  if (spec.type === 'string') {
    if (typeof raw === 'string') return raw;
    problems.push(`${spec.env} (${key}) must be a string`);
    return spec.default;
  }
  if (spec.type === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    const text = String(raw).trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(text)) return true;
    if (['0', 'false', 'no', 'off'].includes(text)) return false;
    problems.push(`${spec.env} (${key}) must be true or false, got '${String(raw)}'`);
    return spec.default;
  }
  const value = typeof raw === 'number' ? raw : Number(String(raw).trim());
  const min = 'min' in spec ? spec.min : -Infinity;
  const max = 'max' in spec ? spec.max : Infinity;
  if (!Number.isInteger(value) || value < min || value > max || String(raw).trim() === '') {
    const range = `${min === -Infinity ? '' : min}..${max === Infinity ? '' : max}`;
    problems.push(`${spec.env} (${key}) must be an integer in ${range}, got '${String(raw)}'`);
    return spec.default;
  }
  return value;
}

function isRedisUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Reads configuration from defaults, the optional file and the environment, validates it,
 * and returns a frozen object. Throws `ConfigError` listing every problem.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const configFile = env.GRATICULE_CONFIG_FILE
    ? path.resolve(cwd, env.GRATICULE_CONFIG_FILE)
    : null;
  let fileValues: Record<string, unknown> = {};
  if (configFile) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(configFile, 'utf8'));
      if (!Value.Check(FileSchema, parsed)) throw new Error('the file must hold a JSON object');
      fileValues = parsed;
    } catch (error) {
      throw new ConfigError(`Cannot read config file ${configFile}: ${(error as Error).message}`);
    }
    for (const key of Object.keys(fileValues)) {
      if (!(key in SETTINGS)) problems.push(`Unknown setting '${key}' in ${configFile}`);
    }
  }

  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SETTINGS)) {
    const fromEnv = env[spec.env];
    const raw = fromEnv !== undefined && fromEnv !== '' ? fromEnv : fileValues[key];
    values[key] = raw === undefined ? spec.default : coerce(key, spec, raw, problems);
  }
  values.dataDir = path.resolve(cwd, String(values.dataDir));
  if (values.publicUrl) {
    try {
      const url = new URL(String(values.publicUrl));
      values.publicUrl = url.toString().replace(/\/+$/, '');
    } catch {
      problems.push(`GRATICULE_PUBLIC_URL must be an absolute URL, got '${values.publicUrl}'`);
    }
  }
  if (values.redisUrl !== '' && !isRedisUrl(String(values.redisUrl))) {
    // Not repeated in the message: the URL may carry a password.
    problems.push('GRATICULE_REDIS_URL must be a redis:// or rediss:// URL with a host');
  }
  if (values.metadataUrl !== '') {
    // Not repeated in the messages: the URL may carry a password.
    if (!isPostgresUrl(String(values.metadataUrl))) {
      problems.push('GRATICULE_METADATA_URL must be a postgres:// or postgresql:// URL');
    } else if (values.encryptionKey === '') {
      problems.push(
        'GRATICULE_ENCRYPTION_KEY is required with GRATICULE_METADATA_URL: every node must ' +
          'read the connection credentials the others stored. Give all nodes the same key ' +
          '(openssl rand -base64 32)',
      );
    }
  }
  const secret = String(values.bootstrapClientSecret);
  if (secret !== '' && secret.length < 16) {
    problems.push('GRATICULE_BOOTSTRAP_CLIENT_SECRET must be at least 16 characters');
  }
  if (secret !== '' && values.bootstrapClientId === '') {
    problems.push('GRATICULE_BOOTSTRAP_CLIENT_SECRET needs GRATICULE_BOOTSTRAP_CLIENT_ID too');
  }
  if (
    !['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(
      String(values.logLevel),
    )
  ) {
    problems.push(`GRATICULE_LOG_LEVEL must be a pino level, got '${values.logLevel}'`);
  }
  if (!['development', 'production'].includes(String(values.environment))) {
    problems.push(`GRATICULE_ENV must be development or production, got '${values.environment}'`);
  }
  if (problems.length > 0)
    throw new ConfigError(`Invalid configuration:\n- ${problems.join('\n- ')}`);

  return Object.freeze({ ...values, configFile }) as Config;
}
