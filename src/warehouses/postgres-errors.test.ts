import { describe, expect, it } from 'vitest';
import { WarehouseError } from './driver.js';
import {
  PostgresServerError,
  errorKindOfSqlState,
  warehouseErrorFromPostgres,
} from './postgres-errors.js';

describe('errorKindOfSqlState', () => {
  it.each([
    ['42601', 'syntax'],
    ['42P10', 'syntax'],
    ['42P01', 'undefined_object'],
    ['42703', 'undefined_object'],
    ['42883', 'undefined_object'],
    ['3F000', 'undefined_object'],
    ['22P02', 'invalid_input'],
    ['23505', 'invalid_input'],
    ['42501', 'permission'],
    ['57014', 'cancelled'],
    ['XX000', 'invalid_input'],
    ['XX001', 'internal'],
    ['53200', 'invalid_input'],
    ['53100', 'invalid_input'],
    ['58P01', 'invalid_input'],
    ['58000', 'invalid_input'],
    ['58030', 'internal'],
    [undefined, 'internal'],
  ] as const)('classifies %s as %s', (sqlState, kind) => {
    expect(errorKindOfSqlState(sqlState)).toBe(kind);
  });
});

describe('warehouseErrorFromPostgres', () => {
  it("keeps the server's message, SQLSTATE and fields", () => {
    const error = warehouseErrorFromPostgres({
      code: '42601',
      message: 'syntax error at or near "SELEC"',
      position: '1',
    });

    expect(error).toBeInstanceOf(WarehouseError);
    expect(error).toMatchObject({ kind: 'syntax', sqlState: '42601' });
    expect(error.message).toBe('syntax error at or near "SELEC"');
    expect(error.cause).toBeInstanceOf(PostgresServerError);
    expect(error.cause).toMatchObject({ code: '42601', position: '1' });
  });
});
