import { describe, expect, it } from 'vitest';
import { WarehouseError } from './driver.js';
import { refuseUnguardedWrites } from './read-only-guard.js';

const source = (sql: string) => () => refuseUnguardedWrites({ sql, readOnly: true });

describe('refuseUnguardedWrites', () => {
  it.each([
    "SELECT lo_from_bytea(0, 'x') AS id",
    'SELECT pg_catalog.lo_create(0)',
    'SELECT "lo_put"(1, 0, \'x\')',
    'SELECT LO_UNLINK (1)',
    "SELECT lo_import/* a comment */('/etc/hosts')",
    "SELECT lowrite(lo_open(1, 131072), 'x')",
    "SELECT pg_notify('channel', 'payload')",
    "SELECT * FROM dblink('dbname=x', 'SELECT 1') AS t(a int)",
    "SELECT dblink_exec('dbname=x', 'DROP TABLE t')",
    'SELECT lo_truncate64(0, 1)\n-- trailing',
    // A literal holding a comment opener does not hide what follows it.
    "SELECT '--' AS a, lo_from_bytea(0, 'x') AS v",
    "SELECT '/*' AS a, lo_from_bytea(0, 'x') AS v, '*/' AS b",
    "SELECT $$--$$ AS a, pg_notify('c', 'x')",
    // SQL given as text could call anything.
    "SELECT query_to_xml('SELECT lo_' || 'from_bytea(0, ''x'')', true, false, '')",
    "SELECT * FROM ts_stat('SELECT to_tsvector(name) FROM t')",
  ])('refuses %s in a source', (sql) => {
    expect(source(sql)).toThrow(WarehouseError);
    expect(source(sql)).toThrow(/may not call/);
  });

  it('refuses Unicode-escaped identifiers in a source', () => {
    expect(source('SELECT U&"\\006co_create"(0)')).toThrow(/Unicode-escaped/);
  });

  it.each([
    'SELECT lo_id, "lo_value", name FROM t',
    "SELECT * FROM t WHERE kind = 'blob'",
    'SELECT hello_lo_create(1)',
    'SELECT count(*) FROM solo_put',
    "SELECT 'remember to call lo_put(x) later' AS note FROM t",
    "SELECT * FROM t WHERE note LIKE '%pg_notify (%'",
    'SELECT \'U&"x"\' AS a FROM t',
    'WITH dblink_data (id, geom) AS (SELECT 1, NULL) SELECT * FROM dblink_data',
    'SELECT * FROM t AS pg_notify (id, geom, note)',
    '-- lo_create(0) in a comment\nSELECT 1',
  ])('lets %s through', (sql) => {
    expect(source(sql)).not.toThrow();
  });

  it('leaves statements that are not sources to the connection', () => {
    expect(() => refuseUnguardedWrites({ sql: "SELECT lo_from_bytea(0, 'x')" })).not.toThrow();
  });
});
