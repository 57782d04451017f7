/**
 * The ceiling for a cached tile: a Fastify server with one route answering a fixed body to every
 * GET path, run in its own process on the loopback interface, so it gets the CPU a Graticule
 * process would and can be sent exactly the requests Graticule is sent (same paths, query
 * strings and headers), leaving the load generator's work the same on both sides.
 * Run directly it serves (`node maps-empty-route.mjs <port> <bytes> <content-type>`); imported,
 * `startEmptyRoute` spawns it and resolves once it answers.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { findFreePort } from './server.mjs';

const HOST = '127.0.0.1';
export const EMPTY_ROUTE_PATH = '/*';
const START_TIMEOUT_MS = 30_000;
const THIS_FILE = fileURLToPath(import.meta.url);

const children = new Set();

async function serve(port, bytes, contentType) {
  const { default: Fastify } = await import('fastify');
  const body = Buffer.alloc(bytes, 7);
  const app = Fastify({ logger: false });
  app.get(EMPTY_ROUTE_PATH, (request, reply) => reply.type(contentType).send(body));
  await app.listen({ host: HOST, port });
}

function answers(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** Starts the route in a child process; `stop` ends it, `url` is the route. */
export async function startEmptyRoute({ bytes, contentType }) {
  const port = await findFreePort();
  const child = spawn(process.execPath, [THIS_FILE, String(port), String(bytes), contentType], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let hasExited = false;
  exited.then(() => {
    hasExited = true;
    children.delete(child);
  });
  const baseUrl = `http://${HOST}:${port}`;
  const url = `${baseUrl}/tile`;
  const startedAt = performance.now();
  while (!(await answers(url))) {
    if (hasExited) throw new Error('the empty Fastify route exited before answering');
    if (performance.now() - startedAt > START_TIMEOUT_MS) {
      throw new Error(`the empty Fastify route did not answer in ${START_TIMEOUT_MS} ms`);
    }
    await delay(50);
  }
  return {
    url,
    baseUrl,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** For failures and signals, where waiting is not an option. */
export function killEmptyRoutes() {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

if (process.argv[1] === THIS_FILE) {
  const [port, bytes, contentType] = process.argv.slice(2);
  await serve(Number(port), Number(bytes), contentType);
}
