/** Entry of the tile encoder pool's worker threads. */
import { encodeTile, type EncodeTileTask, type EncodedTile } from './encode-tile.js';

export default function encodeTileInWorker(task: EncodeTileTask): EncodedTile {
  return encodeTile(task);
}
