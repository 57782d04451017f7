import { randomBytes } from 'node:crypto';
import { cellToBoundary, cellToLatLng, latLngToCell } from 'h3-js';
import { cellToTile, tileToCell } from 'quadbin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { embeddedTarget } from './support/widget-targets.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
const table = `public.widget_cells_${randomBytes(4).toString('hex')}`;
let token = '';

/** A box around Madrid, and the grid of points the cells come from (some outside it). */
const BOX = { west: -3.8, south: 40.35, east: -3.6, north: 40.5 };
const VIEWPORT = {
  type: 'Polygon',
  coordinates: [
    [
      [BOX.west, BOX.south],
      [BOX.east, BOX.south],
      [BOX.east, BOX.north],
      [BOX.west, BOX.north],
      [BOX.west, BOX.south],
    ],
  ],
};
const H3_RESOLUTION = 8;
const QUADBIN_ZOOM = 13;

interface Row {
  h3: string;
  h3int: string;
  quadbin: string;
  v: number;
}

const rows: Row[] = [];
for (let i = 0; i < 30; i += 1) {
  for (let j = 0; j < 30; j += 1) {
    const lat = 40.25 + i * 0.012;
    const lng = -3.95 + j * 0.018;
    const h3 = latLngToCell(lat, lng, H3_RESOLUTION);
    const n = 2 ** QUADBIN_ZOOM;
    const x = Math.floor(((lng + 180) / 360) * n);
    const s = Math.sin((lat * Math.PI) / 180);
    const y = Math.floor((0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n);
    const quadbin = tileToCell({ x, y, z: QUADBIN_ZOOM }).toString();
    rows.push({ h3, h3int: BigInt(`0x${h3}`).toString(), quadbin, v: i * 30 + j });
  }
}

function inBox(lng: number, lat: number): boolean {
  return lng >= BOX.west && lng <= BOX.east && lat >= BOX.south && lat <= BOX.north;
}

/** Web-mercator bounds of a quadbin cell, in degrees. */
function quadbinBounds(cell: string) {
  const { x, y, z } = cellToTile(BigInt(cell));
  const n = 2 ** z;
  const lon = (tx: number) => (tx / n) * 360 - 180;
  const lat = (ty: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * ty) / n))) * 180) / Math.PI;
  return { west: lon(x), east: lon(x + 1), north: lat(y), south: lat(y + 1) };
}

/** Runs a fixture statement on the embedded warehouse through the SQL API. */
const runSql = (q: string) => embeddedTarget(baseUrl, () => token).setUp([q], []);

async function count(spatialDataType: string, column: string, filter: unknown, mode?: string) {
  const search = new URLSearchParams({
    type: 'table',
    source: table,
    params: JSON.stringify({ operation: 'count' }),
    spatialDataType,
    spatialDataColumn: column,
    spatialFilters: JSON.stringify({ [column]: filter }),
  });
  if (mode) search.set('spatialFiltersMode', mode);
  const response = await fetch(`${baseUrl}/v3/sql/carto_dw/model/formula?${search}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as { rows?: { value: number }[]; error?: string };
  return { status: response.status, value: body.rows?.[0]?.value, error: body.error };
}

beforeAll(async () => {
  token = await fetchToken(baseUrl, clientId, clientSecret);
  const values = rows.map((r) => `('${r.h3}', ${r.h3int}, ${r.quadbin}, ${r.v})`).join(',\n');
  await runSql(`CREATE TABLE ${table} (h3 text, h3int bigint, quadbin bigint, v int)`);
  await runSql(`INSERT INTO ${table} VALUES ${values}`);
});

afterAll(async () => {
  await runSql(`DROP TABLE IF EXISTS ${table}`);
});

describe('spatial filters on h3 and quadbin sources', () => {
  it('keeps the rows of the H3 cells whose centre the viewport holds', async () => {
    const expected = rows.filter((r) => {
      const [lat, lng] = cellToLatLng(r.h3);
      return inBox(lng, lat);
    }).length;
    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThan(rows.length);
    expect(await count('h3', 'h3', VIEWPORT, 'center')).toMatchObject({ value: expected });
    expect(await count('h3int', 'h3int', VIEWPORT, 'center')).toMatchObject({ value: expected });
  });

  it('keeps the rows of the H3 cells the viewport touches, by default', async () => {
    // A cell touches the box when a vertex or its centre is inside, or the box's corner is
    // inside the cell; for cells far smaller than the box the first two decide.
    const touching = rows.filter((r) => {
      const [lat, lng] = cellToLatLng(r.h3);
      return inBox(lng, lat) || cellToBoundary(r.h3).some(([la, ln]) => inBox(ln!, la!));
    }).length;
    const { value } = await count('h3', 'h3', VIEWPORT);
    expect(value).toBeGreaterThanOrEqual(touching);
    const centred = (await count('h3', 'h3', VIEWPORT, 'center')).value!;
    expect(value).toBeGreaterThan(centred);
  });

  it('keeps the rows of the quadbin cells the viewport intersects', async () => {
    const expected = rows.filter((r) => {
      const b = quadbinBounds(r.quadbin);
      return b.west < BOX.east && b.east > BOX.west && b.south < BOX.north && b.north > BOX.south;
    }).length;
    expect(expected).toBeGreaterThan(0);
    expect(await count('quadbin', 'quadbin', VIEWPORT)).toMatchObject({ value: expected });
  });

  it('keeps the rows of listed cells', async () => {
    const picked = [rows[0]!, rows[31]!, rows[62]!];
    const h3 = { indexes: picked.map((r) => r.h3), type: 'h3' };
    const quadbin = { indexes: picked.map((r) => r.quadbin), type: 'quadbin' };
    const expectedH3 = rows.filter((r) => h3.indexes.includes(r.h3)).length;
    const expectedQuadbin = rows.filter((r) => quadbin.indexes.includes(r.quadbin)).length;
    expect(await count('h3', 'h3', h3)).toMatchObject({ value: expectedH3 });
    expect(await count('quadbin', 'quadbin', quadbin)).toMatchObject({ value: expectedQuadbin });
  });

  it('answers 400 for a shape covering more cells than a filter holds', async () => {
    const world = {
      type: 'Polygon',
      coordinates: [
        [
          [-170, -80],
          [170, -80],
          [170, 80],
          [-170, 80],
          [-170, -80],
        ],
      ],
    };
    const answer = await count('h3', 'h3', world);
    expect(answer.status).toBe(400);
    expect(answer.error).toMatch(/smaller area/);
  });

  it('answers 400 for cells of the wrong kind', async () => {
    const answer = await count('quadbin', 'quadbin', { indexes: ['not-a-cell'], type: 'quadbin' });
    expect(answer.status).toBe(400);
  });
});
