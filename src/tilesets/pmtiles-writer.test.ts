import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PMTiles, TileType, zxyToTileId } from 'pmtiles';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PmtilesWriter,
  buildDirectories,
  serializeDirectory,
  tileIdOf,
  type DirectoryEntry,
  type DirectoryLayout,
} from './pmtiles-writer.js';
import { LocalFileSource } from '../test-support/pmtiles-file-source.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'graticule-pmtiles-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * A fake tile whose bytes start with its address, so a misplaced tile shows, padded with up
 * to 255 bytes that do not compress, so directories hold lengths of every size.
 */
function tileBytes(z: number, x: number, y: number): Buffer {
  const address = `tile ${z}/${x}/${y}`;
  const noise = createHash('sha512').update(address).digest();
  return Buffer.concat([Buffer.from(address), noise.subarray(0, noise[0]! % 64)]);
}

/** Deterministic pseudo-random integers (a linear congruential generator). */
function randomIntegers(seed: number) {
  let state = seed;
  return (below: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % below;
  };
}

describe('PMTiles tile ids', () => {
  it('numbers tiles along the Hilbert curve as the pmtiles reader does', () => {
    for (let z = 0; z <= 6; z += 1) {
      for (let x = 0; x < 2 ** z; x += 1) {
        for (let y = 0; y < 2 ** z; y += 1) expect(tileIdOf(z, x, y)).toBe(zxyToTileId(z, x, y));
      }
    }
    expect(tileIdOf(16, 33_000, 21_000)).toBe(zxyToTileId(16, 33_000, 21_000));
    expect(tileIdOf(26, 2 ** 26 - 1, 12_345)).toBe(zxyToTileId(26, 2 ** 26 - 1, 12_345));
  });

  it('refuses coordinates outside the grid', () => {
    expect(() => tileIdOf(2, 4, 0)).toThrow(RangeError);
    expect(() => tileIdOf(27, 0, 0)).toThrow(RangeError);
  });
});

describe('PMTiles directories', () => {
  it('delta-encodes ids and marks contiguous offsets with 0', () => {
    const entries: DirectoryEntry[] = [
      { tileId: 5, offset: 0, length: 10, runLength: 1 },
      { tileId: 6, offset: 10, length: 3, runLength: 2 },
      { tileId: 300, offset: 0, length: 10, runLength: 1 },
    ];
    // count; id deltas 5, 1, 294 (2 bytes); run lengths; lengths; offsets 0+1, 0, 0+1.
    expect([...serializeDirectory(entries)]).toEqual([
      3, 5, 1, 0xa6, 0x02, 1, 2, 1, 10, 3, 10, 1, 0, 1,
    ]);
  });

  it('moves entries into leaf directories when the root would be too large', async () => {
    const random = randomIntegers(7);
    const entries: DirectoryEntry[] = [];
    for (let i = 0, tileId = 0, offset = 0; i < 1000; i += 1) {
      const length = 1 + random(1000);
      entries.push({ tileId, offset, length, runLength: 1 });
      tileId += 1 + random(50);
      offset += length;
    }
    const { root, leaves } = await buildDirectories(entries, 256, 16);
    expect(root.length).toBeLessThanOrEqual(256);
    expect(leaves.length).toBeGreaterThan(0);
  });
});

describe('PmtilesWriter', () => {
  async function writeArchive(
    name: string,
    tiles: [number, number, number][],
    layout: DirectoryLayout = {},
  ) {
    const file = path.join(scratch, name);
    const writer = await PmtilesWriter.create(file, layout);
    const ordered = [...tiles].sort((a, b) => tileIdOf(...a) - tileIdOf(...b));
    for (const [z, x, y] of ordered) await writer.addTile(z, x, y, tileBytes(z, x, y));
    await writer.finish(
      { minZoom: 0, maxZoom: 5, bounds: [-10.5, -20.25, 30, 40.125], center: [1.5, 2.5, 3] },
      { name: 'fixture', vector_layers: [{ id: 'default', fields: {} }] },
    );
    return new PMTiles(new LocalFileSource(file));
  }

  it('writes an archive the pmtiles reader reads back tile for tile', async () => {
    const tiles: [number, number, number][] = [];
    for (let z = 0; z <= 5; z += 1) {
      for (let x = 0; x < 2 ** z; x += 2) tiles.push([z, x, (x * 7) % 2 ** z]);
    }
    const archive = await writeArchive('sparse.pmtiles', tiles);

    const header = await archive.getHeader();
    expect(header).toMatchObject({
      specVersion: 3,
      minZoom: 0,
      maxZoom: 5,
      minLon: -10.5,
      minLat: -20.25,
      maxLon: 30,
      maxLat: 40.125,
      centerZoom: 3,
      centerLon: 1.5,
      centerLat: 2.5,
      tileType: TileType.Mvt,
      clustered: true,
      numAddressedTiles: tiles.length,
    });
    expect(await archive.getMetadata()).toEqual({
      name: 'fixture',
      vector_layers: [{ id: 'default', fields: {} }],
    });
    for (const [z, x, y] of tiles) {
      const tile = await archive.getZxy(z, x, y);
      expect(Buffer.from(tile!.data)).toEqual(tileBytes(z, x, y));
    }
    expect(await archive.getZxy(5, 1, 0)).toBeUndefined();
  });

  it('stores identical tiles once and reads runs of them back', async () => {
    const file = path.join(scratch, 'runs.pmtiles');
    const writer = await PmtilesWriter.create(file);
    const same = Buffer.from('ocean');
    const ids = Array.from({ length: 64 }, (_, i) => i + tileIdOf(3, 0, 0));
    const addresses = [...ids].map((id) => {
      for (let x = 0; x < 8; x += 1) {
        for (let y = 0; y < 8; y += 1) if (tileIdOf(3, x, y) === id) return [x, y] as const;
      }
      throw new Error('unreachable');
    });
    for (const [x, y] of addresses) await writer.addTile(3, x, y, same);
    await writer.finish(
      { minZoom: 3, maxZoom: 3, bounds: [-180, -85, 180, 85], center: [0, 0, 3] },
      {},
    );

    const archive = new PMTiles(new LocalFileSource(file));
    const header = await archive.getHeader();
    expect(header.numAddressedTiles).toBe(64);
    expect(header.numTileEntries).toBe(1);
    expect(header.numTileContents).toBe(1);
    expect(Buffer.from((await archive.getZxy(3, 7, 7))!.data).toString()).toBe('ocean');
  });

  it('finds tiles through leaf directories when the root directory is full', async () => {
    const tiles: [number, number, number][] = [];
    for (let x = 0; x < 32; x += 1) for (let y = 0; y < 32; y += 1) tiles.push([5, x, y]);
    const archive = await writeArchive('leaves.pmtiles', tiles, {
      maxRootDirectoryBytes: 200,
      firstLeafEntries: 32,
    });
    const header = await archive.getHeader();
    expect(header.rootDirectoryLength).toBeLessThanOrEqual(200);
    expect(header.leafDirectoryLength).toBeGreaterThan(0);
    for (const [z, x, y] of tiles.filter((_, i) => i % 17 === 0 || i === tiles.length - 1)) {
      const tile = await archive.getZxy(z, x, y);
      expect(Buffer.from(tile!.data)).toEqual(tileBytes(z, x, y));
    }
  });

  it('refuses tiles out of tile id order', async () => {
    const writer = await PmtilesWriter.create(path.join(scratch, 'unordered.pmtiles'));
    await writer.addTile(1, 1, 1, tileBytes(1, 1, 1));
    await expect(writer.addTile(1, 0, 0, tileBytes(1, 0, 0))).rejects.toThrow(RangeError);
    await writer.abort();
  });
});
