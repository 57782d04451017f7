import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../http/errors.js';
import {
  grantCovers,
  normalizeQueryText,
  parseGrantSource,
  requestedQuery,
  requestedTable,
} from './grant-source.js';

const covers = (grant: string, table: string) =>
  grantCovers(parseGrantSource(grant, 'source'), requestedTable(table, 'name'));
const coversQuery = (grant: string, q: string) =>
  grantCovers(parseGrantSource(grant, 'source'), requestedQuery(q));

describe('parseGrantSource', () => {
  it('classifies *, schema patterns, table names and queries', () => {
    expect(parseGrantSource(' * ', 's')).toEqual({ kind: 'all' });
    expect(parseGrantSource('demo.*', 's')).toEqual({ kind: 'schema', schema: 'demo' });
    expect(parseGrantSource('gis."Demo".*', 's')).toEqual({ kind: 'schema', schema: 'Demo' });
    expect(parseGrantSource('Demo.Places', 's')).toEqual({
      kind: 'table',
      name: { schema: 'demo', table: 'places' },
    });
    expect(parseGrantSource('carto-demo-data.demo_tables.airports', 's')).toEqual({
      kind: 'table',
      name: { schema: 'demo_tables', table: 'airports' },
    });
    expect(parseGrantSource('"my schema"."My Table"', 's')).toEqual({
      kind: 'table',
      name: { schema: 'my schema', table: 'My Table' },
    });
    expect(parseGrantSource('  SELECT * FROM demo.countries ;\n', 's')).toEqual({
      kind: 'query',
      text: 'SELECT * FROM demo.countries',
    });
  });

  it('refuses sources that are neither names, patterns nor queries, naming the field', () => {
    for (const bad of ['demo.pop*', 'a.b.c.d', 'demo..places', '"unterminated', 'x;', '*.*', '']) {
      let error: unknown;
      try {
        parseGrantSource(bad, 'grants[0].source');
      } catch (caught) {
        error = caught;
      }
      expect(error, bad).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(400);
      expect((error as ApiError).message).toContain('grants[0].source');
    }
  });
});

describe('grantCovers', () => {
  it('matches a table grant identifier by identifier, as PostgreSQL resolves names', () => {
    expect(covers('demo.populated_places', 'demo.populated_places')).toBe(true);
    expect(covers('demo.populated_places', 'DEMO.Populated_Places')).toBe(true);
    expect(covers('demo.populated_places', '"demo"."populated_places"')).toBe(true);
    expect(covers('demo.populated_places', 'carto_dw.demo.populated_places')).toBe(true);
    expect(covers('demo.populated_places', 'demo.countries')).toBe(false);
    expect(covers('demo.populated_places', 'populated_places')).toBe(false);
    expect(covers('populated_places', 'demo.populated_places')).toBe(false);
    expect(covers('demo.populated_places', '"Demo".populated_places')).toBe(false);
    expect(covers('"Demo"."Places"', 'demo.places')).toBe(false);
    expect(covers('"Demo"."Places"', '"Demo"."Places"')).toBe(true);
  });

  it('matches schema patterns and * on every table of their scope', () => {
    expect(covers('demo.*', 'demo.countries')).toBe(true);
    expect(covers('db.demo.*', 'Demo.us_states')).toBe(true);
    expect(covers('demo.*', 'public.countries')).toBe(false);
    expect(covers('demo.*', 'countries')).toBe(false);
    expect(covers('*', 'anything.at_all')).toBe(true);
    expect(coversQuery('*', 'SELECT 1')).toBe(true);
  });

  it('matches query grants by exact text, trimming only white space and trailing ;', () => {
    const grant = 'SELECT name FROM demo.countries';
    expect(coversQuery(grant, grant)).toBe(true);
    expect(coversQuery(grant, `  ${grant};\n`)).toBe(true);
    expect(coversQuery(grant, 'select name from demo.countries')).toBe(false);
    expect(coversQuery(grant, 'SELECT name  FROM demo.countries')).toBe(false);
    expect(coversQuery(grant, `${grant} WHERE true`)).toBe(false);
    expect(coversQuery('demo.countries', grant)).toBe(false);
    expect(covers(grant, 'demo.countries')).toBe(false);
  });

  const identifier = fc.stringMatching(/^[a-z_][a-z0-9_]{0,15}$/);
  const spelled = (part: string, style: number) =>
    style === 0 ? part : style === 1 ? part.toUpperCase() : `"${part}"`;

  it('covers every spelling of the granted table: quoted, unquoted, any case', () => {
    fc.assert(
      fc.property(identifier, identifier, fc.nat(2), fc.nat(2), (schema, table, s1, s2) => {
        const grant = `${schema}.${table}`;
        const request = `${spelled(schema, s1)}.${spelled(table, s2)}`;
        expect(covers(grant, request)).toBe(true);
        expect(covers(`${schema}.*`, request)).toBe(true);
      }),
    );
  });

  it('never covers a table of another name or schema', () => {
    fc.assert(
      fc.property(identifier, identifier, identifier, (schema, table, other) => {
        fc.pre(other !== table && other !== schema);
        expect(covers(`${schema}.${table}`, `${schema}.${other}`)).toBe(false);
        expect(covers(`${schema}.${table}`, `${other}.${table}`)).toBe(false);
        expect(covers(`${schema}.*`, `${other}.${table}`)).toBe(false);
      }),
    );
  });

  it('keeps the exact case of quoted names', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z ]{1,12}$/), (name) => {
        fc.pre(name.trim() !== '' && name !== name.toLowerCase());
        expect(covers(`s."${name}"`, `s."${name}"`)).toBe(true);
        expect(covers(`s."${name}"`, `s."${name.toLowerCase()}"`)).toBe(false);
      }),
    );
  });

  it('normalizes query text idempotently', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const once = normalizeQueryText(text);
        expect(normalizeQueryText(once)).toBe(once);
      }),
    );
  });
});
