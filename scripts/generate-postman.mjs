/**
 * Writes postman/Graticule.postman_collection.json and postman/Graticule.postman_environment.json
 * from the OpenAPI document of the built server: starts `node dist/main.js` on a free loopback
 * port with a temporary data directory and no demo data, reads /openapi.json, runs the compiled
 * generator (dist/openapi/postman.js) and stops the server. Builds nothing: run
 * `npm run build` first.
 */
/* global fetch, setTimeout, clearTimeout */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import prettier from 'prettier';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = path.join(ROOT, 'postman');
const FILES = {
  collection: 'Graticule.postman_collection.json',
  environment: 'Graticule.postman_environment.json',
};
const START_TIMEOUT_MS = 180_000;

async function findFreePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function fetchWhenUp(url, child, output) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited:\n${output()}`);
    try {
      const response = await fetch(url);
      if (response.ok) return await response.json();
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`the server did not answer ${url}:\n${output()}`);
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function writeJson(file, value) {
  const config = (await prettier.resolveConfig(file)) ?? {};
  const text = await prettier.format(JSON.stringify(value), { ...config, filepath: file });
  writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}

async function main() {
  const generator = path.join(ROOT, 'dist/openapi/postman.js');
  if (!existsSync(path.join(ROOT, 'dist/main.js')) || !existsSync(generator)) {
    throw new Error('dist/ has no build of the server: run `npm run build` first');
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-postman-'));
  const port = await findFreePort();
  let output = '';
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/main.js')], {
    cwd: ROOT,
    env: {
      // The document must not depend on this machine's settings: none of them is passed on.
      ...Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !name.startsWith('GRATICULE_')),
      ),
      HOST: '127.0.0.1',
      PORT: String(port),
      GRATICULE_DATA_DIR: dataDir,
      GRATICULE_DEMO_DATA: 'false',
      GRATICULE_LOG_LEVEL: 'warn',
      // Throwaway credentials, so the server prints no generated secret.
      GRATICULE_BOOTSTRAP_CLIENT_ID: 'postman-generator',
      GRATICULE_BOOTSTRAP_CLIENT_SECRET: randomBytes(24).toString('hex'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  try {
    const document = await fetchWhenUp(
      `http://127.0.0.1:${port}/openapi.json`,
      child,
      () => output,
    );
    const { generatePostman } = await import(pathToFileURL(generator).href);
    const { collection, environment } = generatePostman(document);
    mkdirSync(OUT_DIR, { recursive: true });
    await writeJson(path.join(OUT_DIR, FILES.collection), collection);
    await writeJson(path.join(OUT_DIR, FILES.environment), environment);
    const requests = collection.item.reduce((count, folder) => count + folder.item.length, 0);
    process.stdout.write(
      `Wrote postman/${FILES.collection} (${collection.item.length} folders, ${requests} ` +
        `requests) and postman/${FILES.environment}\n`,
    );
  } finally {
    await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
  process.exitCode = 1;
});
