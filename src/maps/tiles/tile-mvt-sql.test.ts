import { describe, expect, it } from 'vitest';
import type { WarehouseField } from '../../warehouses/driver.js';
import { buildMvtTileQuery } from './tile-mvt-sql.js';
import type { TileRequest, TileSource } from './tile-query.js';

const TILE: TileRequest = {
  z: 8,
  x: 128,
  y: 128,
  format: 'mvt',
  tileResolution: 2,
  maxFeatures: 5,
};

const text = (name: string): WarehouseField => ({ name, nativeType: 'text', cartoType: 'string' });

describe('the native MVT query', () => {
  const source: TileSource = {
    fromSql: '(SELECT * FROM t WHERE a = $1\n) AS _src',
    params: ['x'],
    geomColumn: 'Geom',
    properties: [text('Name'), text('x"; DROP TABLE t; --'), text('Geom')],
  };

  it('binds property names, layer, extent, buffer and cap after the source parameters', () => {
    const { sql, params } = buildMvtTileQuery(source, TILE);

    expect(params[0]).toBe('x');
    expect(params).toEqual(
      expect.arrayContaining(['Name', 'x"; DROP TABLE t; --', 'default', 2048, 128, 6, 5]),
    );
    expect(sql).toContain('"x""; DROP TABLE t; --"::text');
    expect(sql).not.toContain("DROP TABLE t; --'");
    expect(sql).toContain('ST_Force2D("Geom")');
    expect(sql).toContain('ST_TileEnvelope(');
    expect(sql).not.toContain('ST_MakeValid');
  });

  it('repairs each part before the clip on the retry', () => {
    expect(buildMvtTileQuery(source, TILE, { repairGeometries: true }).sql).toContain(
      'ST_MakeValid("_tile_part")',
    );
  });

  it('splits more than 50 properties over several jsonb_build_object calls', () => {
    const wide = { ...source, properties: Array.from({ length: 120 }, (_, i) => text(`c${i}`)) };

    const { sql } = buildMvtTileQuery(wide, TILE);

    expect(sql.match(/jsonb_build_object\(/g)).toHaveLength(3);
  });
});
