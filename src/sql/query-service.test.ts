import { describe, expect, it } from 'vitest';
import type {
  WarehouseArrayRowStream,
  WarehouseDriver,
  WarehouseRowStream,
} from '../warehouses/driver.js';
import { runUserQuery } from './query-service.js';

type Row = Record<string, unknown>;

/** A driver whose one statement yields `batches`, recording the batch sizes asked for. */
function driverYielding(batches: Row[][], asked: number[] = []): WarehouseDriver {
  const stream: WarehouseRowStream = {
    fields: Object.keys(batches[0]?.[0] ?? {}).map((name) => ({
      name,
      nativeType: 'unknown',
      cartoType: 'unknown',
    })),
    rows: (async function* () {
      yield* batches;
    })(),
    close: async () => undefined,
    setBatchRows: (rows) => asked.push(rows),
  };
  return {
    provider: 'postgres',
    capabilities: { nativeMvt: false, jsonTiles: false, cancellable: true },
    query: () => Promise.reject(new Error('not used')),
    stream: () => Promise.resolve(stream),
    test: () => Promise.reject(new Error('not used')),
    close: async () => undefined,
  };
}

/** A driver that reads rows as arrays, its cells being the values themselves. */
function driverYieldingArrays(names: string[], batches: unknown[][][]): WarehouseDriver {
  const reader = {
    valueOf: (cell: unknown) => cell,
    jsonOf: (cell: unknown) => JSON.stringify(cell),
  };
  const stream: WarehouseArrayRowStream = {
    fields: names.map((name) => ({ name, nativeType: 'unknown', cartoType: 'unknown' })),
    readers: names.map(() => reader),
    rows: (async function* () {
      yield* batches;
    })(),
    close: async () => undefined,
  };
  return {
    ...driverYielding([]),
    stream: () => Promise.reject(new Error('not used')),
    streamArrays: () => Promise.resolve(stream),
  };
}

const LIMITS = { maxRows: 1_000, timeoutMs: 1_000, bufferBytes: 1e9 };

async function rowsTextOf(driver: WarehouseDriver): Promise<string> {
  const answer = await runUserQuery(driver, 'SELECT 1', [], LIMITS);
  if (answer.kind !== 'whole') throw new Error('expected a whole answer');
  return answer.json.slice('{"rows":'.length, answer.json.indexOf('],"schema"') + 1);
}

describe('runUserQuery rows', () => {
  it('writes every row exactly as JSON.stringify does', async () => {
    const odd: Row = {
      b: 1,
      '2': 'two',
      '1': null,
      '': 'empty name',
      'quote " and \n': 'line\u2028sep \ud800 lone',
      missing: undefined,
      nan: NaN,
      inf: -Infinity,
      negativeZero: -0,
      object: { a: [1, 'x', null], b: { c: true } },
      list: [1.5, 2e-7, 1e21],
      yes: true,
      no: false,
      big: '9007199254740993',
      fn: () => 1,
    };
    const batches = [[odd, { ...odd, b: undefined, missing: 3 }], [{ ...odd, '1': 'one' }]];

    const text = await rowsTextOf(driverYielding(batches));

    expect(text).toBe(
      `[${batches
        .flat()
        .map((row) => JSON.stringify(row))
        .join(',')}]`,
    );
  });

  it('leaves out a first key without a value and writes empty rows', async () => {
    const batches = [[{ a: undefined, b: 2 }], [{}], [{ __proto__: 1, x: 2 } as Row]];

    const text = await rowsTextOf(driverYielding(batches));

    expect(text).toBe(
      `[${batches
        .flat()
        .map((row) => JSON.stringify(row))
        .join(',')}]`,
    );
  });

  it('asks for larger batches of narrow rows and keeps wide ones at 1,000', async () => {
    const asked: number[] = [];
    const narrow = Array.from({ length: 10 }, (_, i) => ({ id: i }));
    const wide = Array.from({ length: 10 }, () => ({ geom: 'ab'.repeat(50_000) }));

    await rowsTextOf(driverYielding([narrow, wide], asked));

    expect(asked).toEqual([2_500, 1_000]);
  });

  it('writes array rows as JSON.stringify writes their objects, keys in its order', async () => {
    const names = ['b', '2', 'quote " and \n', '1', ''];
    const batches = [
      [
        [1.5, 'two', null, [1, { a: true }], 'x'],
        [null, '', 'line\u2028sep', 0, false],
      ],
      [[-7, 'z', 'y', null, null]],
    ];
    const objectOf = (row: unknown[]) => Object.fromEntries(names.map((name, i) => [name, row[i]]));

    const text = await rowsTextOf(driverYieldingArrays(names, batches));

    expect(text).toBe(JSON.stringify(batches.flat().map(objectOf)));
  });

  it('splits a large batch into pieces and still writes every row once', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => [i, `row ${i}`.repeat(i % 7)]);
    const driver = driverYieldingArrays(['id', 'label'], [rows]);

    const answer = await runUserQuery(driver, 'SELECT 1', [], { ...LIMITS, maxRows: 50_000 });
    if (answer.kind !== 'whole') throw new Error('expected a whole answer');

    expect(JSON.parse(answer.json).rows).toEqual(rows.map(([id, label]) => ({ id, label })));
  });
});
