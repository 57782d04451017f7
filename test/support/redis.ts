/**
 * A throwaway Redis for tests, from Debian's `redis-server`: a free loopback port, a temporary
 * directory and no persistence. Without redis-server, `describeWithRedis` registers its suite
 * as skipped, so the report shows the tests that did not run, unless
 * `GRATICULE_REQUIRE_REDIS=1` (CI) makes the missing server a failure.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import { findFreePort } from './server-process.js';

const REDIS_SERVER = '/usr/bin/redis-server';

export const REDIS_REQUIRED_MESSAGE = 'Redis is required: apt-get install redis-server';

export interface RedisServerOptions {
  /** Sets `requirepass`, so clients must authenticate. */
  password?: string;
}

/** A running throwaway Redis; it keeps its port across `stop()` and `start()`. */
export interface RedisServer {
  port: number;
  /** `redis://` URL of the server, with `password` in it when given. */
  url(password?: string): string;
  /** Kills the server (SIGKILL), as a crash would; its data is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open but nothing answers. */
  pause(): void;
  resume(): void;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
}

/** The redis-server program, or null when it is not installed and not required. */
export function redisServerOrSkip(): string | null {
  if (existsSync(REDIS_SERVER)) return REDIS_SERVER;
  if (process.env['GRATICULE_REQUIRE_REDIS'] === '1') throw new Error(REDIS_REQUIRED_MESSAGE);
  return null;
}

/**
 * `describe` that runs only with redis-server installed. Without it every test of the suite is
 * reported as skipped, or the file fails when `GRATICULE_REQUIRE_REDIS=1`.
 */
export function describeWithRedis(name: string, suite: () => void): void {
  if (redisServerOrSkip() === null) {
    process.stderr.write(`WARNING: skipping '${name}'. ${REDIS_REQUIRED_MESSAGE}\n`);
    describe.skip(`${name} (redis-server is not installed)`, suite);
    return;
  }
  describe(name, suite);
}

/** Answers whether a Redis answers on `port`: PONG, or NOAUTH when it wants a password. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    socket.once('data', (data) => {
      socket.destroy();
      resolve(/^(\+PONG|-NOAUTH)/.test(data.toString('latin1')));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Starts a throwaway redis-server on 127.0.0.1; the caller destroys it. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const program = redisServerOrSkip();
  if (program === null) throw new Error(REDIS_REQUIRED_MESSAGE);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'graticule-redis-'));
  const port = await findFreePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--dir', dir);
  if (options.password) args.push('--requirepass', options.password);
  let child: ChildProcess | null = null;
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  const start = async () => {
    let output = '';
    const started = spawn(program, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child = started;
    const deadline = Date.now() + 15_000;
    while (!(await answersPing(port))) {
      if (started.exitCode !== null || Date.now() > deadline) {
        started.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${port}:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    port,
    url: (password) => `redis://${password ? `:${password}@` : ''}127.0.0.1:${port}`,
    stop,
    start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    destroy: async () => {
      await stop();
      process.removeListener('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
