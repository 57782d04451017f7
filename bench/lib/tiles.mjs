/** Deterministic choice of tiles to request: seeded draws of populated places, per zoom. */

/** Zoom bands the report groups tiles by; the target applies to z0–z6. */
export const ZOOM_BANDS = [
  { name: 'z0-z3', minZoom: 0, maxZoom: 3 },
  { name: 'z4-z6', minZoom: 4, maxZoom: 6 },
  { name: 'z7-z10', minZoom: 7, maxZoom: 10 },
];

export const MAX_ZOOM = 10;

const MAX_MERCATOR_LATITUDE = 85.0511287798066;

/** mulberry32: a tiny seeded PRNG, so every run requests the same tiles. */
export function createRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 1-based row numbers to draw, `count` of them in draw order, from `rowCount` rows. */
export function drawRowNumbers(random, rowCount, count) {
  return Array.from({ length: count }, () => 1 + Math.floor(random() * rowCount));
}

/** The XYZ tile holding a WGS84 point at zoom `z`. */
export function tileOf(lon, lat, z) {
  const n = 2 ** z;
  const clampedLat = Math.max(-MAX_MERCATOR_LATITUDE, Math.min(MAX_MERCATOR_LATITUDE, lat));
  const latRad = (clampedLat * Math.PI) / 180;
  const x = Math.floor(((lon + 180) / 360) * n);
  const y = Math.floor(((1 - Math.log(Math.tan(latRad) + 1 / Math.cos(latRad)) / Math.PI) / 2) * n);
  return { z, x: Math.min(n - 1, Math.max(0, x)), y: Math.min(n - 1, Math.max(0, y)) };
}

/**
 * One tile per drawn place and zoom, `perZoom` places per zoom, in draw order. Repeats are
 * kept (at z0 every draw is tile 0/0/0): busy tiles are requested more often, as on a map.
 */
export function buildTileList(places, perZoom) {
  const tiles = [];
  for (let z = 0; z <= MAX_ZOOM; z += 1) {
    for (const place of places.slice(z * perZoom, (z + 1) * perZoom)) {
      tiles.push(tileOf(place.lon, place.lat, z));
    }
  }
  return tiles;
}

export function tilesInBand(tiles, band) {
  return tiles.filter((t) => t.z >= band.minZoom && t.z <= band.maxZoom);
}

export function tileKey(tile) {
  return `${tile.z}/${tile.x}/${tile.y}`;
}
