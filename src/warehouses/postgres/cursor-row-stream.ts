/**
 * A result read through a server-side cursor (pg-cursor), one batch at a time, so memory holds
 * at most two batches whatever the result size: the one the consumer has, and the next, which
 * is read meanwhile so that the server and the consumer work at the same time. Redshift keeps
 * portals only inside a transaction, so there the cursor is wrapped in BEGIN/COMMIT.
 */

import Cursor from 'pg-cursor';
import type pg from 'pg';
import type { WarehouseColumnReader, WarehouseField } from '../driver.js';
import { keepText } from '../postgres-types.js';
import { columnReaderOf } from './column-readers.js';
import { cancelledError, timeoutError, type PooledSession } from './pooled-session.js';
import type { ResultColumn, TypeCatalog } from './type-catalog.js';

/** A row as an object keyed by column name, or as an array of text cells in column order. */
type Row = Record<string, unknown> | unknown[];

interface Batch<R extends Row> {
  rows: R[];
  columns: ResultColumn[];
}

export interface CursorStreamOptions {
  sql: string;
  params: unknown[];
  batchRows: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Wrap the cursor in an explicit transaction (Redshift). */
  needsTransaction: boolean;
  /** Run read-only, or with the connection's setting; undefined leaves the session as it is. */
  readOnly?: boolean;
  /** Whether the server reports changes of the read-only mode (see `applyReadOnly`). */
  reportsReadOnly?: boolean;
  /** Reset the session when the stream ends: the statement was not a plain row query. */
  needsReset: boolean;
}

/** Array rows keep every value as text; the column readers parse or copy it. */
const TEXT_CELLS: pg.CustomTypesConfig = {
  getTypeParser: (() => keepText) as pg.CustomTypesConfig['getTypeParser'],
};

function readBatch<R extends Row>(cursor: Cursor<R>, batchRows: number): Promise<Batch<R>> {
  return new Promise((resolve, reject) => {
    cursor.read(batchRows, (error, rows, result) => {
      if (error) reject(error);
      else resolve({ rows, columns: result.fields });
    });
  });
}

/** Limit on closing the cursor or ending the transaction when the stream ends. */
const CLOSE_TIMEOUT_MS = 10_000;

type RowMode = 'object' | 'array';

export class CursorRowStream<R extends Row> {
  fields: WarehouseField[] = [];
  /** Per column, how to read array cells; empty for object rows. */
  readers: WarehouseColumnReader[] = [];
  readonly rows: AsyncIterable<R[]>;
  private cursor: Cursor<R> | undefined;
  private firstBatch: R[] = [];
  /** The next batch, asked for as soon as the previous one arrived. */
  private nextBatch: Promise<Batch<R>> | undefined;
  private isExhausted = false;
  private isReading = false;
  private hasFailed = false;
  private closing: Promise<void> | undefined;
  private readonly deadline: number;
  private batchRows: number;

  private constructor(
    private readonly session: PooledSession,
    private readonly catalog: TypeCatalog,
    private readonly options: CursorStreamOptions,
    private readonly rowMode: RowMode,
  ) {
    this.deadline = Date.now() + options.timeoutMs;
    this.batchRows = options.batchRows;
    this.rows = { [Symbol.asyncIterator]: () => this.iterate() };
  }

  /**
   * Starts the statement and reads its first batch, which tells the columns; rows are objects
   * keyed by column name. On failure the session is released and the error rethrown.
   */
  static open(
    session: PooledSession,
    catalog: TypeCatalog,
    options: CursorStreamOptions,
  ): Promise<CursorRowStream<Record<string, unknown>>> {
    return CursorRowStream.start(new CursorRowStream(session, catalog, options, 'object'));
  }

  /** As `open`, with rows as arrays of text cells that `readers` read. */
  static openArrays(
    session: PooledSession,
    catalog: TypeCatalog,
    options: CursorStreamOptions,
  ): Promise<CursorRowStream<unknown[]>> {
    return CursorRowStream.start(new CursorRowStream(session, catalog, options, 'array'));
  }

  private static async start<R extends Row>(
    stream: CursorRowStream<R>,
  ): Promise<CursorRowStream<R>> {
    try {
      await stream.start();
    } catch (error) {
      stream.hasFailed = true;
      // After an abort the caller need not wait for the server to stop the statement.
      void stream.close();
      throw error;
    }
    stream.options.signal?.addEventListener('abort', stream.onAbort, { once: true });
    return stream;
  }

  setBatchRows(rows: number): void {
    this.batchRows = Math.max(1, Math.floor(rows));
  }

  /** Stops reading, closes the cursor and returns the session; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async start(): Promise<void> {
    const { session, options } = this;
    await session.run(async (client) => {
      await session.applyStatementTimeout(options.timeoutMs);
      await session.applyGenericPlans(false);
      if (options.readOnly !== undefined) {
        await session.applyReadOnly(options.readOnly, options.reportsReadOnly === true);
      }
      if (options.needsTransaction) await client.query('BEGIN');
    }, this.limits());

    let first = await this.openCursor();
    if (this.hasUnknownTypes(first) && !options.needsReset) {
      await this.learnTypes(first);
      first = await this.openCursor();
    }
    this.fields = this.catalog.fieldsOf(first.columns);
    if (this.rowMode === 'array') {
      this.readers = first.columns.map((column) =>
        columnReaderOf(column.dataTypeID, this.catalog.parserOf(column.dataTypeID)),
      );
    }
    this.firstBatch = first.rows;
  }

  private openCursor(): Promise<Batch<R>> {
    const { sql, params } = this.options;
    const config =
      this.rowMode === 'array'
        ? { rowMode: 'array' as const, types: TEXT_CELLS }
        : { types: this.catalog.pgTypes };
    this.cursor = this.session.client.query(new Cursor<R>(sql, params, config));
    return this.read();
  }

  /**
   * Column types created after the driver loaded the catalog cannot be looked up while the
   * cursor holds the session, and their values were read as text. A row query is read again
   * once they are learnt; any other statement must not run twice, so there they stay
   * `unknown` and their values text.
   */
  private hasUnknownTypes(batch: Batch<R>): boolean {
    return batch.columns.some((column) => !this.catalog.knows(column.dataTypeID));
  }

  private async learnTypes(batch: Batch<R>): Promise<void> {
    await this.session.run(async (client) => {
      await this.cursor?.close();
      await this.catalog.describe(client, batch.columns);
    }, this.limits());
  }

  private async read(): Promise<Batch<R>> {
    const cursor = this.cursor;
    if (!cursor) return { rows: [], columns: [] };
    this.isReading = true;
    const batchRows = this.batchRows;
    try {
      const batch = await this.session.run(() => readBatch(cursor, batchRows), this.limits());
      this.isExhausted = batch.rows.length < batchRows;
      return batch;
    } catch (error) {
      this.hasFailed = true;
      throw error;
    } finally {
      this.isReading = false;
    }
  }

  /** Asks for the next batch now, unless the result has ended or the stream stopped. */
  private readAhead(): void {
    if (this.isExhausted || this.closing || this.options.signal?.aborted) return;
    const next = this.read();
    // Awaited by the next step of the loop; a failure must not count as unhandled meanwhile.
    next.catch(() => undefined);
    this.nextBatch = next;
  }

  private async takeBatch(): Promise<Batch<R>> {
    const next = this.nextBatch ?? this.read();
    this.nextBatch = undefined;
    const batch = await next;
    this.readAhead();
    return batch;
  }

  private async *iterate(): AsyncGenerator<R[]> {
    try {
      const first = this.firstBatch;
      this.firstBatch = [];
      this.readAhead();
      if (first.length > 0) yield first;
      while (this.nextBatch || !this.isExhausted) {
        this.throwIfStopped();
        const { rows } = await this.takeBatch();
        if (rows.length > 0) yield rows;
      }
    } finally {
      const closing = this.close();
      if (!this.session.wasStopped) await closing;
    }
  }

  private throwIfStopped(): void {
    if (this.options.signal?.aborted) throw cancelledError();
    if (this.closing) throw cancelledError();
    if (Date.now() > this.deadline) throw timeoutError(this.options.timeoutMs);
  }

  /** Time left of the statement's budget, which covers the stream from start to close. */
  private limits() {
    const timeoutMs = Math.max(1, this.deadline - Date.now());
    return { timeoutMs, signal: this.options.signal };
  }

  // A paused consumer leaves the server idle, where a cancel request does nothing: close.
  private readonly onAbort = () => {
    if (!this.isReading) void this.close();
  };

  private async finish(): Promise<void> {
    this.options.signal?.removeEventListener('abort', this.onAbort);
    await this.session.whenIdle();
    // After an abandoned read, `release` alone decides whether the session can be kept.
    if (!this.session.wasStopped) await this.endCursor();
    await this.session.release(this.options.needsReset);
  }

  private async endCursor(): Promise<void> {
    const limits = { timeoutMs: CLOSE_TIMEOUT_MS };
    try {
      await this.session.run(async (client) => {
        await this.cursor?.close();
        if (!this.options.needsTransaction) return;
        await client.query(this.hasFailed ? 'ROLLBACK' : 'COMMIT');
      }, limits);
    } catch {
      // The session is cleaned or dropped by `release`, which checks the transaction state.
    }
  }
}
