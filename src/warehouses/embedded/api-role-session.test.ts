import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarehouseError } from '../driver.js';
import { EmbeddedWarehouse } from './embedded-warehouse.js';

// A data directory as the previous version left it: everything owned by the superuser.
const OLDER_VERSION_DATA = `
  CREATE EXTENSION postgis;
  CREATE SCHEMA "demo";
  CREATE TABLE "demo"."places" ("id" serial PRIMARY KEY, "geom" geometry(Point, 4326));
  INSERT INTO "demo"."places" ("geom") VALUES (ST_SetSRID(ST_MakePoint(1, 2), 4326));
  CREATE TABLE "public"."mine" ("id" int4 GENERATED ALWAYS AS IDENTITY, "label" text);
  CREATE VIEW "public"."mine_labels" AS SELECT "label" FROM "public"."mine";`;

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-role-'));
let warehouse: EmbeddedWarehouse;

async function rowsOf(sql: string, params?: unknown[]) {
  return (await warehouse.query({ sql, params, timeoutMs: 30_000 })).rows;
}

async function failureOf(sql: string): Promise<WarehouseError> {
  const error: unknown = await rowsOf(sql).then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  if (!(error instanceof WarehouseError)) throw new Error(`expected a WarehouseError: ${error}`);
  return error;
}

beforeAll(async () => {
  const older = await PGlite.create({ dataDir, extensions: { postgis } });
  await older.exec(OLDER_VERSION_DATA);
  await older.close();
  warehouse = await EmbeddedWarehouse.open({ dataDir });
});

afterAll(async () => {
  await warehouse?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('statements of API users', () => {
  it('run as the unprivileged role graticule', async () => {
    const [role] = await rowsOf(`
      SELECT current_user::text AS "user", r.rolsuper, r.rolcreaterole
        FROM pg_roles AS r
       WHERE r.rolname = current_user`);

    expect(role).toEqual({ user: 'graticule', rolsuper: false, rolcreaterole: false });
  });

  it.each([
    [`SELECT pg_read_file('PG_VERSION')`],
    [`SELECT pg_read_file('no_such_file')`],
    [`SELECT pg_ls_dir('.')`],
    [`COPY (SELECT 1) TO '/pglite/data/copied.txt'`],
    [`SELECT lo_import('/pglite/data/PG_VERSION')`],
    ['DROP EXTENSION postgis'],
    [`ALTER SYSTEM SET work_mem = '1MB'`],
    ['ALTER ROLE graticule SUPERUSER'],
    [`CREATE FUNCTION leak() RETURNS text LANGUAGE internal AS 'pg_read_file_all'`],
    ['SET ROLE postgres'],
    ['RESET ROLE'],
    ['SET SESSION AUTHORIZATION postgres'],
    ['RESET SESSION AUTHORIZATION'],
    [`SELECT set_config('role', 'postgres', false)`],
    [`DO $$ BEGIN EXECUTE 'SET ROLE postgres'; END $$`],
  ])("refuse '%s' as 'permission' with SQLSTATE 42501", async (sql) => {
    const error = await failureOf(sql);

    expect(error).toMatchObject({ kind: 'permission', sqlState: '42501' });
    expect((await rowsOf('SELECT current_user::text AS "user"'))[0]).toEqual({ user: 'graticule' });
  });

  it('cannot write into the data directory', async () => {
    await failureOf(`COPY (SELECT 1) TO '/pglite/data/copied.txt'`);

    expect(existsSync(path.join(dataDir, 'copied.txt'))).toBe(false);
  });

  it('keep spatial functions, catalog lookups, pg_sleep and their own tables', async () => {
    const [spatial] = await rowsOf(`
      SELECT ST_AsText(ST_SnapToGrid(ST_Transform(ST_SetSRID(ST_MakePoint(1, 2), 4326), 3857), 1))
               AS mercator,
             to_regclass('spatial_ref_sys')::text AS srs,
             pg_sleep(0.01)::text AS slept`);
    await rowsOf('CREATE SCHEMA "scratch"');
    await rowsOf('CREATE TABLE "scratch"."shapes" ("id" serial, "geom" geometry(Polygon, 4326))');
    await rowsOf('CREATE INDEX ON "scratch"."shapes" USING gist ("geom")');
    await rowsOf(
      `INSERT INTO "scratch"."shapes" ("geom") VALUES (ST_MakeEnvelope(0, 0, 1, 1, 4326))`,
    );
    const [area] = await rowsOf('SELECT ST_Area("geom") AS area FROM "scratch"."shapes"');
    await rowsOf('DROP SCHEMA "scratch" CASCADE');

    expect(spatial).toEqual({
      mercator: 'POINT(111319 222684)',
      srs: 'spatial_ref_sys',
      slept: '',
    });
    expect(area).toEqual({ area: 1 });
    expect(await rowsOf(`SELECT to_regclass('"scratch"."shapes"') AS t`)).toEqual([{ t: null }]);
  });

  it('read and write what an older version created as the superuser', async () => {
    await rowsOf(`INSERT INTO "demo"."places" ("geom") VALUES ('SRID=4326;POINT(3 4)')`);
    await rowsOf(`INSERT INTO "public"."mine" ("label") VALUES ('kept')`);
    await rowsOf('CREATE TABLE "demo"."added" ("id" int4)');
    await rowsOf('DROP TABLE "demo"."added"');
    const owners = await rowsOf(`
      SELECT c.relname, pg_get_userbyid(c.relowner)::text AS owner
        FROM pg_class AS c
       WHERE c.relname IN ('places', 'places_id_seq', 'mine', 'mine_id_seq', 'mine_labels',
                           'spatial_ref_sys')
       ORDER BY c.relname`);

    expect(await rowsOf('SELECT count(*)::int4 AS n FROM "demo"."places"')).toEqual([{ n: 2 }]);
    expect(await rowsOf('SELECT "label" FROM "public"."mine_labels"')).toEqual([{ label: 'kept' }]);
    expect(owners).toEqual([
      { relname: 'mine', owner: 'graticule' },
      { relname: 'mine_id_seq', owner: 'graticule' },
      { relname: 'mine_labels', owner: 'graticule' },
      { relname: 'places', owner: 'graticule' },
      { relname: 'places_id_seq', owner: 'graticule' },
      { relname: 'spatial_ref_sys', owner: 'postgres' },
    ]);
  });
});

describe('the shared session', () => {
  const SETTINGS = `
    SELECT current_setting('search_path') AS path,
           coalesce(current_setting('app.secret', true), '') AS secret,
           current_setting('TimeZone') AS zone`;

  it('forgets settings, search_path and custom variables after each statement', async () => {
    const [defaults] = await rowsOf(SETTINGS);

    await rowsOf('SET search_path = demo');
    await rowsOf(`SET app.secret = 'x'`);
    await rowsOf(`SET TimeZone = 'Asia/Tokyo'`);

    expect(defaults).toMatchObject({ path: 'public', secret: '' });
    expect(await rowsOf(SETTINGS)).toEqual([defaults]);
    expect((await failureOf('SELECT * FROM places')).sqlState).toBe('42P01');
  });

  it('forgets temporary tables, prepared statements and held cursors', async () => {
    await rowsOf('CREATE TEMP TABLE "private_notes" AS SELECT 1 AS n');
    await rowsOf('PREPARE "mine_count" AS SELECT count(*) FROM "public"."mine"');
    await rowsOf('DECLARE "held" CURSOR WITH HOLD FOR SELECT 1');

    expect((await failureOf('SELECT * FROM "private_notes"')).sqlState).toBe('42P01');
    expect((await failureOf('EXECUTE "mine_count"')).sqlState).toBe('26000');
    expect((await failureOf('FETCH "held"')).sqlState).toBe('34000');
  });

  it('is clean again after a failed statement', async () => {
    await failureOf(`SELECT set_config('search_path', 'demo', false), 1 / 0`);

    expect(await rowsOf(`SELECT current_setting('search_path') AS path`)).toEqual([
      { path: 'public' },
    ]);
  });

  it('reports how long preparing the role took when opening', () => {
    expect(warehouse.stats.lastOpen?.roleMs).toBeGreaterThan(0);
  });
});
