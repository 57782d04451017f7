/**
 * A row query's result as CSV written by PostgreSQL itself (`COPY (...) TO STDOUT`): the
 * server formats every value, and its bytes pass through untouched, so an export costs the
 * server what `psql --csv` costs it and this process almost nothing per row.
 */

import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { to as copyTo } from 'pg-copy-streams';
import type { PooledSession } from './pooled-session.js';

export interface CopyCsvOptions {
  /** A row query; it becomes `COPY (sql) TO STDOUT WITH (FORMAT csv, HEADER)`. */
  sql: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Prepares the session (statement timeout, read-only mode) before the COPY. */
  prepare: () => Promise<void>;
  /** Returns the session once the COPY has ended, one way or another. */
  release: () => Promise<void>;
}

/**
 * Starts the COPY and resolves with its bytes once the server has begun to send them (so an
 * error in the statement is still an error answer); a failure after that destroys the stream.
 * The stream's reader sets the pace: PostgreSQL waits while it does not read.
 */
export function copyCsv(session: PooledSession, options: CopyCsvOptions): Promise<Readable> {
  const out = new PassThrough();
  let started = false;
  return new Promise<Readable>((resolve, reject) => {
    const begin = () => {
      if (started) return;
      started = true;
      resolve(out);
    };
    const copying = session.run(
      async (client) => {
        await options.prepare();
        const copy = client.query(
          copyTo(`COPY (${options.sql}) TO STDOUT WITH (FORMAT csv, HEADER)`),
        );
        const done = pipeline(copy, out);
        copy.once('data', begin);
        copy.once('end', begin);
        await done;
      },
      { timeoutMs: options.timeoutMs, signal: options.signal },
    );
    copying.then(
      () => begin(),
      (error: unknown) => {
        if (started) out.destroy(error as Error);
        else reject(error as Error);
      },
    );
    void copying.catch(() => undefined).finally(() => options.release());
  });
}
