/**
 * Messages between the embedded warehouse host (main thread) and its PGlite worker. The worker
 * runs one message at a time; the host never sends a query before the previous one answered.
 */

import type { WarehouseErrorKind, WarehouseField } from '../driver.js';
import type { PostgresErrorFields } from '../postgres-errors.js';

export type HostMessage =
  | { type: 'open'; dataDir: string; maxResultBytes: number }
  | { type: 'query'; id: number; sql: string; params: readonly unknown[]; readOnly?: boolean }
  | { type: 'close' };

/** What the worker measured while opening the data directory. */
export interface OpenReport {
  createdDataDir: boolean;
  createMs: number;
  extensionMs: number;
  /** Creating or migrating the API role and locking the session to it. */
  roleMs: number;
  postgisVersion: string;
}

export type WorkerMessage =
  | ({ type: 'opened' } & OpenReport)
  | { type: 'result'; id: number; fields: WarehouseField[]; rows: Record<string, unknown>[] }
  | {
      type: 'error';
      /** Absent when opening failed. */
      id?: number;
      error: PostgresErrorFields;
      /**
       * Set for failures the worker detected itself rather than PostgreSQL; they carry no
       * SQLSTATE so they never pass for a real server error.
       */
      kind?: WarehouseErrorKind;
      /** The PGlite instance is unusable after this error; the host must restart the worker. */
      fatal: boolean;
    }
  | { type: 'closed' };
