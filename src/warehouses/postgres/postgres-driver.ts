/**
 * The driver for PostgreSQL/PostGIS and Redshift, which speaks PostgreSQL's protocol. One pg
 * pool per driver; every statement borrows a session, runs under a timeout and an abort
 * signal, and gives the session back clean (see `PooledSession`).
 */

import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import {
  WarehouseError,
  type WarehouseArrayRowStream,
  type WarehouseCapabilities,
  type WarehouseDriver,
  type WarehouseProvider,
  type WarehouseQuery,
  type WarehouseResult,
  type WarehouseRowStream,
  type WarehouseTestReport,
} from '../driver.js';
import { copyCsv } from './copy-csv.js';
import { CursorRowStream, type CursorStreamOptions } from './cursor-row-stream.js';
import { endpointOf, type PostgresDriverOptions } from './postgres-driver-options.js';
import { connectFailure, describeError } from './postgres-failures.js';
import { createPostgresPool } from './postgres-pool.js';
import type { ServerAddress } from './postgres-wire.js';
import { PooledSession, type SessionContext } from './pooled-session.js';
import { SessionGate } from './session-gate.js';
import { mayLeaveSessionState } from './statement-effects.js';
import { TypeCatalog } from './type-catalog.js';
import { analyzeSql } from '../postgres-sql-text.js';
import { refuseUnguardedWrites } from '../read-only-guard.js';

/**
 * COPY … TO STDOUT / FROM STDIN switch the session into the copy sub-protocol, which an
 * ordinary query cannot take part in (pg would fail outside any request); COPY to or from a
 * server file is refused too, for one simple rule. The regular expression keeps the lexer
 * off the hot path of statements that cannot be a COPY.
 */
function refuseCopy(sql: string): void {
  if (!/copy/i.test(sql) || analyzeSql(sql).firstKeyword !== 'copy') return;
  throw new WarehouseError(
    'invalid_input',
    'COPY is not supported here: use SELECT (the SQL API exports CSV with format=csv) or ' +
      'INSERT … SELECT',
  );
}

export type { PostgresDriverOptions, SslMode } from './postgres-driver-options.js';

const SELECT_VERSION = 'SELECT pg_catalog.version() AS version';

const SELECT_POSTGIS_VERSION = `
  SELECT extversion AS version
    FROM pg_catalog.pg_extension
   WHERE extname = 'postgis'`;

const DEFAULT_BATCH_ROWS = 1_000;
/** Limit on the driver's own inspection statements. */
const INSPECT_TIMEOUT_MS = 30_000;
/** How long `close()` lets running statements finish before cancelling them. */
const CLOSE_GRACE_MS = 5_000;

/** Until the server has been inspected, tiles are built without relying on PostGIS. */
const BEFORE_INSPECTION: WarehouseCapabilities = {
  nativeMvt: false,
  jsonTiles: false,
  cancellable: true,
};

interface ServerFacts {
  serverVersion: string;
  postgisVersion: string | null;
  latencyMs: number;
}

type Row = Record<string, unknown>;

/**
 * A query sent with the extended protocol even without parameters: one statement per call,
 * as in the embedded warehouse, instead of the simple protocol's multi-statement strings.
 */
function extendedQuery(
  sql: string,
  params: readonly unknown[] | undefined,
  name?: string,
): pg.QueryConfig {
  const config: pg.QueryConfig & { queryMode: 'extended' } = {
    text: sql,
    values: [...(params ?? [])],
    queryMode: 'extended',
    ...(name === undefined ? {} : { name }),
  };
  return config;
}

/** Names of recently prepared texts, so a text is hashed once, not once per statement. */
const statementNames = new Map<string, string>();
const MAX_REMEMBERED_NAMES = 256;

/** A prepared statement's name from its text: one text, one name, in every session. */
function statementNameOf(sql: string): string {
  const known = statementNames.get(sql);
  if (known) return known;
  const name = `graticule_${createHash('sha256').update(sql).digest('hex').slice(0, 32)}`;
  // Oldest first out: a Map iterates in insertion order.
  if (statementNames.size >= MAX_REMEMBERED_NAMES) {
    statementNames.delete(statementNames.keys().next().value as string);
  }
  statementNames.set(sql, name);
  return name;
}

/**
 * True when the server is PostgreSQL 12 or later, which has `plan_cache_mode`; false for
 * version strings of other shapes (Redshift, forks), which keep their default planning.
 */
function majorVersionAtLeast(serverVersion: string, major: number): boolean {
  const found = /^PostgreSQL (\d+)/.exec(serverVersion)?.[1];
  return found !== undefined && Number(found) >= major;
}

function hasPlanCacheMode(serverVersion: string): boolean {
  return majorVersionAtLeast(serverVersion, 12);
}

/** Waits for `work`, but no longer than `ms`; the timer never keeps the process alive. */
async function waitAtMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([work, expiry]);
  clearTimeout(timer);
}

export class PostgresDriver implements WarehouseDriver {
  readonly provider: WarehouseProvider;
  private readonly options: PostgresDriverOptions;
  private readonly address: ServerAddress;
  private readonly context: SessionContext;
  private readonly gate: SessionGate;
  private readonly catalog = new TypeCatalog();
  private readonly sessions = new Set<PooledSession>();
  private pool: pg.Pool | undefined;
  private poolCreation: Promise<pg.Pool> | undefined;
  private inspection: Promise<ServerFacts> | undefined;
  private inspected: WarehouseCapabilities | undefined;
  /** Prepared statements run with one generic plan (see `applyGenericPlans`). */
  private usesGenericPlans = false;
  /**
   * The server reports every change of `default_transaction_read_only` (PostgreSQL 14+), so a
   * session's read-only mode is known without asking; on older servers it is set every time.
   */
  private reportsReadOnly = false;
  private isClosing = false;

  constructor(options: PostgresDriverOptions) {
    this.options = { ...options };
    this.provider = options.provider;
    if (options.provider === 'postgres') this.copyCsv = (query) => this.copyCsvOnPostgres(query);
    this.address = { host: options.host, port: options.port };
    this.gate = new SessionGate(options.maxConnections);
    this.context = {
      provider: options.provider,
      address: this.address,
      endpoint: endpointOf(this.address),
      connectTimeoutMs: options.connectTimeoutMs,
      logger: options.logger,
    };
  }

  /**
   * What the warehouse offers. PostGIS is looked up once, on first use of the driver (reading
   * this starts it); until then tiles are built without PostGIS, which is always correct.
   */
  get capabilities(): WarehouseCapabilities {
    if (this.provider === 'redshift') {
      return { nativeMvt: false, jsonTiles: false, cancellable: true };
    }
    if (this.inspected) return this.inspected;
    if (!this.isClosing) void this.inspectOnce().catch(() => undefined);
    return BEFORE_INSPECTION;
  }

  /** Waits for the one-time inspection of the server and returns the capabilities found. */
  async ready(): Promise<WarehouseCapabilities> {
    await this.inspectOnce();
    return this.capabilities;
  }

  async query(query: WarehouseQuery): Promise<WarehouseResult> {
    refuseCopy(query.sql);
    refuseUnguardedWrites(query);
    const session = await this.openSession(query.signal);
    const needsReset = mayLeaveSessionState(query.sql);
    // Redshift's leader node plans each statement anyway; PostgreSQL skips parsing and
    // analysing a kept text again (about a third of a small tile's time in the database).
    const name =
      query.repeatsText && !needsReset && this.provider === 'postgres'
        ? session.preparedNameFor(statementNameOf(query.sql))
        : undefined;
    try {
      return await session.run(async (client) => {
        await session.applyStatementTimeout(query.timeoutMs);
        await session.applyGenericPlans(name !== undefined && this.usesGenericPlans);
        await this.applyReadOnly(session, query);
        const result = await client.query<Row>(extendedQuery(query.sql, query.params, name));
        const columns = result.fields ?? [];
        const described = await this.catalog.describe(client, columns);
        this.catalog.reparse(result.rows, columns, described.lateArrayColumns);
        return { fields: described.fields, rows: result.rows };
      }, query);
    } finally {
      // In the background: after an abort the caller need not wait for the server to stop.
      void session.release(needsReset);
    }
  }

  /** Read-only statements on PostgreSQL; Redshift runs every statement as it comes. */
  private async applyReadOnly(session: PooledSession, query: WarehouseQuery): Promise<void> {
    if (this.provider !== 'postgres') return;
    await session.applyReadOnly(query.readOnly === true, this.reportsReadOnly);
  }

  async stream(query: WarehouseQuery & { batchRows?: number }): Promise<WarehouseRowStream> {
    refuseCopy(query.sql);
    refuseUnguardedWrites(query);
    const session = await this.openSession(query.signal);
    return CursorRowStream.open(session, this.catalog, this.cursorOptionsOf(query));
  }

  /** `stream` with rows as arrays of PostgreSQL's text, read per column by `readers`. */
  async streamArrays(
    query: WarehouseQuery & { batchRows?: number },
  ): Promise<WarehouseArrayRowStream> {
    refuseCopy(query.sql);
    refuseUnguardedWrites(query);
    const session = await this.openSession(query.signal);
    return CursorRowStream.openArrays(session, this.catalog, this.cursorOptionsOf(query));
  }

  /**
   * `copyCsv` of the driver interface, on PostgreSQL only (Redshift has no `COPY ... TO
   * STDOUT`): the server writes the CSV and its bytes are passed on as they come.
   */
  readonly copyCsv?: (query: WarehouseQuery) => Promise<Readable>;

  private async copyCsvOnPostgres(query: WarehouseQuery): Promise<Readable> {
    refuseCopy(query.sql);
    refuseUnguardedWrites(query);
    const session = await this.openSession(query.signal);
    return copyCsv(session, {
      sql: query.sql,
      timeoutMs: query.timeoutMs,
      signal: query.signal,
      prepare: async () => {
        await session.applyStatementTimeout(query.timeoutMs);
        await session.applyGenericPlans(false);
        await this.applyReadOnly(session, query);
      },
      release: async () => {
        await session.whenIdle();
        await session.release(mayLeaveSessionState(query.sql));
      },
    });
  }

  private cursorOptionsOf(query: WarehouseQuery & { batchRows?: number }): CursorStreamOptions {
    return {
      sql: query.sql,
      params: [...(query.params ?? [])],
      batchRows: Math.max(1, query.batchRows ?? DEFAULT_BATCH_ROWS),
      timeoutMs: query.timeoutMs,
      signal: query.signal,
      needsTransaction: this.provider === 'redshift',
      readOnly: this.provider === 'postgres' ? query.readOnly === true : undefined,
      reportsReadOnly: this.reportsReadOnly,
      needsReset: mayLeaveSessionState(query.sql),
    };
  }

  async test(): Promise<WarehouseTestReport> {
    const facts = await this.withSession((session) => this.inspect(session));
    this.inspected = this.capabilitiesOf(facts);
    return { ...facts, capabilities: this.capabilities };
  }

  /**
   * Stops taking statements, lets running ones finish for a few seconds, cancels the rest on
   * the server and closes every session.
   */
  async close(): Promise<void> {
    this.isClosing = true;
    const running = [...this.sessions].map((session) => session.whenReturned);
    await waitAtMost(Promise.all(running), CLOSE_GRACE_MS);
    for (const session of this.sessions) session.cancelAndDiscard();
    const pool = this.pool ?? (await this.poolCreation?.catch(() => undefined));
    // A dropped session whose server vanished may never finish closing its socket.
    if (pool && !pool.ended) await waitAtMost(pool.end(), CLOSE_GRACE_MS);
  }

  /** Inspects the server once per driver; a failure is not kept, so the next use retries. */
  private inspectOnce(): Promise<ServerFacts> {
    this.inspection ??= this.withSession((session) => this.inspect(session)).then(
      (facts) => {
        this.inspected = this.capabilitiesOf(facts);
        this.reportsReadOnly =
          this.provider === 'postgres' && majorVersionAtLeast(facts.serverVersion, 14);
        this.usesGenericPlans =
          this.provider === 'postgres' && hasPlanCacheMode(facts.serverVersion);
        return facts;
      },
      (error: unknown) => {
        this.inspection = undefined;
        throw error;
      },
    );
    return this.inspection;
  }

  /** Server and PostGIS versions, and the database's types on first call. */
  private inspect(session: PooledSession): Promise<ServerFacts> {
    return session.run(
      async (client) => {
        const started = performance.now();
        const versions = await client.query<{ version: string }>(SELECT_VERSION);
        const latencyMs = performance.now() - started;
        // Redshift has no pg_extension and no PostGIS.
        const postgis =
          this.provider === 'postgres'
            ? await client.query<{ version: string }>(SELECT_POSTGIS_VERSION)
            : undefined;
        if (!this.catalog.isLoaded) await this.catalog.load(client);
        return {
          serverVersion: versions.rows[0]?.version ?? 'unknown',
          postgisVersion: postgis?.rows[0]?.version ?? null,
          latencyMs,
        };
      },
      { timeoutMs: INSPECT_TIMEOUT_MS },
    );
  }

  private capabilitiesOf(facts: ServerFacts): WarehouseCapabilities {
    const hasPostgis = this.provider === 'postgres' && facts.postgisVersion !== null;
    return { nativeMvt: hasPostgis, jsonTiles: hasPostgis, cancellable: true };
  }

  private async withSession<T>(use: (session: PooledSession) => Promise<T>): Promise<T> {
    const session = await this.acquireSession(undefined);
    try {
      return await use(session);
    } finally {
      void session.release(false);
    }
  }

  /** A session for a user statement, once the database's types are known. */
  private async openSession(signal: AbortSignal | undefined): Promise<PooledSession> {
    await this.inspectOnce();
    return this.acquireSession(signal);
  }

  private async acquireSession(signal: AbortSignal | undefined): Promise<PooledSession> {
    this.throwIfClosing();
    const releasePermit = await this.gate.acquire(this.options.acquireTimeoutMs, signal);
    try {
      this.throwIfClosing();
      const client = await this.connect(await this.poolOnce());
      const session = new PooledSession(client, releasePermit, this.context);
      this.sessions.add(session);
      void session.whenReturned.then(() => this.sessions.delete(session));
      return session;
    } catch (error) {
      releasePermit();
      throw error;
    }
  }

  private async connect(pool: pg.Pool): Promise<pg.PoolClient> {
    const started = performance.now();
    try {
      return await pool.connect();
    } catch (error) {
      const timing = {
        elapsedMs: performance.now() - started,
        connectTimeoutMs: this.options.connectTimeoutMs,
      };
      const failure = connectFailure(error, this.context.endpoint, timing);
      this.options.logger?.warn(
        { endpoint: this.context.endpoint, err: describeError(failure) },
        'could not open a PostgreSQL session',
      );
      throw failure;
    }
  }

  private poolOnce(): Promise<pg.Pool> {
    // A failure is not kept: the next statement asks the server again.
    this.poolCreation ??= createPostgresPool(this.options, this.catalog.pgTypes).then(
      (pool) => (this.pool = pool),
      (error: unknown) => {
        this.poolCreation = undefined;
        throw error;
      },
    );
    return this.poolCreation;
  }

  private throwIfClosing(): void {
    if (this.isClosing) {
      throw new WarehouseError('unavailable', 'The warehouse connection is closing');
    }
  }
}
