import { VectorTile } from '@mapbox/vector-tile';
import Pbf from 'pbf';

/** WGS84 bounds of tile z/x/y: [west, south, east, north]. */
export function tileBounds(z: number, x: number, y: number): [number, number, number, number] {
  const n = 2 ** z;
  const lon = (i: number) => (i / n) * 360 - 180;
  const lat = (j: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * j) / n))) * 180) / Math.PI;
  return [lon(x), lat(y + 1), lon(x + 1), lat(y)];
}

/** Fills a `{z}/{x}/{y}` template. */
export function tileUrl(template: string, z: number, x: number, y: number): string {
  return template.replace('{z}', String(z)).replace('{x}', String(x)).replace('{y}', String(y));
}

/** Decodes an MVT body into its `default` layer's features as GeoJSON. */
export function decodeMvt(body: ArrayBuffer, z: number, x: number, y: number) {
  const tile = new VectorTile(new Pbf(new Uint8Array(body)));
  const layer = tile.layers.default;
  if (!layer) return { extent: 0, features: [] };
  const features = Array.from({ length: layer.length }, (_, i) =>
    layer.feature(i).toGeoJSON(x, y, z),
  );
  return { extent: layer.extent, features };
}
