/**
 * The spatial-index tables of the Maps API benchmark, made from the points table so they share
 * its clustered layout: one row per point, its H3 cell at resolution 8 (hex text, as h3-js
 * writes it) or its quadbin cell at zoom 14 (bigint), and its `value`. Cells repeat where
 * points are dense, so the cell column has a plain btree index rather than a primary key.
 */
import { latLngToCell } from 'h3-js';
import { tileToCell } from 'quadbin';
import { connectAs } from './pg-cluster.mjs';
import { tileOf } from './tiles.mjs';

export const H3_TABLE = { name: 'h3_cells', column: 'h3', resolution: 8 };
export const QUADBIN_TABLE = { name: 'quadbin_cells', column: 'quadbin', resolution: 14 };

const INSERT_BATCH = 50_000;

/** Every point's longitude, latitude and value, in cartodb_id order, as parallel arrays. */
async function readPoints(client) {
  const { rows } = await client.query({
    text: 'SELECT ST_X(the_geom), ST_Y(the_geom), value FROM points ORDER BY cartodb_id',
    rowMode: 'array',
  });
  return {
    lon: rows.map((r) => r[0]),
    lat: rows.map((r) => r[1]),
    value: rows.map((r) => r[2]),
  };
}

/** Creates `table` with `cells` (text or bigint as text) and `values`, indexed and analyzed. */
async function createCellTable(client, info, table, sqlType, cells, values) {
  const { name, column } = table;
  await client.query(`CREATE TABLE ${name} (${column} ${sqlType} NOT NULL, value float8)`);
  for (let at = 0; at < cells.length; at += INSERT_BATCH) {
    await client.query(
      `INSERT INTO ${name} (${column}, value)
       SELECT * FROM unnest($1::${sqlType}[], $2::float8[])`,
      [cells.slice(at, at + INSERT_BATCH), values.slice(at, at + INSERT_BATCH)],
    );
  }
  await client.query(`CREATE INDEX ${name}_${column}_idx ON ${name} (${column})`);
  await client.query(`GRANT SELECT ON ${name} TO "${info.username}"`);
  await client.query(`VACUUM ANALYZE ${name}`);
  const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${name}`);
  return rows[0].n;
}

/**
 * Loads the H3 and quadbin tables from the points table (which must exist); resolves with
 * their row counts and the distinct cells of each.
 */
export async function loadCellTables(info) {
  const client = await connectAs(info, { superuser: true });
  try {
    const points = await readPoints(client);
    const h3 = points.lon.map((lon, i) => latLngToCell(points.lat[i], lon, H3_TABLE.resolution));
    const quadbin = points.lon.map((lon, i) => {
      const { z, x, y } = tileOf(lon, points.lat[i], QUADBIN_TABLE.resolution);
      return tileToCell({ z, x, y }).toString();
    });
    const h3Rows = await createCellTable(client, info, H3_TABLE, 'text', h3, points.value);
    const quadbinRows = await createCellTable(
      client,
      info,
      QUADBIN_TABLE,
      'bigint',
      quadbin,
      points.value,
    );
    return {
      h3: { rows: h3Rows, distinctCells: new Set(h3).size },
      quadbin: { rows: quadbinRows, distinctCells: new Set(quadbin).size },
    };
  } finally {
    await client.end();
  }
}
