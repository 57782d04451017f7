/**
 * One pooled PostgreSQL session lent to one caller: runs statements under a timeout and an
 * abort signal, cancels them on the server when either fires, and cleans the session before
 * giving it back, or discards it when its state is unknown.
 */

import type pg from 'pg';
import { WarehouseError, type WarehouseProvider } from '../driver.js';
import type { DriverLogger } from './postgres-driver-options.js';
import { describeError, isSessionLost, statementFailure } from './postgres-failures.js';
import { sendCancelRequest, type ServerAddress } from './postgres-wire.js';
import { resetSessionSql } from './session-reset.sql.js';

/** How much later than `statement_timeout` the client gives up on a silent server. */
const BACKSTOP_GRACE_MS = 2_000;
/** A cancel request can overtake the statement it targets; it is repeated this often. */
const CANCEL_RETRY_MS = 500;
/** After this long without an answer to cancel requests the session is dropped. */
const CANCEL_GIVE_UP_MS = 5_000;
/** Limit for the driver's own housekeeping statements (ROLLBACK, RESET, SET). */
const HOUSEKEEPING_TIMEOUT_MS = 10_000;

/** What the driver knows of a pooled connection across loans; pg reuses client objects. */
interface SessionMemory {
  /** The `statement_timeout` last set, undefined when unknown (new or reset session). */
  statementTimeoutMs?: number;
  /** Names of the statements this driver prepared in the session; all go at a reset. */
  preparedNames?: Set<string>;
  /**
   * `generic` while the session plans prepared statements once for all bind values,
   * `unknown` while that is being changed; absent means the server's default.
   */
  planCache?: 'generic' | 'unknown';
  /** `on` while transactions default to read-only, `unknown` while changing; absent: default. */
  readOnly?: 'on' | 'unknown';
}

/** Most statements kept prepared in one session; texts beyond it are parsed every time. */
const MAX_PREPARED_PER_SESSION = 32;

/**
 * pg remembers which named statements a connection has parsed and then sends only Bind and
 * Execute; after the reset's DEALLOCATE ALL it must forget them too, or the next use fails.
 * That record is not in pg's public API, so without it the driver prepares nothing.
 */
interface ParsedStatementsRecord {
  connection?: {
    parsedStatements?: Record<string, string>;
    submittedNamedStatements?: Record<string, string>;
  };
}

function parsedStatementsOf(client: pg.PoolClient) {
  const connection = (client as unknown as ParsedStatementsRecord).connection;
  const isKnownShape =
    typeof connection?.parsedStatements === 'object' &&
    typeof connection.submittedNamedStatements === 'object';
  return isKnownShape ? connection : undefined;
}

const memories = new WeakMap<pg.PoolClient, SessionMemory>();

/** A ParameterStatus message of the protocol, as pg's connection emits it. */
interface ParameterStatus {
  parameterName: string;
  parameterValue: string;
}

/** pg's protocol connection of a client, which emits every server message by name. */
function connectionOf(client: pg.PoolClient): NodeJS.EventEmitter | undefined {
  const connection = (client as unknown as { connection?: NodeJS.EventEmitter }).connection;
  return typeof connection?.on === 'function' ? connection : undefined;
}

/** pg keeps a backend's cancel key on the client without declaring it in its types. */
interface CancelKey {
  processID?: number | null;
  secretKey?: number | null;
}

export interface SessionContext {
  provider: WarehouseProvider;
  address: ServerAddress;
  endpoint: string;
  connectTimeoutMs: number;
  logger?: DriverLogger;
}

/** The run-time limits of one statement. */
export interface StatementLimits {
  timeoutMs: number;
  signal?: AbortSignal;
}

export function timeoutError(timeoutMs: number, cause?: unknown): WarehouseError {
  return new WarehouseError('timeout', `The statement ran longer than ${timeoutMs} ms`, '57014', {
    cause,
  });
}

export function cancelledError(): WarehouseError {
  return new WarehouseError('cancelled', 'The statement was cancelled', '57014');
}

export class PooledSession {
  readonly client: pg.PoolClient;
  private readonly memory: SessionMemory;
  private lostBecause: unknown;
  private isReturned = false;
  /** Settles (never rejects) when the statement in flight has ended. */
  private inFlight: Promise<unknown> = Promise.resolve();
  private isRunning = false;
  private hasStopped = false;
  /** Abandons the statement in flight with the given error; set while one runs. */
  private stopCurrent: ((error: WarehouseError) => void) | undefined;
  private cancelsSent = 0;
  private wasCancelConsumed = false;
  private returned!: () => void;
  private releasing: Promise<void> | undefined;
  /** Resolves once the session is back in the pool or dropped. */
  readonly whenReturned = new Promise<void>((resolve) => (this.returned = resolve));

  constructor(
    client: pg.PoolClient,
    private readonly releasePermit: () => void,
    private readonly context: SessionContext,
  ) {
    this.client = client;
    let memory = memories.get(client);
    if (!memory) {
      const fresh: SessionMemory = {};
      memory = fresh;
      memories.set(client, fresh);
      // The server announces changes of the read-only mode (PostgreSQL 14+): one made by a
      // statement, not by `applyReadOnly`, leaves the mode unknown, so it is set again.
      connectionOf(client)?.on('parameterStatus', (message: ParameterStatus) => {
        if (message.parameterName === 'default_transaction_read_only') fresh.readOnly = 'unknown';
      });
    }
    this.memory = memory;
    // pg emits 'error' on a client whose server went away between statements; a client lent
    // out has no pool listener, and an unheard 'error' would end the process.
    client.on('error', this.onLost);
    client.on('end', this.onLost);
  }

  /**
   * Runs `execute` under `limits`: when the signal aborts or the client-side backstop fires,
   * the promise rejects at once and the statement is cancelled on the server in the
   * background. A server-side `statement_timeout` becomes a `timeout` error.
   */
  run<T>(execute: (client: pg.PoolClient) => Promise<T>, limits: StatementLimits): Promise<T> {
    if (limits.signal?.aborted) return Promise.reject(cancelledError());
    if (this.isReturned) return Promise.reject(new Error('The session was already returned'));

    this.cancelsSent = 0;
    this.wasCancelConsumed = false;
    this.isRunning = true;
    const statement = execute(this.client);
    this.inFlight = statement.then(
      () => (this.isRunning = false),
      (error: unknown) => {
        this.isRunning = false;
        this.wasCancelConsumed = (error as { code?: unknown } | null)?.code === '57014';
      },
    );
    return new Promise<T>((resolve, reject) => {
      let stoppedWith: WarehouseError | undefined;
      const stop = (error: WarehouseError) => {
        if (stoppedWith) return;
        stoppedWith = error;
        this.hasStopped = true;
        finish();
        reject(error);
        void this.cancelUntilSettled();
      };
      const onAbort = () => stop(cancelledError());
      const backstop = setTimeout(
        () => stop(timeoutError(limits.timeoutMs)),
        limits.timeoutMs + BACKSTOP_GRACE_MS,
      );
      const finish = () => {
        this.stopCurrent = undefined;
        clearTimeout(backstop);
        limits.signal?.removeEventListener('abort', onAbort);
      };
      limits.signal?.addEventListener('abort', onAbort, { once: true });
      this.stopCurrent = stop;
      statement.then(
        (value) => {
          if (stoppedWith) return;
          finish();
          resolve(value);
        },
        (error: unknown) => {
          if (stoppedWith) return;
          finish();
          reject(this.failureOf(error, limits.timeoutMs));
        },
      );
    });
  }

  /** True once a statement was abandoned on abort or timeout; nothing more should run. */
  get wasStopped(): boolean {
    return this.hasStopped;
  }

  /** Resolves when no statement of this session is running any more. */
  whenIdle(): Promise<unknown> {
    return Promise.race([this.inFlight, this.whenReturned]);
  }

  /** Sets `statement_timeout` unless the session already has that value. */
  async applyStatementTimeout(timeoutMs: number): Promise<void> {
    const value = Math.max(1, Math.round(timeoutMs));
    if (this.memory.statementTimeoutMs === value) return;
    this.memory.statementTimeoutMs = undefined;
    await this.client.query(`SET statement_timeout = ${value}`);
    this.memory.statementTimeoutMs = value;
  }

  /**
   * Makes prepared statements use one generic plan (`plan_cache_mode`, PostgreSQL 12+) or
   * the server's default again. PostgreSQL otherwise plans a tile statement anew for each
   * tile, as its generic plan looks costlier on paper, and planning takes longer than
   * running it for a small tile; unnamed statements, user SQL among them, would be affected
   * too, so every other statement runs with the default. JIT compilation is off for them as
   * well: a dense tile's estimated cost can pass `jit_above_cost`, and compiling then takes
   * about 10 ms, longer than the tile. So are parallel plans: with its LIMIT, a tile's query
   * could be planned as a parallel scan of the whole table (300 ms) instead of an index scan
   * of the tile's few rows (5 ms), depending on the statistics' sample.
   */
  async applyGenericPlans(isGeneric: boolean): Promise<void> {
    const current = this.memory.planCache;
    if (isGeneric ? current === 'generic' : current === undefined) return;
    this.memory.planCache = 'unknown';
    await this.client.query(
      isGeneric
        ? 'SET plan_cache_mode = force_generic_plan; SET jit = off; ' +
            'SET max_parallel_workers_per_gather = 0'
        : 'RESET plan_cache_mode; RESET jit; RESET max_parallel_workers_per_gather',
    );
    this.memory.planCache = isGeneric ? 'generic' : undefined;
  }

  /**
   * Makes the session's transactions read-only (`default_transaction_read_only`), or gives it
   * back the connection's own setting. A read-only statement cannot write, nor call functions
   * that do (`nextval`, a user function's INSERT): what reads a source for maps, widgets and
   * stats must change nothing, whoever asks. The statement runs in its own implicit
   * transaction, which took the mode when it began, so the SQL cannot switch it back.
   */
  async applyReadOnly(readOnly: boolean, reported: boolean): Promise<void> {
    const current = this.memory.readOnly;
    // Any statement may change the mode (set_config under a name no check can foresee): only
    // a server that reports every change lets the session's mode be taken as known.
    if (reported && (readOnly ? current === 'on' : current === undefined)) return;
    this.memory.readOnly = 'unknown';
    await this.client.query(
      readOnly ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only',
    );
    this.memory.readOnly = readOnly ? 'on' : undefined;
  }

  /**
   * `name` when its statement may be kept prepared in this session, or undefined to parse the
   * text unnamed: when the session holds too many already, or pg's record of parsed statements
   * is not where it is expected.
   */
  preparedNameFor(name: string): string | undefined {
    if (!parsedStatementsOf(this.client)) return undefined;
    const names = (this.memory.preparedNames ??= new Set());
    if (names.has(name)) return name;
    if (names.size >= MAX_PREPARED_PER_SESSION) return undefined;
    names.add(name);
    return name;
  }

  /**
   * Gives the session back once its statement has ended: rolls back a transaction left open,
   * resets the session when `needsReset`, and drops it when its state cannot be trusted.
   * Never throws; the caller need not wait for it.
   */
  release(needsReset: boolean): Promise<void> {
    this.releasing ??= this.returnToPool(needsReset);
    return this.releasing;
  }

  private async returnToPool(needsReset: boolean): Promise<void> {
    await this.whenIdle();
    if (this.isReturned) return;
    if (this.lostBecause !== undefined) return this.discard('the connection was lost');
    if (!this.isCancelSettled()) return this.discard('a cancel request may still be pending');

    try {
      await this.clean(needsReset);
    } catch (error) {
      this.context.logger?.warn(
        { endpoint: this.context.endpoint, err: describeError(error) },
        'could not clean a PostgreSQL session; dropping it',
      );
      return this.discard('cleaning failed');
    }
    this.giveBack(undefined);
  }

  /** Closes the connection instead of returning it to the pool. */
  discard(reason: string): void {
    if (this.isReturned) return;
    this.giveBack(new Error(`PostgreSQL session dropped: ${reason}`));
  }

  /** Cancels what runs now and drops the session; used when the driver closes. */
  cancelAndDiscard(): void {
    this.stopCurrent?.(
      new WarehouseError(
        'cancelled',
        'The statement was cancelled: the warehouse connection closed',
      ),
    );
    this.discard('the driver is closing');
  }

  /** After a cancel, only a `query_canceled` answer to exactly one request proves it used up. */
  private isCancelSettled(): boolean {
    return this.cancelsSent === 0 || (this.cancelsSent === 1 && this.wasCancelConsumed);
  }

  private async clean(needsReset: boolean): Promise<void> {
    const status = this.client.getTransactionStatus();
    const limits = { timeoutMs: HOUSEKEEPING_TIMEOUT_MS };
    // 'T' in a transaction, 'E' in a failed one; null means pg could not tell.
    if (status === 'T' || status === 'E' || (status === null && needsReset)) {
      await this.run((client) => client.query('ROLLBACK'), limits);
    }
    if (!needsReset) return;
    this.memory.statementTimeoutMs = undefined;
    this.memory.planCache = undefined;
    this.memory.readOnly = undefined;
    await this.run((client) => client.query(resetSessionSql(this.context.provider)), limits);
    this.forgetPreparedStatements();
  }

  /** After DEALLOCATE ALL, neither pg nor this driver may take a statement as prepared. */
  private forgetPreparedStatements(): void {
    this.memory.preparedNames = undefined;
    const record = parsedStatementsOf(this.client);
    if (!record) return;
    record.parsedStatements = {};
    record.submittedNamedStatements = {};
  }

  private giveBack(error: Error | undefined): void {
    this.isReturned = true;
    this.client.release(error);
    this.client.removeListener('error', this.onLost);
    this.client.removeListener('end', this.onLost);
    this.releasePermit();
    this.returned();
  }

  private failureOf(error: unknown, timeoutMs: number): WarehouseError {
    if (isSessionLost(error)) this.lostBecause ??= error;
    const failure = statementFailure(error, this.context.endpoint, this.lostBecause !== undefined);
    // We sent no cancel, so a query_canceled is the server's statement_timeout.
    return failure.kind === 'cancelled' ? timeoutError(timeoutMs, error) : failure;
  }

  private readonly onLost = (error?: unknown) => {
    this.lostBecause ??= error ?? new Error('connection ended');
  };

  /** Repeats the cancel request until the statement ends, then gives up on the session. */
  private async cancelUntilSettled(): Promise<void> {
    let isSettled = false;
    void this.inFlight.then(() => (isSettled = true));
    const deadline = Date.now() + CANCEL_GIVE_UP_MS;
    while (!isSettled && !this.isReturned && Date.now() < deadline) {
      await this.sendCancel();
      await Promise.race([this.inFlight, delay(CANCEL_RETRY_MS)]);
    }
    // The server ignores cancels and the session may be stuck: closing it frees the permit,
    // and the server notices the closed socket when it next writes. Otherwise the caller's
    // `release` decides, now that the statement has ended.
    if (!isSettled) this.discard('the server did not stop the statement');
  }

  private async sendCancel(): Promise<void> {
    const { processID, secretKey } = this.client as unknown as CancelKey;
    if (typeof processID !== 'number' || typeof secretKey !== 'number') return;
    this.cancelsSent += 1;
    try {
      const timeoutMs = this.context.connectTimeoutMs;
      await sendCancelRequest(this.context.address, processID, secretKey, timeoutMs);
    } catch (error) {
      this.context.logger?.warn(
        { endpoint: this.context.endpoint, err: describeError(error) },
        'could not send a cancel request to PostgreSQL',
      );
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
