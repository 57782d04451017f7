/**
 * A throwaway PostgreSQL 15 + PostGIS cluster for the PostgreSQL benchmark: initdb into a
 * temporary directory, a free loopback port, password (SCRAM) authentication over TCP and
 * durability off, since nothing here must survive a crash. initdb and postgres refuse to run
 * as root, so as root every server program runs as the `postgres` user through `runuser`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { findFreePort } from './server.mjs';

const execFileAsync = promisify(execFile);

export const PG_BIN_DIR = process.env.BENCH_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';
const SUPERUSER = 'postgres';
const APP_ROLE = 'graticule_bench';
const DATABASE = 'gis';
const PROGRAM_TIMEOUT_MS = 300_000;

const isRoot = () => process.getuid?.() === 0;

/** A server program's command line, as the `postgres` user when we are root. */
function asPostgres(program, args) {
  const executable = path.join(PG_BIN_DIR, program);
  return isRoot() ? ['runuser', ['-u', OS_USER, '--', executable, ...args]] : [executable, args];
}

async function runProgram(program, args) {
  const [file, fileArgs] = asPostgres(program, args);
  try {
    return await execFileAsync(file, fileArgs, { cwd: os.tmpdir(), timeout: PROGRAM_TIMEOUT_MS });
  } catch (error) {
    throw new Error(`${program} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`, {
      cause: error,
    });
  }
}

/** Hands a path we created to the user the server runs as; node has no getpwnam, `id` does. */
function giveToPostgres(file) {
  if (!isRoot()) return;
  const id = (flag) => Number(execFileSync('id', [flag, OS_USER]).toString().trim());
  chownSync(file, id('-u'), id('-g'));
}

/**
 * Written to postgresql.conf. shared_buffers holds the whole points table, so every figure is
 * CPU, not disk; work_mem matches the floor's settings (pgconf.sql).
 */
function clusterSettings(port, socketDir) {
  return [
    `listen_addresses = '127.0.0.1'`,
    `port = ${port}`,
    `unix_socket_directories = '${socketDir}'`,
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'max_connections = 100',
    `shared_buffers = '512MB'`,
    `work_mem = '64MB'`,
    `password_encryption = 'scram-sha-256'`,
    'log_min_messages = warning',
    '',
  ].join('\n');
}

function pgCtlArgs(dir, command) {
  // -l keeps the server's output in a file: a server holding our pipes would keep us alive.
  return ['-D', path.join(dir, 'data'), '-l', path.join(dir, 'postgres.log'), '-w', command];
}

async function initCluster(dir, superuserPassword) {
  const passwordFile = path.join(dir, 'superuser-password');
  writeFileSync(passwordFile, `${superuserPassword}\n`, { mode: 0o600 });
  giveToPostgres(passwordFile);
  await runProgram('initdb', [
    '-D',
    path.join(dir, 'data'),
    '-U',
    SUPERUSER,
    `--pwfile=${passwordFile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  rmSync(passwordFile);
}

/** A pg client for `database` as the superuser or the application role. */
export async function connectAs(info, { database = info.database, superuser = false } = {}) {
  const client = new pg.Client({
    host: info.host,
    port: info.port,
    database,
    user: superuser ? info.superuser : info.username,
    password: superuser ? info.superuserPassword : info.password,
    application_name: 'bench',
  });
  await client.connect();
  return client;
}

async function createDatabase(info) {
  const admin = await connectAs(info, { database: 'postgres', superuser: true });
  try {
    await admin.query(`CREATE DATABASE "${info.database}"`);
    await admin.query(`CREATE ROLE "${info.username}" LOGIN PASSWORD '${info.password}'`);
  } finally {
    await admin.end();
  }
}

/**
 * Starts a cluster with database `gis` and a non-superuser login role (the one Graticule,
 * psql and pgbench all use). `destroy` stops it and removes every file; `destroySync` does
 * the same from an exit handler, where nothing asynchronous runs.
 */
export async function startCluster() {
  if (!existsSync(path.join(PG_BIN_DIR, 'initdb'))) {
    throw new Error(`no PostgreSQL in ${PG_BIN_DIR} (set BENCH_PG_BIN_DIR)`);
  }
  const secret = () => randomBytes(18).toString('base64url');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'graticule-bench-pg-'));
  mkdirSync(path.join(dir, 'socket'));
  giveToPostgres(dir);
  giveToPostgres(path.join(dir, 'socket'));

  let isRunning = false;
  const destroySync = () => {
    if (isRunning) {
      const [file, args] = asPostgres('pg_ctl', [...pgCtlArgs(dir, 'stop'), '-m', 'immediate']);
      try {
        execFileSync(file, args, { stdio: 'ignore', timeout: 60_000 });
      } catch {
        // Already gone; the files still go below.
      }
      isRunning = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const destroy = async () => {
    if (isRunning) {
      await runProgram('pg_ctl', [...pgCtlArgs(dir, 'stop'), '-m', 'fast']).catch(() => {});
      isRunning = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const superuserPassword = secret();
    await initCluster(dir, superuserPassword);
    const port = await findFreePort();
    const settings = clusterSettings(port, path.join(dir, 'socket'));
    appendFileSync(path.join(dir, 'data', 'postgresql.conf'), settings);
    await runProgram('pg_ctl', pgCtlArgs(dir, 'start'));
    isRunning = true;
    const info = {
      host: '127.0.0.1',
      port,
      database: DATABASE,
      username: APP_ROLE,
      password: secret(),
      superuser: SUPERUSER,
      superuserPassword,
      dir,
    };
    await createDatabase(info);
    return { info, destroy, destroySync };
  } catch (error) {
    destroySync();
    throw error;
  }
}

/**
 * The floor's points table (setup.sql), `count` rows: 40% uniform over the world, 60% around
 * 200 seeded "cities", since uniform data leaves z12 tiles empty. The geometry column is
 * typed, so its SRID is in the catalog, and indexed, as any table served as tiles would be.
 */
const POINTS_SQL = (count) => `
SELECT setseed(0.42);
CREATE TABLE centers AS
SELECT g AS i, random() * 340 - 170 AS lon, random() * 140 - 70 AS lat
FROM generate_series(1, 200) g;
CREATE TABLE points (
  cartodb_id bigint NOT NULL,
  the_geom geometry(Point, 4326),
  name text,
  category int,
  value float8
);
INSERT INTO points
WITH r AS (
  SELECT g, random() AS u, (1 + floor(random() * 200))::int AS c,
         sqrt(-2 * ln(1 - random())) AS rr, 2 * pi() * random() AS th
  FROM generate_series(1, ${count}) g
)
SELECT g,
       CASE WHEN u < 0.4
            THEN ST_SetSRID(ST_MakePoint(random() * 360 - 180, random() * 170 - 85), 4326)
            ELSE ST_SetSRID(ST_MakePoint(
                   greatest(-180, least(180, c.lon + 0.5 * rr * cos(th))),
                   greatest(-85, least(85, c.lat + 0.5 * rr * sin(th)))), 4326)
       END,
       'name_' || g,
       (g % 10)::int,
       round((random() * 1000)::numeric, 2)::float8
FROM r JOIN centers c ON c.i = r.c;
ALTER TABLE points ADD PRIMARY KEY (cartodb_id);
CREATE INDEX points_geom_idx ON points USING gist (the_geom);
DROP TABLE centers;
`;

/** Creates PostGIS and the points table in `gis`, readable by the application role. */
export async function loadPoints(info, count) {
  const client = await connectAs(info, { superuser: true });
  try {
    await client.query('CREATE EXTENSION postgis');
    await client.query(POINTS_SQL(count));
    await client.query(`GRANT SELECT ON points TO "${info.username}"`);
    await client.query('VACUUM ANALYZE points');
    const { rows } = await client.query('SELECT count(*)::int AS n FROM points');
    return rows[0].n;
  } finally {
    await client.end();
  }
}
