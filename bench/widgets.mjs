/**
 * Widget (SQL Model API) latency on a PostgreSQL/PostGIS connection over 1M rows, each widget
 * beside the same SQL run directly in `psql` in the same run on this machine.
 *
 * For every widget the bench renders the statements Graticule's own builder (compiled in
 * dist/) writes for the request, with the bind values written in as literals, and times them
 * in one long-lived psql session (`\timing`, rows printed to /dev/null), so the baseline is the
 * server's work plus libpq and psql reading every row, without psql's start-up. Graticule is
 * timed end to end over HTTP (token verification, inspection of the source's columns, SQL,
 * JSON). Rounds alternate between the two sides, so both meet the same background load; one
 * warm-up round each, then BENCH_WIDGET_REPS rounds; medians.
 * A widget with two statements (table: page and total) is run by the server concurrently and
 * by psql one after the other; the baseline adds both.
 *
 * The server's resident memory is read after every widget: widgets aggregate in SQL, so it
 * must not grow with the rows scanned.
 *
 * Run: npm run build && node bench/widgets.mjs   (or npm run bench:widgets)
 * Settings (environment):
 *   BENCH_PG_POINTS (1000000)   rows in the points table
 *   BENCH_WIDGET_REPS (7)       timed repetitions per widget and side
 *   BENCH_WIDGET_ONLY ("")      comma-separated words; only widgets whose label has one run
 *   BENCH_PG_BIN_DIR (/usr/lib/postgresql/15/bin)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PG_BIN_DIR, connectAs, loadPoints, startCluster } from './lib/pg-cluster.mjs';
import { StreamingClient, bearer, issueToken } from './lib/pg-http.mjs';
import { inlineParams } from './lib/pg-baseline.mjs';
import {
  createConnection,
  killGraticule,
  startGraticule,
  stopGraticule,
} from './lib/pg-server.mjs';
import { CLIENT_ID, CLIENT_SECRET, MAIN_JS, readMemory } from './lib/server.mjs';
import { summarize } from './lib/stats.mjs';
import { table } from './lib/report.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const CONNECTION = 'pg_widgets';
const TARGET_RATIO = 1.2;
const settings = {
  points: Number(process.env.BENCH_PG_POINTS ?? 1_000_000),
  reps: Number(process.env.BENCH_WIDGET_REPS ?? 7),
  only: (process.env.BENCH_WIDGET_ONLY ?? '').split(',').filter(Boolean),
};
const progress = (message) => process.stderr.write(`[bench:widgets] ${message}\n`);

/** The points table as the server's column inspection describes it. */
const FIELDS = [
  { name: 'cartodb_id', nativeType: 'int8', cartoType: 'bigint' },
  { name: 'the_geom', nativeType: 'geometry', cartoType: 'geometry' },
  { name: 'name', nativeType: 'text', cartoType: 'string' },
  { name: 'category', nativeType: 'int4', cartoType: 'number' },
  { name: 'value', nativeType: 'float8', cartoType: 'number' },
  { name: 't', nativeType: 'timestamptz', cartoType: 'timestamp' },
];

const VIEWPORT = {
  type: 'Polygon',
  coordinates: [
    [
      [-20, -10],
      [60, -10],
      [60, 60],
      [-20, 60],
      [-20, -10],
    ],
  ],
};

const WIDGETS = [
  { label: 'formula count', model: 'formula', params: { operation: 'count' } },
  {
    label: 'formula avg, filtered',
    model: 'formula',
    params: { operation: 'avg', column: 'value' },
    filters: {
      category: { in: { values: [1, 2, 3] } },
      value: { between: { values: [[100, 900]] } },
    },
  },
  {
    label: 'formula sum, viewport',
    model: 'formula',
    params: { operation: 'sum', column: 'value' },
    spatialFilters: { the_geom: VIEWPORT },
  },
  {
    label: 'category, others',
    model: 'category',
    params: { column: 'category', operation: 'sum', operationColumn: 'value', othersThreshold: 5 },
  },
  {
    label: 'histogram 10 bins',
    model: 'histogram',
    params: {
      column: 'value',
      operation: 'count',
      ticks: [100, 200, 300, 400, 500, 600, 700, 800, 900],
    },
  },
  { label: 'range', model: 'range', params: { column: 'value' } },
  {
    label: 'scatterplot',
    model: 'scatterplot',
    params: { xAxisColumn: 'value', yAxisColumn: 'category', limit: 500 },
  },
  { label: 'timeseries day', model: 'timeseries', params: { column: 't', stepSize: 'day' } },
  {
    label: 'timeseries week, split',
    model: 'timeseries',
    params: { column: 't', stepSize: 'week', splitByCategory: 'category', splitByCategoryLimit: 3 },
  },
  {
    label: 'table page, sorted',
    model: 'table',
    params: {
      column: ['name', 'value'],
      sortBy: 'value',
      sortDirection: 'desc',
      limit: 20,
      offset: 100,
    },
  },
  {
    label: 'aggregations',
    model: 'aggregations',
    params: {
      aggregations: [
        { column: 'value', operation: 'sum', alias: 'total' },
        { column: 'value', operation: 'avg', alias: 'mean' },
        { column: 'cartodb_id', operation: 'count', alias: 'n' },
      ],
    },
  },
];

/** The statements the server's builder writes for a widget request, as plain SQL text. */
async function loadStatementBuilder() {
  const module = (name) => pathToFileURL(path.join(path.dirname(MAIN_JS), name));
  const { dialectNamed } = await import(module('sql-builder/dialect.js'));
  const { render } = await import(module('sql-builder/sql.js'));
  const { SourceColumns } = await import(module('widgets/columns.js'));
  const { sourceCondition } = await import(module('widgets/widget-source.js'));
  const { planModel } = await import(module('widgets/models.js'));
  const dialect = dialectNamed('postgis');
  const columns = new SourceColumns(FIELDS);
  return async (widget) => {
    const where = await sourceCondition(
      {
        filters: widget.filters,
        filtersLogicalOperator: 'and',
        spatialFilters: widget.spatialFilters,
      },
      { dialect, columns, spatialDataType: 'geo', sridOf: async () => 4326 },
    );
    const plan = planModel(widget.model, {
      dialect,
      columns,
      from: dialect.table('points'),
      where,
      params: widget.params,
      maxRows: 200_000,
    });
    return plan.statements.map((s) => {
      const { text, params } = render(s, dialect);
      return inlineParams(text, params);
    });
  };
}

/**
 * One long-lived psql session (`\timing`, rows printed to /dev/null) that runs statements
 * when asked and answers the milliseconds psql reports for them, so its rounds can alternate
 * with Graticule's and both sides meet the same background load.
 */
class PsqlSession {
  constructor(info) {
    const psql = existsSync(path.join(PG_BIN_DIR, 'psql')) ? path.join(PG_BIN_DIR, 'psql') : 'psql';
    const args = ['-X', '-q', '--csv', '-h', info.host, '-p', String(info.port)];
    args.push('-U', info.username, '-d', info.database);
    this.child = spawn(psql, args, {
      env: { ...process.env, PGPASSWORD: info.password, PGAPPNAME: 'bench' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.times = [];
    this.waiters = [];
    this.errors = '';
    let pending = '';
    this.child.stdout.on('data', (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) {
        const match = /^Time: ([\d.]+) ms/.exec(line);
        if (match) this.times.push(Number(match[1]));
      }
      this.settle();
    });
    this.child.stderr.on('data', (chunk) => {
      this.errors += chunk;
      for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(this.errors));
    });
    this.child.stdin.write('\\timing on\n\\o /dev/null\n');
  }

  settle() {
    while (this.waiters.length > 0 && this.times.length >= this.waiters[0].count) {
      const waiter = this.waiters.shift();
      waiter.resolve(this.times.splice(0, waiter.count).reduce((a, b) => a + b, 0));
    }
  }

  /** Milliseconds of the statements, run one after the other, as psql reports them. */
  run(statements) {
    return new Promise((resolve, reject) => {
      this.waiters.push({ count: statements.length, resolve, reject });
      this.child.stdin.write(`${statements.map((s) => `${s};`).join('\n')}\n`);
    });
  }

  close() {
    this.child.stdin.end();
  }
}

function widgetPath(widget) {
  const search = new URLSearchParams({
    type: 'table',
    source: 'points',
    spatialDataColumn: 'the_geom',
    params: JSON.stringify(widget.params),
  });
  if (widget.filters) search.set('filters', JSON.stringify(widget.filters));
  if (widget.spatialFilters) search.set('spatialFilters', JSON.stringify(widget.spatialFilters));
  return `/v3/sql/${CONNECTION}/model/${widget.model}?${search}`;
}

/** One widget request over HTTP: milliseconds to the last byte, and the answer's size. */
async function requestWidget(client, token, widget) {
  const response = await client.request(widgetPath(widget), { headers: bearer(token) });
  if (response.status !== 200) {
    throw new Error(`${widget.label} answered ${response.status}: ${response.errorText}`);
  }
  return response;
}

/** Alternating rounds of psql and Graticule, after one warm-up round of each. */
async function timeBothSides(session, client, token, widget, statements, reps) {
  const psql = [];
  const http = [];
  let bytes = 0;
  for (let round = 0; round <= reps; round += 1) {
    const psqlMs = await session.run(statements);
    const response = await requestWidget(client, token, widget);
    bytes = response.bytes;
    if (round === 0) continue;
    psql.push(psqlMs);
    http.push(response.ms);
  }
  return { psql, http, bytes };
}

async function addTimeColumn(info) {
  const client = await connectAs(info, { superuser: true });
  try {
    // Two years of timestamps, spread by id, so day and week series have hundreds of buckets.
    await client.query(`ALTER TABLE points ADD COLUMN t timestamptz`);
    await client.query(
      `UPDATE points
       SET t = timestamptz '2023-01-01 00:00+00' + (cartodb_id * 63) * interval '1 second'`,
    );
    await client.query('VACUUM ANALYZE points');
  } finally {
    await client.end();
  }
}

let cluster;
let tempRoot;
function cleanUp() {
  killGraticule();
  cluster?.destroySync();
  cluster = undefined;
  if (tempRoot) rmSync(tempRoot, { recursive: true, force: true });
  tempRoot = undefined;
}
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

async function main() {
  if (!existsSync(MAIN_JS)) throw new Error('dist/main.js is missing: run npm run build first');
  const build = await loadStatementBuilder();
  tempRoot = mkdtempSync(path.join(os.tmpdir(), 'graticule-bench-widgets-'));
  progress('starting a PostgreSQL cluster');
  cluster = await startCluster();
  const { info } = cluster;
  progress(`loading ${settings.points} points`);
  await loadPoints(info, settings.points);
  await addTimeColumn(info);
  progress('starting Graticule');
  const server = await startGraticule({
    dataDir: path.join(tempRoot, 'data'),
    logPath: path.join(tempRoot, 'server.log'),
    // The embedded warehouse's demo data would load in the background during the first widgets.
    settings: { GRATICULE_TILE_CACHE_MB: '0', GRATICULE_DEMO_DATA: 'false' },
  });
  const client = new StreamingClient(server.baseUrl, 4);
  const token = await issueToken(client, CLIENT_ID, CLIENT_SECRET);
  await createConnection(client, token, info, { name: CONNECTION, maxConnections: 10 });

  const session = new PsqlSession(info);
  const rssBefore = readMemory(server.pid).rssMb;
  const rows = [];
  const results = [];
  const chosen = WIDGETS.filter(
    (w) => settings.only.length === 0 || settings.only.some((word) => w.label.includes(word)),
  );
  for (const widget of chosen) {
    progress(widget.label);
    const statements = await build(widget);
    const both = await timeBothSides(session, client, token, widget, statements, settings.reps);
    const psql = summarize(both.psql);
    const graticule = summarize(both.http);
    const http = { bytes: both.bytes };
    const ratio = graticule.p50 / psql.p50;
    const rss = readMemory(server.pid).rssMb;
    results.push({ ...widget, psql, graticule, ratio, bytes: http.bytes, rssMb: rss });
    rows.push([
      widget.label,
      psql.p50.toFixed(1),
      graticule.p50.toFixed(1),
      `${ratio.toFixed(2)}×`,
      ratio <= TARGET_RATIO ? 'met' : 'MISSED',
      String(http.bytes),
      rss.toFixed(0),
    ]);
  }
  session.close();
  client.close();
  await stopGraticule(server);

  console.log(`\nWidgets over ${settings.points} rows on PostgreSQL (median of ${settings.reps}):`);
  console.log(
    table(
      ['widget', 'psql ms', 'Graticule ms', 'ratio', `≤${TARGET_RATIO}×`, 'bytes', 'RSS MB'],
      rows,
    ),
  );
  const maxRss = Math.max(...results.map((r) => r.rssMb));
  console.log(
    `\nServer RSS: ${rssBefore.toFixed(0)} MB before, ` +
      `at most ${maxRss.toFixed(0)} MB after a widget`,
  );
  const outDir = path.join(BENCH_DIR, 'out');
  mkdirSync(outDir, { recursive: true });
  const outFile = path.join(
    outDir,
    `widgets-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  );
  writeFileSync(outFile, JSON.stringify({ settings, rssBefore, results }, null, 2));
  progress(`figures written to ${path.relative(process.cwd(), outFile)}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
