import { errors } from '../http/errors.js';
import { MAX_ZOOM } from './tilejson.js';

export interface TileCoordinates {
  z: number;
  x: number;
  y: number;
}

const DIGITS = /^\d{1,10}$/;

/** Validates z/x/y from a tile path; each bad part gets a 400 that names it. */
export function parseTileCoordinates(raw: { z: string; x: string; y: string }): TileCoordinates {
  for (const name of ['z', 'x', 'y'] as const) {
    if (!DIGITS.test(raw[name])) {
      throw errors.invalidTileCoordinates(`${name} must be a non-negative integer`);
    }
  }
  const z = Number(raw.z);
  if (z > MAX_ZOOM) throw errors.invalidTileCoordinates(`z must be between 0 and ${MAX_ZOOM}`);
  const size = 2 ** z;
  const x = Number(raw.x);
  const y = Number(raw.y);
  if (x >= size) throw errors.invalidTileCoordinates(`x must be below ${size} at zoom ${z}`);
  if (y >= size) throw errors.invalidTileCoordinates(`y must be below ${size} at zoom ${z}`);
  return { z, x, y };
}
