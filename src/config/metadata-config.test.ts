import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const KEY = 'q3tZ7pB0yF5nKx2mW8vR4sL6cJ1hD9gA0eU3iO5yT7w=';
const URL_WITH_PASSWORD = 'postgres://graticule:Pa55word@db.internal:5432/graticule';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, '/tmp');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('metadata store settings', () => {
  it('keep the SQLite store in the data directory by default, with a pool of 10', () => {
    const config = loadConfig({}, '/tmp');

    expect(config.metadataUrl).toBe('');
    expect(config.metadataPoolMax).toBe(10);
    expect(config.jobLeaseSeconds).toBe(60);
  });

  it('take a PostgreSQL URL with the encryption key every node shares', () => {
    const config = loadConfig(
      {
        GRATICULE_METADATA_URL: URL_WITH_PASSWORD,
        GRATICULE_METADATA_POOL_MAX: '4',
        GRATICULE_ENCRYPTION_KEY: KEY,
      },
      '/tmp',
    );

    expect(config.metadataUrl).toBe(URL_WITH_PASSWORD);
    expect(config.metadataPoolMax).toBe(4);
  });

  it('refuse another scheme without repeating the URL', () => {
    const error = configError({
      GRATICULE_METADATA_URL: 'mysql://graticule:Pa55word@db.internal/graticule',
      GRATICULE_ENCRYPTION_KEY: KEY,
    });

    expect(error.message).toMatch(/GRATICULE_METADATA_URL must be a postgres:\/\/ or postgresql/);
    expect(error.message).not.toContain('Pa55word');
  });

  it('refuse a PostgreSQL store without GRATICULE_ENCRYPTION_KEY', () => {
    const error = configError({ GRATICULE_METADATA_URL: URL_WITH_PASSWORD });

    expect(error.message).toMatch(/GRATICULE_ENCRYPTION_KEY is required with GRATICULE_META/);
    expect(error.message).not.toContain('Pa55word');
  });

  it('refuse a pool smaller than two sessions', () => {
    expect(configError({ GRATICULE_METADATA_POOL_MAX: '1' }).message).toMatch(
      /GRATICULE_METADATA_POOL_MAX \(metadataPoolMax\) must be an integer in 2\.\.1000/,
    );
  });
});
