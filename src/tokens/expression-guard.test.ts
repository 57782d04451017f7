import { describe, expect, it } from 'vitest';
import { ApiError } from '../http/errors.js';
import { assertTokenSafeExpression } from './expression-guard.js';

function refusal(text: string): ApiError | undefined {
  try {
    assertTokenSafeExpression(text, 'aggregationExp');
    return undefined;
  } catch (error) {
    return error as ApiError;
  }
}

describe('assertTokenSafeExpression', () => {
  it('lets aggregates, math, casts and PostGIS/H3 functions through', () => {
    for (const text of [
      'sum(population) AS population, count(*) AS n',
      'any_value(name) as name, round(avg(population)::numeric(12, 2)) AS mean',
      "max(CASE WHEN country IN ('ES', 'PT') THEN 1 ELSE 0 END) AS iberian",
      'count(*) FILTER (WHERE population > 1000) AS towns',
      'percentile_cont(0.5) WITHIN GROUP (ORDER BY population) AS median',
      'ST_Area(ST_Union(geom)) AS area, h3_cell_to_parent(h3, 4) AS parent',
      "string_agg(name, ', ') AS names, 'select * from x' AS text_is_fine",
      'cast(population AS numeric(12, 2)) AS p, "Quoted Column" AS q',
    ]) {
      expect(refusal(text), text).toBeUndefined();
    }
  });

  it('refuses subqueries and functions that could read other relations, with a 403', () => {
    for (const text of [
      "(SELECT string_agg(secret, ',') FROM private.keys) AS leak",
      'count(*) + (VALUES (1)) AS x',
      '(TABLE private.keys) AS x',
      "query_to_xml('select * from private.keys', true, true, '') AS leak",
      'pg_catalog.sum(population) AS s',
      "\"query_to_xml\"('x', true, true, '') AS leak",
      "dblink('host=x', 'select 1') AS leak",
      "ST_EstimatedExtent('private', 'keys', 'geom') AS leak",
      "max(st_astext(ST_FindExtent('private', 'keys', 'geom')::geometry)) AS leak",
      'my_function(population) AS x',
    ]) {
      const error = refusal(text);
      expect(error, text).toBeInstanceOf(ApiError);
      expect(error!.status).toBe(403);
      expect(error!.message).toContain("'aggregationExp'");
    }
  });
});
