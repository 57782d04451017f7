/**
 * Reads a V8 `.cpuprofile` of the server (node --cpu-prof) and tells where its busy time went
 * during given windows of the run: by package (own time, and time with the package anywhere on
 * the stack) and by function. Profile timestamps are CLOCK_MONOTONIC microseconds, the clock
 * of `process.hrtime`, so windows taken here line up with the server's samples.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const IDLE = '(idle)';

/** Microseconds on the clock the profile uses. */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** Where a frame's code lives: an npm package, a Graticule module, Node itself, or V8. */
function packageOf(frame) {
  const url = frame.url ?? '';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inModules) return inModules[1];
  const inDist = /\/dist\/([^/]+)\//.exec(url);
  if (inDist) return `graticule/${inDist[1]}`;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0];
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  return path.basename(url);
}

function describeFrame(frame) {
  const name = frame.functionName || '(anonymous)';
  const where = frame.url ? `${packageOf(frame)} ${path.basename(frame.url)}` : packageOf(frame);
  return `${name} [${where}:${frame.lineNumber + 1}]`;
}

/**
 * The main thread's `.cpuprofile` in `dir`. Node writes one per thread, named
 * `CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile`; the main thread's id is 0. Work Node
 * hands to libuv's pool (WebCrypto, scrypt, file I/O) is in none of them.
 */
export function readProfile(dir) {
  const file = readdirSync(dir).find((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name));
  if (!file) throw new Error(`no main-thread .cpuprofile in ${dir}`);
  return JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
}

/** Per node: its frame's package and the packages of every frame on its stack. */
function indexNodes(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }
  const stackPackages = new Map();
  const packagesOnStack = (id) => {
    if (stackPackages.has(id)) return stackPackages.get(id);
    const parent = parentOf.get(id);
    const packages = new Set(parent === undefined ? [] : packagesOnStack(parent));
    packages.add(packageOf(byId.get(id).callFrame));
    stackPackages.set(id, packages);
    return packages;
  };
  return { byId, packagesOnStack };
}

const top = (counts, n) => [...counts].sort((a, b) => b[1] - a[1]).slice(0, n);
const add = (counts, key, value) => counts.set(key, (counts.get(key) ?? 0) + value);

/**
 * Busy milliseconds in each window (`{name, startUs, endUs}`), by package and by function;
 * idle samples are counted apart.
 */
export function summarizeProfile(profile, windows, { packages = 12, functions = 12 } = {}) {
  const { byId, packagesOnStack } = indexNodes(profile);
  const summaries = windows.map((window) => ({
    ...window,
    busyMs: 0,
    idleMs: 0,
    self: new Map(),
    onStack: new Map(),
    functions: new Map(),
  }));
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i += 1) {
    at += profile.timeDeltas[i];
    const weightMs = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const summary = summaries.find((w) => at >= w.startUs && at < w.endUs);
    if (!summary || weightMs <= 0) continue;
    const node = byId.get(profile.samples[i]);
    const frame = node.callFrame;
    if (frame.functionName === IDLE) {
      summary.idleMs += weightMs;
      continue;
    }
    summary.busyMs += weightMs;
    add(summary.self, packageOf(frame), weightMs);
    add(summary.functions, describeFrame(frame), weightMs);
    for (const name of packagesOnStack(node.id)) add(summary.onStack, name, weightMs);
  }
  return summaries.map((s) => ({
    name: s.name,
    count: s.count,
    busyMs: s.busyMs,
    idleMs: s.idleMs,
    self: top(s.self, packages),
    onStack: top(s.onStack, packages + 4),
    functions: top(s.functions, functions),
  }));
}
