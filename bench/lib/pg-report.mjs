/** The printed report of the PostgreSQL benchmark: one table, Graticule beside its baseline. */
import { fixed } from './report.mjs';

const HEADERS = ['figure', 'Graticule', 'baseline', 'baseline is', 'ratio', 'target'];

const whole = fixed(0);
const oneDecimal = fixed(1);
const ratio = (graticule, baseline) =>
  Number.isFinite(graticule / baseline) ? `${(graticule / baseline).toFixed(2)}x` : '-';

function formatTable(rows) {
  const widths = HEADERS.map((_, i) =>
    Math.max(...[HEADERS, ...rows].map((r) => `${r[i]}`.length)),
  );
  const line = (cells) =>
    cells
      .map((cell, i) => (i === 0 ? `${cell}`.padEnd(widths[i]) : `${cell}`.padStart(widths[i])))
      .join('  ');
  return [line(HEADERS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function sqlRows(sql) {
  return sql.flatMap((run) => {
    const rows = [
      [
        `SQL API ${whole(run.rows)} rows, rows/s (median)`,
        whole(run.graticuleRowsPerSecond),
        whole(run.psqlRowsPerSecond),
        'psql --csv',
        ratio(run.graticuleRowsPerSecond, run.psqlRowsPerSecond),
        '>= 0.5x',
      ],
    ];
    rows.push([
      `  server CPU per request, ms (of wall ms)`,
      `${whole(run.serverCpuMs)} (${whole((run.rows * 1000) / run.graticuleRowsPerSecond)})`,
      '',
      '',
      '',
      '',
    ]);
    if (run.peakRssGrowthMb !== null) {
      rows.push([
        `  server RSS growth streaming it, MB`,
        oneDecimal(run.peakRssGrowthMb),
        '',
        `idle ${whole(run.idleRssMb)} MB`,
        '',
        '< 64 MB',
      ]);
    }
    if (run.csvRowsPerSecond !== undefined) {
      rows.push(
        [
          `  as CSV (Accept: text/csv), rows/s`,
          whole(run.csvRowsPerSecond),
          whole(run.psqlRowsPerSecond),
          'psql --csv',
          ratio(run.csvRowsPerSecond, run.psqlRowsPerSecond),
          '>= 0.5x',
        ],
        [
          `  its server CPU per request, ms (of wall ms)`,
          `${whole(run.csvServerCpuMs)} (${whole((run.rows * 1000) / run.csvRowsPerSecond)})`,
          '',
          '',
          '',
          '',
        ],
      );
      if (run.csvPeakRssGrowthMb !== null) {
        rows.push([
          `  server RSS growth streaming the CSV, MB`,
          oneDecimal(run.csvPeakRssGrowthMb),
          '',
          '',
          '',
          '< 64 MB',
        ]);
      }
    }
    return rows;
  });
}

function tileRows(tiles) {
  return tiles.flatMap((run) => {
    const fair = run.baselines.graticuleSql ?? run.baselines.floorSql;
    const fairName = run.baselines.graticuleSql ? 'pgbench, same SQL' : 'pgbench, floor SQL';
    const g = run.graticule;
    const rows = [
      [
        `tiles z${run.z} MVT c=8, tiles/s`,
        whole(g.tilesPerSecond),
        whole(fair.tps),
        fairName,
        ratio(g.tilesPerSecond, fair.tps),
        '>= 0.8x',
      ],
      [`  p50 ms`, oneDecimal(g.p50Ms), oneDecimal(fair.p50Ms), '', ratio(g.p50Ms, fair.p50Ms), ''],
      [
        `  p99 ms`,
        oneDecimal(g.p99Ms),
        oneDecimal(fair.p99Ms),
        '',
        ratio(g.p99Ms, fair.p99Ms),
        '<= 1.3x',
      ],
    ];
    const floor = run.baselines.graticuleSql && run.baselines.floorSql;
    if (floor) {
      rows.push([
        `  tiles/s vs plain floor SQL`,
        whole(g.tilesPerSecond),
        whole(floor.tps),
        'pgbench, floor SQL',
        ratio(g.tilesPerSecond, floor.tps),
        '',
      ]);
      rows.push([`  p99 ms vs plain floor SQL`, oneDecimal(g.p99Ms), oneDecimal(floor.p99Ms)]);
      rows[rows.length - 1].push('', ratio(g.p99Ms, floor.p99Ms), '');
    }
    rows.push([
      `  server CPU per tile, ms (cores busy)`,
      `${g.serverCpuMsPerTile.toFixed(2)} (${g.serverCpuShare.toFixed(2)})`,
      '',
      '',
      '',
      '',
    ]);
    const f = run.features;
    rows.push([
      `  features/tile (p50, max), KB/tile`,
      `${whole(f.p50)}, ${whole(f.max)}, ${oneDecimal(g.meanBytes / 1024)}`,
      '',
      `${run.distinctTiles} distinct tiles`,
      '',
      '',
    ]);
    return rows;
  });
}

function poolRows(pool) {
  const row = (label, value, target = '') => [label, value, '', '', '', target];
  return [
    row(
      `pool ${pool.maxConnections}: ${pool.requests} x pg_sleep(${pool.sleepMs / 1000}), OK / 503`,
      `${pool.ok} / ${pool.busy}`,
    ),
    row(`  max sessions in pg_stat_activity (active)`, `${pool.maxSessions} (${pool.maxActive})`),
    row(`  burst wall time, s (ideal ${idealBurstSeconds(pool)})`, oneDecimal(pool.wallMs / 1000)),
    row(
      `  longest request, ms (its wait)`,
      `${whole(pool.longestMs)} (${whole(pool.longestWaitMs)})`,
    ),
    row(
      `  /health during burst p50 / p99 ms`,
      `${oneDecimal(pool.healthP50Ms)} / ${oneDecimal(pool.healthP99Ms)}`,
    ),
  ];
}

function idealBurstSeconds(pool) {
  return ((pool.requests / pool.maxConnections) * pool.sleepMs) / 1000;
}

export function printReport(results) {
  const m = results.machine;
  console.log('\nGraticule on PostgreSQL, each figure beside raw PostgreSQL on this machine');
  console.log('Single short runs on a shared 2-core machine: differences under ~10-20% are noise.');
  console.log(
    `machine: ${m.cpus} cores (${m.cpuModel}), ${whole(m.totalMemMb)} MB, node ${m.node}; ` +
      `load average ${m.loadAverage1m.start.toFixed(2)} at start, ` +
      `${m.loadAverage1m.end.toFixed(2)} at end`,
  );
  console.log(`database: ${results.database.version}; ${whole(results.database.points)} points`);
  console.log(`tile SQL baseline: ${results.tileSqlSource}\n`);
  const rows = [...sqlRows(results.sql), ...tileRows(results.tiles), ...poolRows(results.pool)];
  console.log(formatTable(rows));
  if (results.serverLog.length > 0) {
    console.log(`\nserver warnings and errors (${results.serverLog.length}):`);
    for (const line of results.serverLog.slice(0, 10)) console.log(`  ${line}`);
  }
}
