/**
 * SQL of the demo data set in schema `demo`. Rows arrive as parallel arrays unnested in one
 * statement per batch: PGlite parses the whole batch once instead of once per row.
 */

/** Bump when the demo tables change shape or content; an older set is dropped and reloaded. */
export const DEMO_DATA_VERSION = 3;

export const CREATE_DEMO_SCHEMA = `CREATE SCHEMA IF NOT EXISTS "demo"`;

export const HAS_DEMO_MARKER = `
  SELECT to_regclass('"demo"."_graticule_meta"') IS NOT NULL AS present`;

export const READ_DEMO_MARKER = `
  SELECT "version", "tables"
    FROM "demo"."_graticule_meta"
   ORDER BY "loaded_at" DESC
   LIMIT 1`;

// Only the tables this loader owns: the schema may hold a user's own tables too.
export const DROP_DEMO_TABLES = `
  DROP TABLE IF EXISTS
    "demo"."_graticule_meta",
    "demo"."populated_places",
    "demo"."places_h3",
    "demo"."places_quadbin",
    "demo"."countries",
    "demo"."us_states",
    "demo"."us_counties",
    "demo"."relief_raster"`;

export const CREATE_DEMO_MARKER = `
  CREATE TABLE "demo"."_graticule_meta" (
    "version" int4 NOT NULL,
    "loaded_at" timestamptz NOT NULL DEFAULT now(),
    "tables" jsonb NOT NULL
  )`;

export const WRITE_DEMO_MARKER = `
  INSERT INTO "demo"."_graticule_meta" ("version", "tables")
  VALUES ($1::int4, $2::jsonb)`;

export const CREATE_POPULATED_PLACES = `
  CREATE TABLE "demo"."populated_places" (
    "id" int4 NOT NULL,
    "name" text NOT NULL,
    "country" text,
    "population" int4,
    "feature_code" text,
    "admin_code" text,
    "geom" geometry(Point, 4326) NOT NULL
  )`;

export const INSERT_POPULATED_PLACES = `
  INSERT INTO "demo"."populated_places"
         ("id", "name", "country", "population", "feature_code", "admin_code", "geom")
  SELECT id, name, country, population, feature_code, admin_code,
         ST_SetSRID(ST_MakePoint(lon, lat), 4326)
    FROM unnest($1::int4[], $2::text[], $3::text[], $4::int4[], $5::text[], $6::text[],
                $7::float8[], $8::float8[])
         AS place(id, name, country, population, feature_code, admin_code, lon, lat)`;

/** Places summed per H3 cell (hex text) and per quadbin cell (64-bit id). */
export const CREATE_PLACES_H3 = `
  CREATE TABLE "demo"."places_h3" (
    "h3" text NOT NULL,
    "place_count" int4 NOT NULL,
    "population" int8 NOT NULL
  )`;

export const INSERT_PLACES_H3 = `
  INSERT INTO "demo"."places_h3" ("h3", "place_count", "population")
  SELECT * FROM unnest($1::text[], $2::int4[], $3::int8[])`;

export const CREATE_PLACES_QUADBIN = `
  CREATE TABLE "demo"."places_quadbin" (
    "quadbin" int8 NOT NULL,
    "place_count" int4 NOT NULL,
    "population" int8 NOT NULL
  )`;

export const INSERT_PLACES_QUADBIN = `
  INSERT INTO "demo"."places_quadbin" ("quadbin", "place_count", "population")
  SELECT * FROM unnest($1::int8[], $2::int4[], $3::int8[])`;

// Polygons from TopoJSON can self-intersect after quantization; ST_MakeValid may then return
// a collection with stray lines or points, of which only the polygonal parts are kept. Rings
// the reader moved east of 180 (see demo-sources.ts) are split at the antimeridian first.
const VALID_MULTIPOLYGON = `
  ST_Multi(ST_CollectionExtract(ST_MakeValid(
    ST_WrapX(ST_SetSRID(ST_GeomFromGeoJSON(geojson), 4326), 180, -360)), 3))`;

export const CREATE_COUNTRIES = `
  CREATE TABLE "demo"."countries" (
    "id" int4 NOT NULL,
    "iso_n3" text,
    "name" text NOT NULL,
    "geom" geometry(MultiPolygon, 4326) NOT NULL
  )`;

export const INSERT_COUNTRIES = `
  INSERT INTO "demo"."countries" ("id", "iso_n3", "name", "geom")
  SELECT id, iso_n3, name, ${VALID_MULTIPOLYGON}
    FROM unnest($1::int4[], $2::text[], $3::text[], $4::text[])
         AS feature(id, iso_n3, name, geojson)`;

export const CREATE_US_STATES = `
  CREATE TABLE "demo"."us_states" (
    "geoid" text NOT NULL,
    "name" text NOT NULL,
    "geom" geometry(MultiPolygon, 4326) NOT NULL
  )`;

export const INSERT_US_STATES = `
  INSERT INTO "demo"."us_states" ("geoid", "name", "geom")
  SELECT geoid, name, ${VALID_MULTIPOLYGON}
    FROM unnest($1::text[], $2::text[], $3::text[]) AS feature(geoid, name, geojson)`;

export const CREATE_US_COUNTIES = `
  CREATE TABLE "demo"."us_counties" (
    "geoid" text NOT NULL,
    "name" text NOT NULL,
    "state_fips" text NOT NULL,
    "geom" geometry(MultiPolygon, 4326) NOT NULL
  )`;

export const INSERT_US_COUNTIES = `
  INSERT INTO "demo"."us_counties" ("geoid", "name", "state_fips", "geom")
  SELECT geoid, name, left(geoid, 2), ${VALID_MULTIPOLYGON}
    FROM unnest($1::text[], $2::text[], $3::text[]) AS feature(geoid, name, geojson)`;

/**
 * Statements that finish a loaded table: its key, a GiST index for tile and bbox filters, and
 * planner statistics. Keys and indexes are built after the load, which is faster than
 * maintaining them row by row. `table` and `key` are constants of this module, never input.
 */
export function finishTableStatements(table: string, key: string, spatial = true): string[] {
  return [
    `ALTER TABLE "demo"."${table}" ADD PRIMARY KEY ("${key}")`,
    ...(spatial
      ? [`CREATE INDEX "${table}_geom_idx" ON "demo"."${table}" USING gist ("geom")`]
      : []),
    `ANALYZE "demo"."${table}"`,
  ];
}

export function countRowsStatement(table: string): string {
  return `SELECT count(*)::int4 AS "rows" FROM "demo"."${table}"`;
}
