/** The printed report of the Maps API benchmark: Graticule beside its baseline, and targets. */
import { fixed, table } from './report.mjs';

const HEADERS = ['figure', 'Graticule', 'baseline', 'baseline is', 'ratio', 'target', 'verdict'];

const whole = fixed(0);
const oneDecimal = fixed(1);
const twoDecimals = fixed(2);
const ratioOf = (graticule, baseline) => graticule / baseline;
const ratio = (value) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : '-');
const atLeast = (value, target) =>
  Number.isFinite(value) ? (value >= target ? 'met' : 'MISSED') : '';
const atMost = (value, target) =>
  Number.isFinite(value) ? (value <= target ? 'met' : 'MISSED') : '';
const under = (value, target) =>
  Number.isFinite(value) ? (value < target ? 'met' : 'MISSED') : '';
const row = (
  label,
  graticule = '',
  baseline = '',
  what = '',
  r = '',
  target = '',
  verdict = '',
) => [label, graticule, baseline, what, r, target, verdict];

export const TARGETS = {
  tileThroughputRatio: 0.8,
  tileP99Ratio: 1.3,
  cacheHitRatio: 0.7,
  coldInstantiationMs: 2000,
  warmInstantiationMs: 10,
};

function tileRows(tiles) {
  return tiles.flatMap((zoom) => [
    ...zoom.runs.flatMap(({ concurrency, graticule: g, pgbench: b }) => {
      const throughput = ratioOf(g.tilesPerSecond, b.tps);
      const p99 = ratioOf(g.p99Ms, b.p99Ms);
      return [
        row(
          `tiles z${zoom.z} MVT c=${concurrency}, tiles/s`,
          whole(g.tilesPerSecond),
          whole(b.tps),
          `pgbench -c ${concurrency}, same SQL`,
          ratio(throughput),
          `>= ${TARGETS.tileThroughputRatio}x`,
          atLeast(throughput, TARGETS.tileThroughputRatio),
        ),
        row('  p50 ms', oneDecimal(g.p50Ms), oneDecimal(b.p50Ms), '', ratio(g.p50Ms / b.p50Ms)),
        row(
          '  p99 ms',
          oneDecimal(g.p99Ms),
          oneDecimal(b.p99Ms),
          '',
          ratio(p99),
          `<= ${TARGETS.tileP99Ratio}x`,
          atMost(p99, TARGETS.tileP99Ratio),
        ),
        row(
          '  server CPU per tile, ms (cores busy)',
          `${twoDecimals(g.serverCpuMsPerTile)} (${twoDecimals(g.serverCpuShare)})`,
        ),
      ];
    }),
    row(
      `  z${zoom.z} features/tile (p50, max)`,
      `${whole(zoom.features.p50)}, ${whole(zoom.features.max)}`,
      '',
      `${zoom.distinctTiles} distinct tiles`,
    ),
  ]);
}

function cacheRows(cache) {
  return cache.runs.flatMap(({ connections, graticule: g, floor: f }) => {
    const throughput = ratioOf(g.requestsPerSecond, f.requestsPerSecond);
    return [
      row(
        `cached tile c=${connections}, requests/s`,
        whole(g.requestsPerSecond),
        whole(f.requestsPerSecond),
        'empty Fastify route, same requests',
        ratio(throughput),
        `>= ${TARGETS.cacheHitRatio}x`,
        atLeast(throughput, TARGETS.cacheHitRatio),
      ),
      // autocannon records whole milliseconds.
      row(
        '  p50 / p99 ms',
        `${whole(g.p50Ms)} / ${whole(g.p99Ms)}`,
        `${whole(f.p50Ms)} / ${whole(f.p99Ms)}`,
      ),
      row(
        '  server CPU per request, µs',
        whole(g.cpuMicrosecondsPerRequest),
        whole(f.cpuMicrosecondsPerRequest),
        '',
        ratio(ratioOf(f.cpuMicrosecondsPerRequest, g.cpuMicrosecondsPerRequest)),
      ),
      row(
        '  warehouse transactions meanwhile',
        whole(g.warehouseTransactions),
        '',
        `of ${whole(g.requests)} requests`,
      ),
    ];
  });
}

function encodeRows(encode) {
  const us = encode.usPerFeature;
  const perTile = encode.tiles.map((t) => t.features);
  return [
    row(
      'binary tile over HTTP, µs/feature',
      twoDecimals(us.httpBinary),
      twoDecimals(us.httpMvt),
      'MVT tile over HTTP',
      ratio(us.httpBinary / us.httpMvt),
    ),
    row(
      '  its SQL alone, µs/feature',
      twoDecimals(us.dbJsonBinary),
      twoDecimals(us.dbMvt),
      'ST_AsMVT SQL alone',
      ratio(us.dbJsonBinary / us.dbMvt),
    ),
    row(
      '  encoder in Node, µs/feature',
      twoDecimals(us.encodeBinary),
      twoDecimals(us.encodeMvt),
      'Node MVT encoder',
      ratio(us.encodeBinary / us.encodeMvt),
    ),
    row(
      '  JSON SQL for the Node MVT encoder, µs/ft',
      twoDecimals(us.dbJsonMvt),
      '',
      '(the embedded path)',
    ),
    row(
      `  ${encode.tiles.length} densest z${encode.zoom} tiles, features`,
      `${whole(Math.min(...perTile))}-${whole(Math.max(...perTile))}`,
      '',
      `${encode.reps} rounds, medians`,
    ),
  ];
}

function spatialRows(spatial) {
  return spatial.flatMap((run) => {
    const unit = run.scheme === 'h3' ? 'res' : 'z';
    const g = run.graticule;
    const b = run.pgbench;
    return [
      row(
        `${run.scheme} ${unit}${run.tileResolution} tiles c=${run.concurrency}, tiles/s`,
        whole(g.tilesPerSecond),
        whole(b.tps),
        'pgbench, same GROUP BY',
        ratio(g.tilesPerSecond / b.tps),
      ),
      row('  p50 ms', oneDecimal(g.p50Ms), oneDecimal(b.p50Ms), '', ratio(g.p50Ms / b.p50Ms)),
      row('  p99 ms', oneDecimal(g.p99Ms), oneDecimal(b.p99Ms), '', ratio(g.p99Ms / b.p99Ms)),
      row(
        `  cells/tile at ${unit}${run.cellResolution} (p50, max)`,
        `${whole(run.cells.p50)}, ${whole(run.cells.max)}`,
        '',
        `${run.distinctTiles} distinct tiles`,
      ),
    ];
  });
}

/** `secondColdMs`: the points table's cold instantiation on the second (cached) server. */
function instantiationRows(instantiation, secondColdMs) {
  return instantiation.flatMap((source, i) => [
    row(
      `instantiate ${source.label} cold, ms`,
      whole(source.cold.ms),
      oneDecimal(source.baselineMedianMs),
      source.baselineLabel,
      ratio(source.cold.ms / source.baselineMedianMs),
      `< ${TARGETS.coldInstantiationMs} ms`,
      under(source.cold.ms, TARGETS.coldInstantiationMs),
    ),
    row(
      '  source / TileJSON request, ms',
      `${whole(source.cold.sourceMs)} / ${whole(source.cold.tilejsonMs)}`,
    ),
    ...(i === 0
      ? [
          row(
            '  cold again, on the second fresh server',
            whole(secondColdMs),
            '',
            '',
            '',
            `< ${TARGETS.coldInstantiationMs} ms`,
            under(secondColdMs, TARGETS.coldInstantiationMs),
          ),
        ]
      : []),
    row(
      `  warm, ms (median of ${source.warmMs.length})`,
      twoDecimals(source.warmMedianMs),
      '',
      '',
      '',
      `< ${TARGETS.warmInstantiationMs} ms`,
      under(source.warmMedianMs, TARGETS.warmInstantiationMs),
    ),
  ]);
}

export function printReport(results) {
  const m = results.machine;
  console.log('\nGraticule Maps API on PostgreSQL, each figure beside a baseline on this machine');
  console.log('Single short runs on a shared machine: differences under ~10-20% are noise.');
  console.log(
    `machine: ${m.cpus} cores (${m.cpuModel}), ${whole(m.totalMemMb)} MB, node ${m.node}; ` +
      `load average ${m.loadAverage1m.start.toFixed(2)} at start, ` +
      `${m.loadAverage1m.end.toFixed(2)} at end`,
  );
  const code = results.code;
  const commit = code.commit ?? '-';
  console.log(`code: commit ${commit} and the working tree, dist/ built ${code.distBuiltAt}`);
  if (code.distRebuiltAt) {
    console.log(
      `WARNING: dist/ was rebuilt during the run (${code.distRebuiltAt}); ` +
        'the two servers may have run different code',
    );
  }
  const d = results.database;
  console.log(
    `database: ${d.version}; ${whole(d.points)} points, ${whole(d.h3.rows)} H3 rows ` +
      `(${whole(d.h3.distinctCells)} cells), ${whole(d.quadbin.rows)} quadbin rows ` +
      `(${whole(d.quadbin.distinctCells)} cells)`,
  );
  console.log(
    `tile cache off except for cached tiles (${results.cache.tiles} tiles of ` +
      `${whole(results.cache.bodyBytes)} bytes on average); tile feature cap ` +
      `${whole(results.settings.maxFeatures)}\n`,
  );
  const rows = [
    ...tileRows(results.tiles),
    ...cacheRows(results.cache),
    ...encodeRows(results.encode),
    ...spatialRows(results.spatial),
    ...instantiationRows(results.instantiation, results.servers.cached.coldInstantiationMs),
  ];
  console.log(table(HEADERS, rows));
  if (results.serverLog.length > 0) {
    console.log(`\nserver warnings and errors (${results.serverLog.length}):`);
    for (const line of results.serverLog.slice(0, 10)) console.log(`  ${line}`);
  }
}
