/**
 * Encodes large tiles in worker threads. Parsing a low-zoom tile's JSON and encoding it takes
 * tens of milliseconds of CPU; on the HTTP thread that would stall every other request, so
 * tiles above a small size go to a pool sized to the spare cores. Small tiles, the vast
 * majority, are encoded inline: a hop to a worker would cost more than the work.
 */
import { encodeTile, type EncodeTileTask, type EncodedTile } from './encode-tile.js';
import { LazyWorkerPool } from './worker-pool.js';

/** JSON text beyond this many characters is encoded off the HTTP thread. */
const INLINE_LIMIT_CHARS = 32 * 1024;

const pool = new LazyWorkerPool<EncodeTileTask, EncodedTile>('tile-encoder-worker');

/** Encodes a tile, off the HTTP thread when it is large. */
export async function encodeTileOffThread(task: EncodeTileTask): Promise<EncodedTile> {
  const isSmall = typeof task.json !== 'string' || task.json.length <= INLINE_LIMIT_CHARS;
  if (isSmall) return encodeTile(task);
  return pool.run(task);
}

/** Stops the pool's threads; a later encode starts a new pool. */
export function closeTileEncoderPool(): Promise<void> {
  return pool.close();
}
