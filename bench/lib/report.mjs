/** Plain-text report: aligned tables, figures with targets beside them. */
import { readFileSync } from 'node:fs';
import { summarize } from './stats.mjs';
import { ZOOM_BANDS, tileKey } from './tiles.mjs';

export const TARGETS = { firstStartMs: 90_000, warmStartMs: 5_000, lowZoomP50Ms: 150 };

/** A formatter of numbers with `digits` decimals and thousands separators; '-' for none. */
export const fixed = (digits) => (value) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      })
    : '-';

export function ms(value, digits = 1) {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

export function seconds(valueMs) {
  return Number.isFinite(valueMs) ? `${(valueMs / 1000).toFixed(1)} s` : '-';
}

export function mb(value) {
  return Number.isFinite(value) ? `${value.toFixed(0)} MB` : '-';
}

export function percent(share) {
  return Number.isFinite(share) ? `${(share * 100).toFixed(0)}%` : '-';
}

export function kb(bytes) {
  return Number.isFinite(bytes) ? (bytes / 1024).toFixed(1) : '-';
}

/** 'met' or 'MISSED' against an upper-bound target; a figure, never a failure of the run. */
export function against(value, target) {
  if (!Number.isFinite(value)) return '';
  return value < target ? 'met' : 'MISSED';
}

/** Columns padded to their widest cell; the first column left-aligned, the rest right. */
export function table(headers, rows) {
  const cells = [headers, ...rows].map((row) => row.map((cell) => String(cell)));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(cells[0]), ...cells.slice(1).map(line)].map((l) => `  ${l}`).join('\n');
}

export function tileRows(run, label) {
  const row = (band, s) => [
    `${label} c=${run.concurrency} ${band}`,
    s.count,
    ms(s.tilesPerSecond),
    ms(s.p50Ms),
    ms(s.p99Ms),
    kb(s.meanBytes),
    percent(s.emptyShare),
    s.errors,
  ];
  return [
    ...run.bands.map((b) => row(b.band, b)),
    [...row('z0-z6', run.lowZoom), against(run.lowZoom.p50Ms, TARGETS.lowZoomP50Ms)],
  ];
}

export const TILE_HEADERS = [
  'run',
  'tiles',
  'tiles/s',
  'p50 ms',
  'p99 ms',
  'KB/tile',
  '204',
  'err',
];

/** Server c=1 p50 beside raw SQL and encode p50, per band, for one table and format. */
export function overheadRows(label, serverRun, rawResults) {
  return ZOOM_BANDS.map((band) => {
    const inBand = (t) => t.z >= band.minZoom && t.z <= band.maxZoom;
    const server = summarize(serverRun.samples.filter(inBand).map((s) => s.ms));
    const raw = rawResults.filter(inBand);
    const sql = summarize(raw.map((r) => r.sqlMs));
    const encode = summarize(raw.map((r) => r.encodeMs));
    const both = summarize(raw.map((r) => r.sqlMs + r.encodeMs));
    return [
      `${label} ${band.name}`,
      ms(server.p50),
      ms(sql.p50),
      ms(encode.p50),
      ms(both.p50),
      ms(server.p50 - both.p50),
      ms(sql.p99),
      kb(summarize(raw.filter((r) => r.bytes > 0).map((r) => r.bytes)).mean),
    ];
  });
}

export const OVERHEAD_HEADERS = [
  'table format band',
  'server p50',
  'raw SQL p50',
  'encode p50',
  'SQL+enc p50',
  'difference',
  'raw SQL p99',
  'KB/tile raw',
];

/**
 * Tiles whose body length over HTTP differs from the in-process encoding of the same SQL
 * result: the two must agree unless the server compressed the body or the data changed.
 */
export function countSizeMismatches(serverRun, rawResults) {
  const rawBytes = new Map(rawResults.map((r) => [tileKey(r), r.bytes]));
  const mismatched = serverRun.samples.filter((s) => {
    const expected = rawBytes.get(tileKey(s));
    return expected !== undefined && (s.status === 204 ? 0 : s.bytes) !== expected;
  });
  return {
    checked: serverRun.samples.length,
    mismatched: mismatched.length,
    examples: mismatched.slice(0, 3),
  };
}

/** Lines of the embedded tile-floor summary that match this benchmark's cells. */
export function readFloorReference(path) {
  try {
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    const header = lines[0].split(/\s+/);
    const rows = lines.slice(1).map((line) => {
      const values = line.split(/\s+/);
      return Object.fromEntries(header.map((name, i) => [name, values[i]]));
    });
    const wanted = (r) =>
      (r.table === 'cities' && r.strat === 'E') || (r.table === 'countries' && r.strat === 'D');
    return rows.filter(wanted);
  } catch {
    return [];
  }
}
