import { describe, expect, it } from 'vitest';
import { chooseTilePath } from './build-tile.js';

describe('choosing how a tile is built', () => {
  const postgis = { nativeMvt: true, jsonTiles: true, cancellable: true };
  const embedded = { nativeMvt: false, jsonTiles: true, cancellable: false };
  const redshift = { nativeMvt: false, jsonTiles: false, cancellable: true };

  it('builds MVT in the warehouse only when it can and MVT was asked for', () => {
    expect(chooseTilePath(postgis, 'mvt')).toBe('native-mvt');
    expect(chooseTilePath(postgis, 'binary')).toBe('json');
  });

  it('uses one JSON value per tile where the warehouse can aggregate it', () => {
    expect(chooseTilePath(embedded, 'mvt')).toBe('json');
    expect(chooseTilePath(embedded, 'binary')).toBe('json');
  });

  it('reads per-feature rows from warehouses with neither', () => {
    expect(chooseTilePath(redshift, 'mvt')).toBe('rows');
    expect(chooseTilePath(redshift, 'binary')).toBe('rows');
  });
});
