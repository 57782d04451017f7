/**
 * A throwaway PostgreSQL + PostGIS cluster for the test run, built from Debian's packages:
 * `initdb` into a temporary directory, a free loopback port, password (SCRAM) authentication
 * over TCP, and durability switched off because nothing here must survive a crash.
 *
 * initdb and postgres refuse to run as root, so when the tests run as root every PostgreSQL
 * program runs as the `postgres` user through `runuser`.
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
import { findFreePort } from './server-process.js';

const execFileAsync = promisify(execFile);

/** What a test needs to reach the cluster; shared with test files through `inject`. */
export interface PostgresInfo {
  host: string;
  port: number;
  database: string;
  /** A login role without superuser rights that owns `schema`. */
  username: string;
  password: string;
  /** The schema owned by `username`, first on its search path; tests create tables there. */
  schema: string;
  superuser: string;
  superuserPassword: string;
  /** The cluster's data directory, for `pg_ctl`. */
  dataDir: string;
  /** Directory of `pg_ctl`, `initdb` and `postgres`. */
  binDir: string;
}

export const POSTGRES_REQUIRED_MESSAGE =
  'PostgreSQL 15 and PostGIS are required: ' +
  'apt-get install postgresql-15 postgresql-15-postgis-3';

const DEBIAN_BIN_DIR = '/usr/lib/postgresql/15/bin';
const DEBIAN_SHARE_DIR = '/usr/share/postgresql/15';
const OS_USER = 'postgres';

const APP_ROLE = 'graticule_app';
const DATABASE = 'gis';
const SUPERUSER = 'postgres';

// Settings for a cluster that lives for one test run; written to postgresql.conf so a
// restart from a test keeps them.
function clusterSettings(port: number, socketDir: string): string {
  return [
    `listen_addresses = '127.0.0.1'`,
    `port = ${port}`,
    `unix_socket_directories = '${socketDir}'`,
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'max_connections = 100',
    `password_encryption = 'scram-sha-256'`,
    'log_min_messages = warning',
    '',
  ].join('\n');
}

async function pgConfigDir(flag: '--bindir' | '--sharedir', fallback: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync('pg_config', [flag]);
    const dir = stdout.trim();
    // pg_config may belong to another major version (libpq-dev); only trust a 15 install.
    if (dir.includes('/15') && existsSync(dir)) return dir;
  } catch {
    // pg_config is not installed; Debian's layout is the fallback
  }
  return fallback;
}

/** Where PostgreSQL 15 and PostGIS live, or null when either is missing. */
export async function findPostgresInstall(): Promise<{ binDir: string } | null> {
  const binDir = await pgConfigDir('--bindir', DEBIAN_BIN_DIR);
  const shareDir = await pgConfigDir('--sharedir', DEBIAN_SHARE_DIR);
  const hasServer = ['initdb', 'pg_ctl', 'postgres'].every((name) =>
    existsSync(path.join(binDir, name)),
  );
  const hasPostgis = existsSync(path.join(shareDir, 'extension', 'postgis.control'));
  return hasServer && hasPostgis ? { binDir } : null;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** File and arguments that run a PostgreSQL program, as the `postgres` user when root. */
function postgresCommand(binDir: string, program: string, args: string[]): [string, string[]] {
  const executable = path.join(binDir, program);
  return isRoot() ? ['runuser', ['-u', OS_USER, '--', executable, ...args]] : [executable, args];
}

/** Runs a PostgreSQL program, as the `postgres` user when we are root. */
export async function runPostgresProgram(binDir: string, program: string, args: string[]) {
  const [file, fileArgs] = postgresCommand(binDir, program, args);
  try {
    return await execFileAsync(file, fileArgs, { cwd: os.tmpdir(), timeout: 120_000 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${program} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`, {
      cause: error,
    });
  }
}

function pgCtlArgs(info: Pick<PostgresInfo, 'dataDir'>, command: string): string[] {
  // -l keeps the server's output in a file: a server writing to our pipes would keep them open.
  const logFile = path.join(path.dirname(info.dataDir), 'postgres.log');
  return ['-D', info.dataDir, '-l', logFile, '-w', '-t', '60', command];
}

/** Restarts the cluster, ending every session (`pg_ctl restart -m fast`). */
export async function restartCluster(info: Pick<PostgresInfo, 'dataDir' | 'binDir'>) {
  await runPostgresProgram(info.binDir, 'pg_ctl', [...pgCtlArgs(info, 'restart'), '-m', 'fast']);
}

/** Stops the cluster at once, without a checkpoint (`pg_ctl stop -m immediate`). */
export async function stopCluster(info: Pick<PostgresInfo, 'dataDir' | 'binDir'>) {
  await runPostgresProgram(info.binDir, 'pg_ctl', [...pgCtlArgs(info, 'stop'), '-m', 'immediate']);
}

/** Starts a cluster stopped by `stopCluster`. */
export async function startCluster(info: Pick<PostgresInfo, 'dataDir' | 'binDir'>) {
  await runPostgresProgram(info.binDir, 'pg_ctl', pgCtlArgs(info, 'start'));
}

/** uid and gid of the `postgres` user; node has no getpwnam, `id` is the portable way. */
function postgresUserIds(): { uid: number; gid: number } {
  const read = (flag: string) => Number(execFileSync('id', [flag, OS_USER]).toString().trim());
  return { uid: read('-u'), gid: read('-g') };
}

/** Hands a path we created to the user PostgreSQL runs as. */
function giveToPostgres(file: string): void {
  if (!isRoot()) return;
  const { uid, gid } = postgresUserIds();
  chownSync(file, uid, gid);
}

function makeClusterDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'graticule-pg-'));
  mkdirSync(path.join(dir, 'socket'));
  giveToPostgres(dir);
  giveToPostgres(path.join(dir, 'socket'));
  return dir;
}

async function initCluster(binDir: string, dir: string, superuserPassword: string) {
  const dataDir = path.join(dir, 'data');
  const passwordFile = path.join(dir, 'superuser-password');
  writeFileSync(passwordFile, `${superuserPassword}\n`, { mode: 0o600 });
  giveToPostgres(passwordFile);

  await runPostgresProgram(binDir, 'initdb', [
    '-D',
    dataDir,
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
  return dataDir;
}

async function createTestDatabase(info: PostgresInfo): Promise<void> {
  const connect = async (database: string) => {
    const client = new pg.Client({
      host: info.host,
      port: info.port,
      database,
      user: info.superuser,
      password: info.superuserPassword,
    });
    await client.connect();
    return client;
  };

  const admin = await connect('postgres');
  try {
    await admin.query(`CREATE DATABASE "${info.database}"`);
    await admin.query(`CREATE ROLE "${info.username}" LOGIN PASSWORD '${info.password}'`);
  } finally {
    await admin.end();
  }

  const gis = await connect(info.database);
  try {
    await gis.query('CREATE EXTENSION postgis');
    await gis.query(`CREATE SCHEMA "${info.schema}" AUTHORIZATION "${info.username}"`);
  } finally {
    await gis.end();
  }
}

/** A running throwaway cluster; `destroy()` stops it and removes every file. */
export interface PostgresCluster {
  info: PostgresInfo;
  destroy(): Promise<void>;
}

/**
 * Creates and starts a cluster with database `gis` (PostGIS installed), a superuser and a
 * non-superuser role owning a schema of the same name, all with random passwords.
 */
export async function startPostgresCluster(binDir: string): Promise<PostgresCluster> {
  const secret = () => randomBytes(18).toString('base64url');

  const dir = makeClusterDir();
  const superuserPassword = secret();
  const dataDir = await initCluster(binDir, dir, superuserPassword);
  const port = await findFreePort();
  appendFileSync(path.join(dataDir, 'postgresql.conf'), clusterSettings(port, `${dir}/socket`));
  const info: PostgresInfo = {
    host: '127.0.0.1',
    port,
    database: DATABASE,
    username: APP_ROLE,
    password: secret(),
    schema: APP_ROLE,
    superuser: SUPERUSER,
    superuserPassword,
    dataDir,
    binDir,
  };

  // When the run is interrupted before its teardown, stop the server on the way out
  // instead of leaving it running; execFileSync because 'exit' handlers cannot wait.
  const stopOnExit = () => {
    try {
      execFileSync(
        ...postgresCommand(binDir, 'pg_ctl', [...pgCtlArgs(info, 'stop'), '-m', 'immediate']),
      );
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopOnExit);
  const destroy = async () => {
    process.removeListener('exit', stopOnExit);
    await stopCluster(info).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await startCluster(info);
    await createTestDatabase(info);
  } catch (error) {
    await destroy();
    throw error;
  }
  return { info, destroy };
}
