/** Types for the parts of `@mapbox/vector-tile` 1.3 the tests use; the package ships none. */
declare module '@mapbox/vector-tile' {
  import type Pbf from 'pbf';

  interface PointXY {
    x: number;
    y: number;
  }

  interface GeoJsonFeature {
    type: 'Feature';
    id?: number;
    properties: Record<string, string | number | boolean>;
    geometry: { type: string; coordinates: unknown };
  }

  class VectorTileFeature {
    static types: string[];
    id?: number;
    type: 0 | 1 | 2 | 3;
    extent: number;
    properties: Record<string, string | number | boolean>;
    loadGeometry(): PointXY[][];
    toGeoJSON(x: number, y: number, z: number): GeoJsonFeature;
  }

  class VectorTileLayer {
    version: number;
    name: string;
    extent: number;
    length: number;
    feature(i: number): VectorTileFeature;
  }

  class VectorTile {
    constructor(pbf: Pbf);
    layers: Record<string, VectorTileLayer>;
  }
}
