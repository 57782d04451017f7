import { describe, expect, it } from 'vitest';
import { mayLeaveSessionState } from './statement-effects.js';

describe('mayLeaveSessionState', () => {
  it.each([
    'SELECT 1',
    '  -- comment\n values (1)',
    'WITH t AS (SELECT 1) SELECT * FROM t',
    'INSERT INTO t VALUES (1)',
    'update t set a = 1;',
  ])('is false for the plain query or data change %j', (sql) => {
    expect(mayLeaveSessionState(sql)).toBe(false);
  });

  it.each([
    'BEGIN',
    'SET search_path = x',
    'CREATE TEMP TABLE t (a int)',
    'PREPARE p AS SELECT 1',
    'DO $$ BEGIN PERFORM 1; END $$',
    'SELECT 1; BEGIN',
    "SELECT set_config('search_path', 'other', false)",
    'SELECT pg_advisory_lock(42)',
    'select PG_TRY_ADVISORY_LOCK(1, 2)',
    `SELECT U&"\\0073et_config"('default_transaction_read_only', 'off', false)`,
    'select u&"pg_advisory_lo\\0063k"(1)',
  ])('is true for %j', (sql) => {
    expect(mayLeaveSessionState(sql)).toBe(true);
  });
});
