import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dialectNamed, type DialectName } from '../sql-builder/dialect.js';
import { render } from '../sql-builder/sql.js';
import { GOLDEN_FIELDS } from '../test-support/widget-golden-cases.js';
import { SourceColumns } from './columns.js';
import { checkedExpression } from './expression.js';
import { filtersCondition } from './filters.js';
import { checkedGeoJson } from './spatial-filter.js';

const DIALECTS: DialectName[] = ['postgis', 'redshift', 'bigquery', 'snowflake', 'databricks'];
const columns = new SourceColumns(GOLDEN_FIELDS);

function renderFilters(dialect: DialectName, filters: unknown, logical: 'and' | 'or' = 'and') {
  const d = dialectNamed(dialect);
  const condition = filtersCondition(filters, logical, { dialect: d, columns });
  return condition ? render(condition, d) : null;
}

describe('filters', () => {
  it('binds every value a client sends, in every dialect', () => {
    const marker = fc.string({ minLength: 1 }).map((s) => `zq${s}qz`);
    fc.assert(
      fc.property(fc.constantFrom(...DIALECTS), marker, marker, (dialect, a, b) => {
        const rendered = renderFilters(dialect, {
          Name: { in: { values: [a] }, stringSearch: { values: [b] } },
        })!;
        expect(rendered.text).not.toContain('zq');
        expect(rendered.params).toContain(a);
      }),
    );
  });

  it('rejects filters on columns the source does not have, naming the column', () => {
    expect(() => renderFilters('postgis', { nope: { in: { values: [1] } } })).toThrow(
      expect.objectContaining({ status: 400, extra: { column_name: 'nope' } }),
    );
  });

  it.each([
    [{ Name: { like: { values: ['a'] } } }, /unknown filter 'like'/],
    [{ id: { in: { values: ['one'] } } }, /number column/],
    [{ id: { in: { values: [{ a: 1 }] } } }, /strings, numbers/],
    [{ id: { in: 'x' } }, /expected an object/],
    [{ id: { between: { values: [[1]] } } }, /interval/],
    [{ id: { between: { values: [['a', 'b']] } } }, /numbers or null/],
    [{ Name: { time: { values: [[0, 1]] } } }, /does not hold time/],
    [{ t: { time: { values: [['2024', null]] } } }, /numbers or null/],
    [{ Name: { stringSearch: { values: [{}] } } }, /strings/],
    [{ id: { in: { values: new Array(10_001).fill(1) } } }, /more than 10000/],
    [[], /keyed by column/],
  ])('answers 400 for %j', (filters, message) => {
    expect(() => renderFilters('postgis', filters)).toThrow(message);
  });

  it('treats null interval ends as unbounded and empty value lists as matching nothing', () => {
    const open = renderFilters('postgis', { id: { between: { values: [[null, 5]] } } })!;
    expect(open.text).toBe('("id" IS NOT NULL AND "id" <= $1)');
    expect(renderFilters('postgis', { id: { in: { values: [] } } })!.text).toBe('1 = 0');
  });

  it('combines columns with OR when asked', () => {
    const rendered = renderFilters(
      'postgis',
      { id: { in: { values: [1] } }, Name: { in: { values: ['a'] } } },
      'or',
    )!;
    expect(rendered.text).toBe('("id" IN ($1) OR "Name" IN ($2))');
  });
});

describe('custom expressions', () => {
  it.each(['sum(id) * 2', 'count(*) FILTER (WHERE "Name" = \'a;b\')', 'avg(v) + max(id)'])(
    'keeps %s',
    (text) => {
      expect(checkedExpression(text, 'operationExp').pieces[0]).toEqual({
        kind: 'text',
        text: `(${text})`,
      });
    },
  );

  it.each([
    'sum(id)) FROM secrets --',
    'sum(id); DROP TABLE t',
    'sum(id) /* hide */',
    'sum(id) -- rest',
    'sum($1)',
    "E'\\'' || (SELECT 1)",
    "'unterminated",
    '',
  ])('refuses %j', (text) => {
    expect(() => checkedExpression(text, 'operationExp')).toThrow(/operationExp/);
  });
});

describe('spatial filter shapes', () => {
  const square = [
    [
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 0],
    ],
  ];

  it('accepts polygons and multipolygons, dropping foreign members', () => {
    expect(
      JSON.parse(checkedGeoJson({ type: 'Polygon', coordinates: square, crs: 'x' }, 'f')),
    ).toEqual({ type: 'Polygon', coordinates: square });
    expect(checkedGeoJson({ type: 'MultiPolygon', coordinates: [square] }, 'f')).toContain(
      'MultiPolygon',
    );
  });

  it.each([
    [{ type: 'Point', coordinates: [0, 0] }, /Polygon or MultiPolygon/],
    [{ type: 'Polygon', coordinates: [[[0, 0]]] }, /at least 4/],
    [
      {
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 1],
          ],
        ],
      },
      /end where it starts/,
    ],
    [
      {
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [1, 'x'],
            [1, 1],
            [0, 0],
          ],
        ],
      },
      /numbers/,
    ],
    [
      {
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [1, 95],
            [1, 1],
            [0, 0],
          ],
        ],
      },
      /latitude/,
    ],
    [{ type: 'MultiPolygon', coordinates: [] }, /at least one polygon/],
    ['POLYGON((0 0))', /Polygon or MultiPolygon/],
  ])('refuses %j', (shape, message) => {
    expect(() => checkedGeoJson(shape, 'spatialFilters.geom')).toThrow(message);
  });

  it('bounds the number of vertices', () => {
    const ring = Array.from({ length: 100_001 }, (_, i) => [i / 1e6, 0]);
    ring.push([0, 0]);
    ring[0] = [0, 0];
    expect(() => checkedGeoJson({ type: 'Polygon', coordinates: [ring] }, 'f')).toThrow(
      /more than 100000 vertices/,
    );
  });
});
