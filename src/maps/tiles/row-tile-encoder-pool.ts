/**
 * Encodes row-path tiles in worker threads. Parsing WKB and clipping thousands of shapes is tens
 * of milliseconds of CPU, which on the HTTP thread would stall every other request; tiles with
 * little geometry are encoded inline, where a hop to a worker would cost more than the work.
 */
import { encodeRowTile, type EncodeRowTileTask } from './encode-row-tile.js';
import type { EncodedTile } from './encode-tile.js';
import { LazyWorkerPool } from './worker-pool.js';

/** Geometry beyond this many bytes (WKB, or half its hex text) is encoded off the HTTP thread. */
const INLINE_LIMIT_BYTES = 16 * 1024;

const pool = new LazyWorkerPool<EncodeRowTileTask, EncodedTile>('row-tile-encoder-worker');

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
  return pool.run(task);
}

/** Stops the pool's threads (idle ones also end on their own); a later encode starts a new pool. */
export function closeRowTileEncoderPool(): Promise<void> {
  return pool.close();
}
