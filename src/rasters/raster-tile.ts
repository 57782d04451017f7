/**
 * CARTO's raster tile, as deck.gl's `CartoRasterTileLoader` reads it: protobuf
 * `Tile {1: varint blockSize; 2: repeated Band {1: string name; 2: string type; 3: bytes data}}`,
 * each band's data the block's pixels row by row from the north-west corner, little-endian,
 * and gzip-compressed when the metadata says `compression: gzip`. The bytes are the table's
 * as stored: Graticule never decodes or re-encodes pixels to serve them.
 */
import Pbf from 'pbf';
import { writeBytesField, writeTextField } from '../maps/tiles/pbf-writing.js';
import type { RasterBand } from './raster-metadata.js';
import type { StoredBand } from './raster-table.js';

export const RASTER_TILE_CONTENT_TYPE = 'application/vnd.carto-raster-tile';

/**
 * The tile of one block. A band the row holds no value for is left out of the tile (deck.gl
 * then draws the block without it); `type` must precede `data`, which the loader reads by it.
 */
export function encodeRasterTile(
  blockSize: number,
  bands: readonly RasterBand[],
  stored: readonly StoredBand[],
): Buffer {
  const pbf = new Pbf();
  pbf.writeVarintField(1, blockSize);
  for (let i = 0; i < bands.length; i += 1) {
    const bytes = stored[i]?.bytes;
    if (!bytes) continue;
    const band = bands[i]!;
    pbf.writeMessage(2, () => {
      writeTextField(pbf, 1, band.name);
      writeTextField(pbf, 2, band.type);
      writeBytesField(pbf, 3, bytes);
    });
  }
  const bytes = pbf.finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
