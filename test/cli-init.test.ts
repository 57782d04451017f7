import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ApplicationStore } from '../src/apps/application-store.js';
import { verifyClientSecret } from '../src/auth/client-secret.js';
import { openStore } from '../src/store/store.js';
import { runCliAsync } from './support/cli-async.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'graticule-init-'));

/** Settings a test runner may carry that would pin or change what init makes. */
const CLEAN_ENV = {
  GRATICULE_BOOTSTRAP_CLIENT_ID: '',
  GRATICULE_BOOTSTRAP_CLIENT_SECRET: '',
  GRATICULE_ENV: 'development',
  GRATICULE_ENCRYPTION_KEY: '',
};

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('graticule init', () => {
  it('makes a data directory, keys and an application whose secret verifies', async () => {
    const dataDir = path.join(root, 'fresh');
    const first = await runCliAsync(['init'], { dataDir, env: CLEAN_ENV });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain(`Graticule is initialised in ${dataDir}.`);
    const clientId = /client id:\s+(\S+)/.exec(first.stdout)![1]!;
    const clientSecret = /client secret:\s+(\S+)/.exec(first.stdout)![1]!;
    expect(clientSecret.length).toBeGreaterThanOrEqual(16);
    // The metadata store and the encryption key exist, private to their owner; no warehouse.
    expect(statSync(path.join(dataDir, 'metadata.sqlite')).mode & 0o077).toBe(0);
    expect(statSync(path.join(dataDir, 'encryption.key')).mode & 0o077).toBe(0);
    expect(existsSync(path.join(dataDir, 'warehouse'))).toBe(false);

    const again = await runCliAsync(['init'], { dataDir, env: CLEAN_ENV });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toBe(
      `Graticule is initialised already in ${dataDir}.\n` +
        `Bootstrap application client id: ${clientId}\n`,
    );
    const json = await runCliAsync(['init', '--json'], { dataDir, env: CLEAN_ENV });
    expect(JSON.parse(json.stdout)).toEqual({
      dataDir,
      initialised: false,
      accountId: expect.stringMatching(/^ac_/),
      clientId,
    });
    expect(json.stdout + json.stderr).not.toContain(clientSecret);

    // What a server's token endpoint checks: a Machine to Machine application whose stored
    // hash verifies the printed secret. (Starting a server here would cost the test a
    // warehouse initialisation; the shared server's token tests cover the endpoint itself.)
    const store = await openStore(dataDir);
    try {
      const app = await new ApplicationStore(store).findByClientId(clientId);
      expect(app).toMatchObject({ app_type: 'machine_to_machine' });
      expect(await verifyClientSecret(clientSecret, app!.secretHash)).toBe(true);
    } finally {
      await store.destroy();
    }
    const users = await runCliAsync(['users', 'list', '--json'], { dataDir, env: CLEAN_ENV });
    expect(JSON.parse(users.stdout)).toMatchObject([
      { email: 'admin@graticule.local', role: 'admin' },
    ]);
  });

  it("says a running server's data directory is initialised already", async () => {
    const run = await runCliAsync(['init'], { dataDir: inject('dataDir'), env: CLEAN_ENV });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Graticule is initialised already in .*\n/);
    expect(run.stdout).toContain(`Bootstrap application client id: ${inject('clientId')}`);
    expect(run.stdout).not.toContain(inject('clientSecret'));
  });

  it('uses pinned bootstrap credentials without showing the secret', async () => {
    const dataDir = path.join(root, 'pinned');
    const pinnedSecret = 'pinned-secret-0123456789';
    const run = await runCliAsync(['init', '--json'], {
      dataDir,
      env: {
        ...CLEAN_ENV,
        GRATICULE_BOOTSTRAP_CLIENT_ID: 'pinned-app',
        GRATICULE_BOOTSTRAP_CLIENT_SECRET: pinnedSecret,
      },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ initialised: true, clientId: 'pinned-app' });
    expect(run.stdout + run.stderr).not.toContain(pinnedSecret);
  });

  it('refuses production without an encryption key in one line', async () => {
    const run = await runCliAsync(['init'], {
      dataDir: path.join(root, 'production'),
      env: { ...CLEAN_ENV, GRATICULE_ENV: 'production' },
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/GRATICULE_ENCRYPTION_KEY is required/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
