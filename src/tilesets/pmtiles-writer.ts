/**
 * Writes PMTiles version 3 archives of Mapbox Vector Tiles, as the published specification
 * (github.com/protomaps/PMTiles, spec/v3/spec.md) lays them out: a 127-byte header, the root
 * directory (within the first 16 KiB), JSON metadata, leaf directories, then tile data.
 * Directories and metadata are gzipped, and so is every tile. Tiles are added in tile id
 * order, so the archive is clustered; identical tiles are stored once, and runs of identical
 * consecutive tiles take one directory entry.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

const gzip = promisify(gzipCallback);

export const HEADER_BYTES = 127;
/** The header and the root directory must fit in the first 16 KiB. */
const MAX_ROOT_DIRECTORY_BYTES = 16_384 - HEADER_BYTES;
const FIRST_LEAF_ENTRIES = 4096;
/** Tile ids past zoom 26 exceed what a double holds exactly. */
const MAX_ZOOM = 26;

/** `Compression` and `TileType` values of the specification. */
const COMPRESSION_GZIP = 2;
const TILE_TYPE_MVT = 1;

export interface DirectoryEntry {
  tileId: number;
  offset: number;
  length: number;
  /** Consecutive tile ids sharing this content; 0 marks a leaf directory. */
  runLength: number;
}

export interface PmtilesArchiveInfo {
  minZoom: number;
  maxZoom: number;
  /** [west, south, east, north] in degrees. */
  bounds: [number, number, number, number];
  /** [longitude, latitude, zoom]. */
  center: [number, number, number];
}

/**
 * The PMTiles tile id of z/x/y: the tiles of lower zooms come first, then the position of
 * x/y along the Hilbert curve filling the zoom's grid.
 */
export function tileIdOf(z: number, x: number, y: number): number {
  if (!Number.isInteger(z) || z < 0 || z > MAX_ZOOM) throw new RangeError(`bad zoom ${z}`);
  const size = 2 ** z;
  if (x < 0 || y < 0 || x >= size || y >= size) throw new RangeError(`bad tile ${z}/${x}/${y}`);
  const before = (4 ** z - 1) / 3;
  let [cx, cy] = [x, y];
  let distance = 0;
  for (let half = size / 2; half >= 1; half /= 2) {
    const right = Math.floor(cx / half) % 2;
    const down = Math.floor(cy / half) % 2;
    distance += half * half * ((3 * right) ^ down);
    // Rotate the quadrant so the curve's sub-square is in the standard orientation.
    if (down === 0) {
      if (right === 1) {
        cx = size - 1 - cx;
        cy = size - 1 - cy;
      }
      [cx, cy] = [cy, cx];
    }
  }
  return before + distance;
}

/** Unsigned LEB128, with arithmetic rather than bit operators so values above 2^32 work. */
function writeVarint(out: number[], value: number): void {
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

/** A directory as the specification serializes it, before compression. */
export function serializeDirectory(entries: readonly DirectoryEntry[]): Buffer {
  const out: number[] = [];
  writeVarint(out, entries.length);
  let lastId = 0;
  for (const entry of entries) {
    writeVarint(out, entry.tileId - lastId);
    lastId = entry.tileId;
  }
  for (const entry of entries) writeVarint(out, entry.runLength);
  for (const entry of entries) writeVarint(out, entry.length);
  entries.forEach((entry, i) => {
    const previous = entries[i - 1];
    const follows = previous !== undefined && entry.offset === previous.offset + previous.length;
    writeVarint(out, follows ? 0 : entry.offset + 1);
  });
  return Buffer.from(out);
}

/**
 * The root directory, and the leaf directories it points to when all entries do not fit in
 * the root: leaves of `leafEntries` entries, doubled until the root fits.
 */
export async function buildDirectories(
  entries: readonly DirectoryEntry[],
  maxRootBytes = MAX_ROOT_DIRECTORY_BYTES,
  firstLeafEntries = FIRST_LEAF_ENTRIES,
): Promise<{ root: Buffer; leaves: Buffer }> {
  const root = await gzip(serializeDirectory(entries));
  if (root.length <= maxRootBytes) return { root, leaves: Buffer.alloc(0) };
  for (let leafEntries = firstLeafEntries; ; leafEntries *= 2) {
    const pointers: DirectoryEntry[] = [];
    const leaves: Buffer[] = [];
    let offset = 0;
    for (let start = 0; start < entries.length; start += leafEntries) {
      const chunk = entries.slice(start, start + leafEntries);
      const leaf = await gzip(serializeDirectory(chunk));
      pointers.push({ tileId: chunk[0]!.tileId, offset, length: leaf.length, runLength: 0 });
      leaves.push(leaf);
      offset += leaf.length;
    }
    const pointerRoot = await gzip(serializeDirectory(pointers));
    if (pointerRoot.length <= maxRootBytes) {
      return { root: pointerRoot, leaves: Buffer.concat(leaves) };
    }
  }
}

interface HeaderFields extends PmtilesArchiveInfo {
  rootOffset: number;
  rootLength: number;
  metadataOffset: number;
  metadataLength: number;
  leavesOffset: number;
  leavesLength: number;
  tileDataOffset: number;
  tileDataLength: number;
  addressedTiles: number;
  tileEntries: number;
  tileContents: number;
}

/** The fixed 127-byte header; integers are little-endian, positions in 1e-7 degrees. */
export function serializeHeader(fields: HeaderFields): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.write('PMTiles', 0, 'ascii');
  header.writeUInt8(3, 7);
  const u64 = [
    fields.rootOffset,
    fields.rootLength,
    fields.metadataOffset,
    fields.metadataLength,
    fields.leavesOffset,
    fields.leavesLength,
    fields.tileDataOffset,
    fields.tileDataLength,
    fields.addressedTiles,
    fields.tileEntries,
    fields.tileContents,
  ];
  u64.forEach((value, i) => header.writeBigUInt64LE(BigInt(value), 8 + i * 8));
  header.writeUInt8(1, 96); // clustered
  header.writeUInt8(COMPRESSION_GZIP, 97); // internal compression
  header.writeUInt8(COMPRESSION_GZIP, 98); // tile compression
  header.writeUInt8(TILE_TYPE_MVT, 99);
  header.writeUInt8(fields.minZoom, 100);
  header.writeUInt8(fields.maxZoom, 101);
  const e7 = (degrees: number) => Math.round(degrees * 1e7);
  const [west, south, east, north] = fields.bounds;
  [west, south, east, north].forEach((v, i) => header.writeInt32LE(e7(v), 102 + i * 4));
  const [lon, lat, zoom] = fields.center;
  header.writeUInt8(zoom, 118);
  header.writeInt32LE(e7(lon), 119);
  header.writeInt32LE(e7(lat), 123);
  return header;
}

/** How directories are split; the defaults suit every archive, smaller values suit tests. */
export interface DirectoryLayout {
  maxRootDirectoryBytes?: number;
  firstLeafEntries?: number;
}

/**
 * Streams tiles into a PMTiles archive: tile data goes to a scratch file as tiles arrive (in
 * increasing tile id order), and `finish` writes header, directories and metadata in front
 * of it into a new file that is renamed to the output, so a failed export leaves no archive.
 */
export class PmtilesWriter {
  private readonly entries: DirectoryEntry[] = [];
  private readonly contents = new Map<string, { offset: number; length: number }>();
  private dataLength = 0;
  private addressedTiles = 0;
  private lastTileId = -1;
  private lastHash = '';

  private constructor(
    private readonly outputPath: string,
    private readonly dataPath: string,
    private readonly data: FileHandle,
    private readonly layout: DirectoryLayout,
  ) {}

  static async create(outputPath: string, layout: DirectoryLayout = {}): Promise<PmtilesWriter> {
    const dataPath = `${outputPath}.${randomBytes(6).toString('hex')}.tiles`;
    return new PmtilesWriter(outputPath, dataPath, await open(dataPath, 'wx'), layout);
  }

  get tileCount(): number {
    return this.addressedTiles;
  }

  /** Adds one uncompressed tile; ids must increase from call to call. */
  async addTile(z: number, x: number, y: number, tile: Uint8Array): Promise<void> {
    const tileId = tileIdOf(z, x, y);
    if (tileId <= this.lastTileId) throw new RangeError('tiles must arrive in tile id order');
    const hash = createHash('sha256').update(tile).digest('base64');
    const last = this.entries[this.entries.length - 1];
    this.addressedTiles += 1;
    if (last && tileId === this.lastTileId + 1 && hash === this.lastHash) {
      last.runLength += 1;
    } else {
      let content = this.contents.get(hash);
      if (!content) {
        const compressed = await gzip(tile);
        await this.data.write(compressed);
        content = { offset: this.dataLength, length: compressed.length };
        this.dataLength += compressed.length;
        this.contents.set(hash, content);
      }
      this.entries.push({ tileId, ...content, runLength: 1 });
    }
    this.lastTileId = tileId;
    this.lastHash = hash;
  }

  /** Writes the archive and removes the scratch file. */
  async finish(info: PmtilesArchiveInfo, metadata: Record<string, unknown>): Promise<void> {
    await this.data.close();
    const partialPath = `${this.outputPath}.${randomBytes(6).toString('hex')}.partial`;
    try {
      const { root, leaves } = await buildDirectories(
        this.entries,
        this.layout.maxRootDirectoryBytes,
        this.layout.firstLeafEntries,
      );
      const metadataBytes = await gzip(Buffer.from(JSON.stringify(metadata), 'utf8'));
      const rootOffset = HEADER_BYTES;
      const metadataOffset = rootOffset + root.length;
      const leavesOffset = metadataOffset + metadataBytes.length;
      const tileDataOffset = leavesOffset + leaves.length;
      const header = serializeHeader({
        ...info,
        rootOffset,
        rootLength: root.length,
        metadataOffset,
        metadataLength: metadataBytes.length,
        leavesOffset,
        leavesLength: leaves.length,
        tileDataOffset,
        tileDataLength: this.dataLength,
        addressedTiles: this.addressedTiles,
        tileEntries: this.entries.length,
        tileContents: this.contents.size,
      });
      const output = createWriteStream(partialPath, { flags: 'wx' });
      output.write(Buffer.concat([header, root, metadataBytes, leaves]));
      await pipeline(createReadStream(this.dataPath), output);
      await rename(partialPath, this.outputPath);
    } catch (error) {
      await rm(partialPath, { force: true });
      throw error;
    } finally {
      await rm(this.dataPath, { force: true });
    }
  }

  /** Gives up: closes and removes the scratch file. */
  async abort(): Promise<void> {
    await this.data.close().catch(() => undefined);
    await rm(this.dataPath, { force: true });
  }
}
