/** Prints the benchmark results as a readable report, section by section. */
import {
  OVERHEAD_HEADERS,
  TARGETS,
  TILE_HEADERS,
  against,
  countSizeMismatches,
  mb,
  ms,
  overheadRows,
  readFloorReference,
  seconds,
  table,
  tileRows,
} from './report.mjs';

const short = (name) => name.replace('demo.', '').replace('populated_places', 'places');

function printHeader(r) {
  const { machine, settings } = r;
  console.log(`Graticule benchmark, ${r.startedAt}, ${seconds(r.durationMs)} in all`);
  console.log(
    `  node ${machine.node}, ${machine.cpus} x ${machine.cpuModel}, ${mb(machine.totalMemMb)}`,
  );
  console.log(
    `  Tiles: ${settings.tilesPerZoom} per zoom, z0-z10, seed ${settings.seed}: each is the tile holding`,
  );
  console.log(
    '  a seeded random row of demo.populated_places at that zoom; repeats kept (z0 is 0/0/0',
  );
  console.log(
    '  every time). The SAME list is used for demo.countries, so it also gets ocean/empty tiles.',
  );
  console.log(
    `  Feature cap ${settings.maxFeatures}, tileResolution 0.5, GRATICULE_TILE_CACHE_MB=0 unless noted.`,
  );
}

function printStartUp(r) {
  const { startUp, server, cached } = r;
  console.log('\n1. Start-up (spawn to /health 200)');
  const rows = [
    [
      'first start (fresh dir, demo load)',
      seconds(startUp.firstStartMs),
      '< 90 s',
      against(startUp.firstStartMs, TARGETS.firstStartMs),
    ],
    [
      'warm start (same dir)',
      seconds(server.warmStartMs),
      '< 5 s',
      against(server.warmStartMs, TARGETS.warmStartMs),
    ],
  ];
  if (cached)
    rows.push([
      'warm start again (cache on)',
      seconds(cached.startMs),
      '< 5 s',
      against(cached.startMs, TARGETS.warmStartMs),
    ]);
  rows.push([
    'stop after SIGTERM (first / warm)',
    `${seconds(startUp.firstStop.stopMs)} / ${seconds(server.stop.stopMs)}`,
    '',
    '',
  ]);
  rows.push([
    'RSS at ready after first start',
    mb(startUp.firstMemory.rssMb),
    '',
    `peak ${mb(startUp.firstMemory.peakRssMb)}`,
  ]);
  console.log(table(['measure', 'value', 'target', ''], rows));
}

function printTokens(r) {
  console.log(`\n2. Token issue, POST /oauth/token, ${r.settings.tokenSeconds} s per concurrency`);
  const rows = r.server.tokenRuns.map((t) => [
    `c=${t.concurrency}`,
    t.count,
    ms(t.tokensPerSecond, 0),
    ms(t.p50Ms, 2),
    ms(t.p99Ms, 2),
    t.errors,
  ]);
  console.log(table(['concurrency', 'tokens', 'tokens/s', 'p50 ms', 'p99 ms', 'errors'], rows));
}

function printInstantiation(r) {
  console.log('\n3. Source instantiation (warm-up; the first request for a table inspects it)');
  const rows = r.server.sources.map((s) => [
    `${s.table} ${s.format}`,
    s.rowCount,
    ms(s.instantiateMs),
    ms(s.tilejsonMs),
    s.fields.join(','),
  ]);
  console.log(table(['source', 'rows', 'instantiate ms', 'tilejson ms', 'tile properties'], rows));
}

function printTiles(r) {
  console.log('\n4. Tiles over HTTP, uncached; tiles/s is per band over its wall time');
  const rows = r.server.tileRuns.flatMap((run) =>
    tileRows(run, `${short(run.table)} ${run.format}`),
  );
  console.log(
    table(
      [...TILE_HEADERS, `z0-z6 p50 < ${TARGETS.lowZoomP50Ms} ms`],
      rows.map((row) => [...row, ...(row.length < 9 ? [''] : [])]),
    ),
  );
  const encodings = [...new Set(r.server.tileRuns.flatMap((run) => run.encodings))];
  console.log(
    `  Content-Encoding of tile responses (Accept-Encoding: gzip, deflate, br): ${encodings.join(', ')}`,
  );
  const errorSamples = r.server.tileRuns.flatMap((run) =>
    [...run.bands, run.lowZoom].flatMap((b) => b.errorSamples),
  );
  for (const e of errorSamples.slice(0, 5)) console.log(`  error sample: ${e.status} ${e.body}`);
  console.log('  /health latency while tiles ran (polled every 200 ms):');
  const health = r.server.tileRuns.map((run) => [
    `${short(run.table)} ${run.format} c=${run.concurrency}`,
    run.health.count,
    ms(run.health.p50, 2),
    ms(run.health.p99, 2),
    ms(run.health.max, 2),
  ]);
  console.log(table(['during', 'polls', 'p50 ms', 'p99 ms', 'max ms'], health));
}

function printBlocking(r) {
  const b = r.server.blocking;
  console.log(`\n5. Blocking check: SELECT pg_sleep(${b.sleepSeconds}) through the SQL API`);
  console.log(`  sleep statement: ${b.sleepStatus} in ${ms(b.sleepMs, 0)} ms`);
  console.log(
    `  /health during it: ${b.health.count} polls, p50 ${ms(b.health.p50, 2)} ms, p99 ${ms(b.health.p99, 2)} ms, max ${ms(b.health.max, 2)} ms, ${b.healthFailures} failed`,
  );
  console.log(
    `  ${b.blockedTiles.length} places z8 MVT tiles fired ${ms(b.tilesFiredAtMs, 0)} ms in (expect ~${ms(b.expectedWaitMs, 0)} ms queued behind the sleep):`,
  );
  const rows = b.blockedTiles.map((t, i) => [
    `${t.z}/${t.x}/${t.y}`,
    t.status,
    ms(t.ms, 0),
    ms(b.unblockedTiles[i].ms, 1),
  ]);
  console.log(table(['tile', 'status', 'ms during sleep', 'ms after'], rows));
}

function printRaw(r) {
  console.log(
    '\n6. Raw warehouse: same tiles, same SQL (dist/maps/tiles/tile-query.js), in-process PGlite,',
  );
  console.log(
    `  no HTTP/worker/queue, one at a time (opened in ${ms(r.raw.openMs, 0)} ms). Server column is c=1 over HTTP;`,
  );
  console.log(
    '  "encode" is decode-JSON + encode in JS (the server does it on its main thread); difference = server - (SQL+enc).',
  );
  const rows = r.raw.runs.flatMap((raw) => {
    const run = r.server.tileRuns.find(
      (t) => t.table === raw.table && t.format === raw.format && t.concurrency === 1,
    );
    return run ? overheadRows(`${short(raw.table)} ${raw.format}`, run, raw.results) : [];
  });
  console.log(table(OVERHEAD_HEADERS, rows));
  for (const raw of r.raw.runs) {
    const run = r.server.tileRuns.find(
      (t) => t.table === raw.table && t.format === raw.format && t.concurrency === 1,
    );
    if (!run) continue;
    const check = countSizeMismatches(run, raw.results);
    const detail = check.examples
      .map((e) => `${e.z}/${e.x}/${e.y} ${e.status} ${e.bytes} B`)
      .join('; ');
    console.log(
      `  body size, server vs in-process encoding, ${short(raw.table)} ${raw.format}: ${check.mismatched}/${check.checked} differ${detail ? ` (${detail})` : ''}`,
    );
  }
  const floor = readFloorReference(r.floorSummaryPath);
  if (floor.length === 0) return;
  console.log(
    `  REFERENCE from another run (${r.floorSummaryPath}; 1:10m countries, cap 10k or none, ms/tile p50):`,
  );
  const line = (rows) =>
    rows.map((f) => `z${f.z}${f.cap === '-' ? '' : ` cap${f.cap}`} ${f.p50ms}`).join(', ');
  console.log(`    cities strategy E: ${line(floor.filter((f) => f.table === 'cities'))}`);
  console.log(`    countries strategy D: ${line(floor.filter((f) => f.table === 'countries'))}`);
}

function printCached(r) {
  if (!r.cached) return;
  console.log('\n7. Cached tiles (GRATICULE_TILE_CACHE_MB=128, second pass over the same list)');
  console.log(
    table(
      TILE_HEADERS,
      tileRows(r.cached, `${short(r.cached.table)} ${r.cached.format} cached`).map((row) =>
        row.slice(0, 8),
      ),
    ),
  );
}

function printMemory(r) {
  console.log('\n8. Server memory (VmRSS of the server process, worker thread included)');
  const rows = r.server.memory.map((m) => [m.after, mb(m.rssMb), mb(m.peakRssMb)]);
  console.log(table(['after', 'RSS', 'peak (VmHWM)'], rows));
  console.log(`  highest sampled RSS during the uncached run: ${mb(r.server.peakSampledRssMb)}`);
  if (r.cached) console.log(`  cached server after its pass: RSS ${mb(r.cached.memory.rssMb)}`);
}

function printServerLog(r) {
  console.log(`\n9. Server log: ${r.serverLog.length} warning/error lines`);
  const counts = new Map();
  for (const line of r.serverLog) counts.set(line, (counts.get(line) ?? 0) + 1);
  for (const [line, count] of [...counts].slice(0, 10)) console.log(`  ${count} x ${line}`);
}

export function printReport(results) {
  printHeader(results);
  printStartUp(results);
  printTokens(results);
  printInstantiation(results);
  printTiles(results);
  printBlocking(results);
  printRaw(results);
  printCached(results);
  printMemory(results);
  printServerLog(results);
}
