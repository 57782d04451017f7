import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.js';
import { ensureBootstrap, type BootstrapResult } from './accounts/bootstrap.js';
import { ApplicationStore } from './apps/application-store.js';
import { SigningKeyRing, loadCookieKeys } from './auth/auth-keys.js';
import { IdentityDirectory } from './auth/identity-directory.js';
import { TokenService } from './auth/token-service.js';
import { ApiTokenService } from './tokens/api-token-service.js';
import { ConnectionRegistry } from './connections/connection-registry.js';
import { EMBEDDED_CONNECTION } from './connections/connection-settings.js';
import { ConnectionService } from './connections/connection-service.js';
import { ConnectionStore } from './connections/connection-store.js';
import { postgresDriverFactory } from './connections/driver-factory.js';
import { loadSecretBox } from './connections/secret-box.js';
import { buildApp } from './http/app.js';
import { createSqlJobService, nodeIdFor } from './jobs/sql-job-service.js';
import { createLogger } from './http/logger.js';
import { closeTileEncoderPool } from './maps/tiles/tile-encoder-pool.js';
import { closeRowTileEncoderPool } from './maps/tiles/row-tile-encoder-pool.js';
import { maskMetadataUrl } from './store/metadata-url.js';
import { openStore } from './store/store.js';
import { ensureDemoData } from './warehouses/embedded/demo-data.js';
import { EmbeddedWarehouse } from './warehouses/embedded/embedded-warehouse.js';

export { EMBEDDED_CONNECTION };

export interface StartupProgress {
  step: string;
  done: number;
  total: number;
}

export interface RunningServer {
  app: FastifyInstance;
  /** Base URL the server answers on, e.g. `http://127.0.0.1:8080`. */
  url: string;
  issuer: string;
  bootstrap: BootstrapResult;
  demoDataLoaded: boolean;
  close(): Promise<void>;
}

function defaultBaseUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  const hostPart = reachable.includes(':') ? `[${reachable}]` : reachable;
  return `http://${hostPart}:${port}`;
}

/**
 * Creates the data directory, its metadata store and the keys every node needs (token
 * signing, OAuth cookies, the encryption key of connection credentials) when missing, and
 * opens them. `graticule init` runs it too, without starting a server.
 */
export async function openDataDirectory(config: Config, warn: (message: string) => void) {
  mkdirSync(config.dataDir, { recursive: true });
  const store = await openStore(config, {
    onPoolError: (error) => warn(`A metadata store session failed: ${error.message}`),
  });
  try {
    const keyRing = await SigningKeyRing.open(store);
    const cookieKeys = await loadCookieKeys(store);
    const secretBox = loadSecretBox(config, warn);
    return { store, keyRing, cookieKeys, secretBox };
  } catch (error) {
    await store.destroy();
    throw error;
  }
}

/**
 * Opens the metadata store and the embedded warehouse, creates the bootstrap account and
 * demo data when missing, and starts listening. Everything it opens is closed by `close()`.
 */
export async function startServer(
  config: Config,
  onProgress: (progress: StartupProgress) => void = () => {},
): Promise<RunningServer> {
  const logger = createLogger(config.logLevel);
  const { store, keyRing, cookieKeys, secretBox } = await openDataDirectory(config, (message) =>
    logger.warn(message),
  );
  logger.info(
    { metadataStore: config.metadataUrl ? maskMetadataUrl(config.metadataUrl) : 'sqlite' },
    'metadata store opened',
  );
  const closers: (() => Promise<unknown>)[] = [() => store.destroy()];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };

  try {
    onProgress({ step: 'opening the embedded warehouse', done: 0, total: 1 });
    const warehouse = await EmbeddedWarehouse.open({
      dataDir: path.join(config.dataDir, 'warehouse'),
      queueLimit: config.warehouseQueueLimit,
      maxResultBytes: config.maxResultMegabytes * 1024 * 1024,
      logger: logger.child({ connection: EMBEDDED_CONNECTION }),
    });
    closers.push(() => warehouse.close());
    closers.push(() => closeTileEncoderPool());
    closers.push(() => closeRowTileEncoderPool());
    const connectionStore = new ConnectionStore(store, secretBox);
    const createDriver = postgresDriverFactory({
      connectTimeoutMs: config.connectTimeoutMs,
      acquireTimeoutMs: config.poolAcquireTimeoutMs,
      logger: logger.child({ component: 'warehouse' }),
    });
    const connections = new ConnectionRegistry(connectionStore, createDriver, logger);
    closers.push(() => connections.close());
    const connectionService = new ConnectionService(
      connectionStore,
      connections,
      createDriver,
      config.poolMaxConnections,
    );
    connections.registerShared({
      id: EMBEDDED_CONNECTION,
      name: EMBEDDED_CONNECTION,
      provider: warehouse.provider,
      driver: warehouse,
      // Each node has an embedded warehouse of its own: its tiles must never be shared with
      // another node's through Redis, so the key names this node.
      cacheKey: `${EMBEDDED_CONNECTION}@${nodeIdFor(config.dataDir)}`,
    });

    let demoDataLoaded = false;
    if (config.loadDemoData) {
      demoDataLoaded = (await ensureDemoData(warehouse, onProgress)).loaded;
    }

    // Started after the demo load, so queued jobs do not compete with it for the warehouse;
    // stopped (closers run in reverse) after the HTTP server and before the warehouse.
    const jobs = createSqlJobService({
      store,
      connections,
      dataDir: config.dataDir,
      concurrency: config.jobConcurrency,
      jobTimeoutMs: config.jobTimeoutMs,
      leaseMs: config.jobLeaseSeconds * 1000,
      logger: logger.child({ component: 'sql-jobs' }),
    });
    await jobs.start();
    closers.push(() => jobs.stop());

    let issuer = config.publicUrl ? `${config.publicUrl}/` : '';
    const applications = new ApplicationStore(store);
    const tokens = new TokenService(keyRing.current, () => issuer);
    const directory = new IdentityDirectory(store);
    await directory.refresh();
    directory.watch(config.identityRefreshSeconds * 1000, (error) =>
      logger.warn({ err: error }, 'identity directory refresh failed'),
    );
    closers.push(async () => directory.stop());
    tokens.useIdentityDirectory(directory);
    keyRing.watch(tokens, config.signingKeyCheckSeconds * 1000, (error) =>
      logger.warn({ err: error }, 'signing key check failed'),
    );
    closers.push(async () => keyRing.stop());
    const apiTokens = await ApiTokenService.open(store, {
      connections: connectionService,
      cacheTtlMs: config.apiTokenCacheTtlMs,
    });
    tokens.useApiTokenVerifier(apiTokens.verifier);
    const app = await buildApp({
      config,
      tokens,
      apiTokens,
      applications,
      connections,
      connectionService,
      jobs,
      store,
      signingKeys: () => keyRing.current,
      cookieKeys,
      issuer: () => issuer,
      isReady: () => warehouse.isReady(),
      logger,
    });
    closers.push(() => app.close());
    // Bootstrapped before listening, so a token request that finds the port open also finds
    // the application; a start that then fails to listen removes an application it has just
    // created, so its secret, never shown, is not lost: the next start makes and shows one.
    const bootstrap = await ensureBootstrap(store, {
      clientId: config.bootstrapClientId,
      clientSecret: config.bootstrapClientSecret,
    });
    try {
      await app.listen({ host: config.host, port: config.port });
    } catch (error) {
      if (bootstrap.generatedSecret) await applications.remove(bootstrap.clientId);
      throw error;
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = config.publicUrl || defaultBaseUrl(config.host, port);
    if (!issuer) issuer = `${url}/`;

    return { app, url, issuer, bootstrap, demoDataLoaded, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
