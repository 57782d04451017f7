/** Entry of the row tile pool's worker threads. */
import { encodeRowTile, type EncodeRowTileTask } from './encode-row-tile.js';
import type { EncodedTile } from './encode-tile.js';

export default function encodeRowTileInWorker(task: EncodeRowTileTask): EncodedTile {
  return encodeRowTile(task);
}
