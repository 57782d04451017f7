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

const say = (...lines) => console.log(lines.join('\n'));
const short = (name) => name.replace('demo.', '').replace('populated_places', 'places');
const runLabel = (run) => `${short(run.table)} ${run.format}`;

function printHeader(r) {
  const { machine, settings } = r;
  const load = machine.loadAverage1m;
  say(
    `Graticule benchmark, ${r.startedAt}, ${seconds(r.durationMs)} in all`,
    `  node ${machine.node}, ${machine.cpus} x ${machine.cpuModel}, ${mb(machine.totalMemMb)}`,
    `  load average (1 min): ${load.start.toFixed(2)} at start, ${load.end.toFixed(2)} at end` +
      ' (shared machine; figures move with it)',
    `  Tiles: ${settings.tilesPerZoom} per zoom z0-z10 (seed ${settings.seed}),` +
      ' each the tile holding a',
    '  seeded random row of demo.populated_places at that zoom; repeats kept (z0 is 0/0/0 each',
    '  time). The SAME list serves demo.countries, so it may also get ocean/empty tiles.',
    `  Feature cap ${settings.maxFeatures}, tileResolution 0.5, cache off unless noted.`,
  );
}

function startRow(name, valueMs, target) {
  const limit = `< ${target / 1000} s`;
  return [name, seconds(valueMs), limit, against(valueMs, target)];
}

function printStartUp(r) {
  const { startUp, server, cached } = r;
  const rows = [
    startRow('first start (fresh dir, demo load)', startUp.firstStartMs, TARGETS.firstStartMs),
    startRow('warm start (same dir)', server.warmStartMs, TARGETS.warmStartMs),
  ];
  if (cached)
    rows.push(startRow('warm start again (cache on)', cached.startMs, TARGETS.warmStartMs));
  const stops = `${seconds(startUp.firstStop.stopMs)} / ${seconds(server.stop.stopMs)}`;
  rows.push(['stop after SIGTERM (first / warm)', stops, '', '']);
  const { rssMb, peakRssMb } = startUp.firstMemory;
  rows.push(['RSS at ready, first start', mb(rssMb), '', `peak ${mb(peakRssMb)}`]);
  say('\n1. Start-up (spawn to /health 200)', table(['measure', 'value', 'target', ''], rows));
}

function printTokens(r) {
  const rows = r.server.tokenRuns.map((t) => [
    `c=${t.concurrency}`,
    t.count,
    ms(t.tokensPerSecond, 0),
    ms(t.p50Ms, 2),
    ms(t.p99Ms, 2),
    t.errors,
  ]);
  say(
    `\n2. Token issue, POST /oauth/token, ${r.settings.tokenSeconds} s per concurrency`,
    table(['concurrency', 'tokens', 'tokens/s', 'p50 ms', 'p99 ms', 'errors'], rows),
  );
}

function printInstantiation(r) {
  const rows = r.server.sources.map((s) => [
    `${s.table} ${s.format}`,
    s.rowCount,
    ms(s.instantiateMs),
    ms(s.tilejsonMs),
    s.fields.join(','),
  ]);
  const headers = ['source', 'rows', 'instantiate ms', 'tilejson ms', 'tile properties'];
  say(
    '\n3. Source instantiation (warm-up; the first request for a table inspects it)',
    table(headers, rows),
  );
}

function printTiles(r) {
  const runs = r.server.tileRuns;
  const rows = runs.flatMap((run) => tileRows(run, runLabel(run)));
  const padded = rows.map((row) => [...row, ...(row.length < 9 ? [''] : [])]);
  const encodings = [...new Set(runs.flatMap((run) => run.encodings))].join(', ');
  say(
    '\n4. Tiles over HTTP, uncached; tiles/s per band over its wall time; one warehouse worker,',
    '   so c=8 queues rather than runs in parallel',
    table([...TILE_HEADERS, `z0-z6 p50 < ${TARGETS.lowZoomP50Ms} ms`], padded),
    `  Content-Encoding of tiles (we send Accept-Encoding: gzip, deflate, br): ${encodings}`,
  );
  const errors = runs.flatMap((run) => run.bands.flatMap((b) => b.errorSamples));
  for (const e of errors.slice(0, 5)) say(`  error sample: ${e.status} ${e.body}`);

  const health = runs.map((run) => [
    `${runLabel(run)} c=${run.concurrency}`,
    run.health.count,
    ms(run.health.p50, 2),
    ms(run.health.p99, 2),
    ms(run.health.max, 2),
    ms(run.clientLagMaxMs, 0),
  ]);
  const headers = ['during', 'polls', 'p50 ms', 'p99 ms', 'max ms', 'bench own max lag ms'];
  say('  /health latency while tiles ran (polled every 200 ms):', table(headers, health));
}

function printFixedCosts(r) {
  const rows = r.server.fixedCosts.map((f) => [
    f.name,
    f.count,
    f.statuses.join(','),
    ms(f.p50, 2),
    ms(f.p99, 2),
  ]);
  say(
    '\n5a. Fixed cost per request, one at a time',
    table(['request', 'n', 'status', 'p50 ms', 'p99 ms'], rows),
  );
}

function printBlocking(r) {
  const b = r.server.blocking;
  const h = b.health;
  const rows = b.blockedTiles.map((t, i) => [
    `${t.z}/${t.x}/${t.y}`,
    t.status,
    ms(t.ms, 0),
    ms(b.unblockedTiles[i].ms, 1),
  ]);
  say(
    `\n5b. Blocking check: SELECT pg_sleep(${b.sleepSeconds}) through the SQL API`,
    `  sleep statement: ${b.sleepStatus} in ${ms(b.sleepMs, 0)} ms`,
    `  /health meanwhile: ${h.count} polls, p50 ${ms(h.p50, 2)} ms, p99 ${ms(h.p99, 2)} ms,` +
      ` max ${ms(h.max, 2)} ms, ${b.healthFailures} failed`,
    `  ${rows.length} places z8 MVT tiles sent ${ms(b.tilesFiredAtMs, 0)} ms in; they wait in` +
      ` the warehouse queue (expected ~${ms(b.expectedWaitMs, 0)} ms):`,
    table(['tile', 'status', 'ms during sleep', 'ms after'], rows),
  );
}

const serverRunFor = (r, raw) =>
  r.server.tileRuns.find(
    (t) => t.table === raw.table && t.format === raw.format && t.concurrency === 1,
  );

function printRaw(r) {
  const rows = r.raw.runs.flatMap((raw) => {
    const run = serverRunFor(r, raw);
    return run ? overheadRows(runLabel(raw), run, raw.results) : [];
  });
  say(
    '\n6. Raw warehouse: the same tiles and SQL (dist/maps/tiles/tile-query.js) on the same data',
    `   directory, in-process PGlite (opened in ${ms(r.raw.openMs, 0)} ms): no HTTP, worker or` +
      ' queue, one at a time.',
    '   server = c=1 over HTTP; encode = JSON to features + MVT/binary encoding in JS (the server',
    '   encodes large tiles in its encoder pool); difference = server - (SQL+enc): transfer, HTTP,',
    '   auth, plus noise (the two sides ran minutes apart).',
    table(OVERHEAD_HEADERS, rows),
  );
  printConsistency(r);
  printFloorReference(r);
}

/** The server's bodies and properties must match what the same SQL and encoders give here. */
function printConsistency(r) {
  for (const raw of r.raw.runs) {
    const run = serverRunFor(r, raw);
    if (!run) continue;
    const check = countSizeMismatches(run, raw.results);
    const examples = check.examples.map((e) => `${e.z}/${e.x}/${e.y} ${e.status} ${e.bytes} B`);
    const source = r.server.sources.find((s) => s.table === raw.table && s.format === raw.format);
    const sameProperties = source?.fields.join(',') === raw.properties.join(',');
    say(
      `  ${runLabel(raw)}: ${check.mismatched}/${check.checked} bodies differ in size from` +
        ` in-process encoding${examples.length ? ` (${examples.join('; ')})` : ''};` +
        ` properties ${sameProperties ? 'match' : 'DIFFER from'} TileJSON`,
    );
  }
}

function printFloorReference(r) {
  const floor = readFloorReference(r.floorSummaryPath);
  if (floor.length === 0) return;
  const line = (rows) =>
    rows.map((f) => `z${f.z}${f.cap === '-' ? '' : ` cap${f.cap}`} ${f.p50ms}`).join(', ');
  say(
    '  REFERENCE, another run on another day (bench-floor/embedded/results/summary.txt):',
    '  p50 ms/tile, 1:10m countries, cap 10k or none, so compare shapes, not figures:',
    `    cities, strategy E: ${line(floor.filter((f) => f.table === 'cities'))}`,
    `    countries, strategy D: ${line(floor.filter((f) => f.table === 'countries'))}`,
  );
}

function printCached(r) {
  if (!r.cached) return;
  const rows = tileRows(r.cached, `${runLabel(r.cached)} cached`).map((row) => row.slice(0, 8));
  say(
    '\n7. Cached tiles (GRATICULE_TILE_CACHE_MB=128; one pass to fill, this is the second)',
    table(TILE_HEADERS, rows),
  );
}

function printMemory(r) {
  const rows = r.server.memory.map((m) => [m.after, mb(m.rssMb), mb(m.peakRssMb)]);
  say(
    '\n8. Server memory (VmRSS of the server process, worker thread included)',
    table(['after', 'RSS', 'peak (VmHWM)'], rows),
    `  highest sampled RSS during the uncached run: ${mb(r.server.peakSampledRssMb)}`,
  );
  if (r.cached) say(`  cached server after its pass: RSS ${mb(r.cached.memory.rssMb)}`);
}

function printServerLog(r) {
  say(`\n9. Server log: ${r.serverLog.length} warning/error lines`);
  const counts = new Map();
  for (const line of r.serverLog) counts.set(line, (counts.get(line) ?? 0) + 1);
  for (const [line, count] of [...counts].slice(0, 10)) say(`  ${count} x ${line}`);
}

export function printReport(results) {
  printHeader(results);
  printStartUp(results);
  printTokens(results);
  printInstantiation(results);
  printTiles(results);
  printFixedCosts(results);
  printBlocking(results);
  printRaw(results);
  printCached(results);
  printMemory(results);
  printServerLog(results);
}
