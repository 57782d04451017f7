/**
 * Encodes large tiles in worker threads. Parsing a low-zoom tile's JSON and encoding it takes
 * tens of milliseconds of CPU; on the HTTP thread that would stall every other request, so
 * tiles above a small size go to a pool sized to the spare cores. Small tiles, the vast
 * majority, are encoded inline: a hop to a worker would cost more than the work.
 */
import os from 'node:os';
import { Piscina } from 'piscina';
import { encodeTile, type EncodeTileTask, type EncodedTile } from './encode-tile.js';

/** JSON text beyond this many characters is encoded off the HTTP thread. */
const INLINE_LIMIT_CHARS = 32 * 1024;

let pool: Piscina<EncodeTileTask, EncodedTile> | undefined;

function workerOptions(): { filename: string; execArgv: string[] } {
  const compiled = !import.meta.url.endsWith('.ts');
  const filename = new URL(
    compiled ? './tile-encoder-worker.js' : './tile-encoder-worker.ts',
    import.meta.url,
  ).href;
  // Test runs execute the TypeScript sources; tsx loads them inside the workers too.
  return { filename, execArgv: compiled ? [] : ['--import', 'tsx'] };
}

function getPool(): Piscina<EncodeTileTask, EncodedTile> {
  pool ??= new Piscina({
    ...workerOptions(),
    minThreads: 0,
    maxThreads: Math.max(1, os.availableParallelism() - 1),
    idleTimeout: 30_000,
  });
  return pool;
}

/** Encodes a tile, off the HTTP thread when it is large. */
export async function encodeTileOffThread(task: EncodeTileTask): Promise<EncodedTile> {
  const isSmall = typeof task.json !== 'string' || task.json.length <= INLINE_LIMIT_CHARS;
  if (isSmall) return encodeTile(task);
  return getPool().run(task);
}

/** Stops the pool's threads; a later encode starts a new pool. */
export async function closeTileEncoderPool(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.destroy();
}
