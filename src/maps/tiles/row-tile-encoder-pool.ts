/**
 * Encodes row-path tiles in worker threads. Parsing WKB and clipping thousands of shapes is tens
 * of milliseconds of CPU, which on the HTTP thread would stall every other request; tiles with
 * little geometry are encoded inline, where a hop to a worker would cost more than the work.
 */
import os from 'node:os';
import { Piscina } from 'piscina';
import { encodeRowTile, type EncodeRowTileTask } from './encode-row-tile.js';
import type { EncodedTile } from './encode-tile.js';

/** Geometry beyond this many bytes (WKB, or half its hex text) is encoded off the HTTP thread. */
const INLINE_LIMIT_BYTES = 16 * 1024;

let pool: Piscina<EncodeRowTileTask, EncodedTile> | undefined;

function workerOptions(): { filename: string; execArgv: string[] } {
  const compiled = !import.meta.url.endsWith('.ts');
  const filename = new URL(
    compiled ? './row-tile-encoder-worker.js' : './row-tile-encoder-worker.ts',
    import.meta.url,
  ).href;
  // Test runs execute the TypeScript sources; tsx loads them inside the workers too.
  return { filename, execArgv: compiled ? [] : ['--import', 'tsx'] };
}

function getPool(): Piscina<EncodeRowTileTask, EncodedTile> {
  pool ??= new Piscina({
    ...workerOptions(),
    minThreads: 0,
    maxThreads: Math.max(1, os.availableParallelism() - 1),
    idleTimeout: 30_000,
  });
  return pool;
}

function geometryBytes(task: EncodeRowTileTask): number {
  let bytes = 0;
  for (const { wkb } of task.rows) {
    if (wkb instanceof Uint8Array) bytes += wkb.byteLength;
    else if (typeof wkb === 'string') bytes += wkb.length / 2;
  }
  return bytes;
}

/** Encodes a row-path tile, off the HTTP thread when it carries much geometry. */
export async function encodeRowTileOffThread(task: EncodeRowTileTask): Promise<EncodedTile> {
  if (geometryBytes(task) <= INLINE_LIMIT_BYTES) return encodeRowTile(task);
  return getPool().run(task);
}

/** Stops the pool's threads (idle ones also end on their own); a later encode starts a new pool. */
export async function closeRowTileEncoderPool(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.destroy();
}
