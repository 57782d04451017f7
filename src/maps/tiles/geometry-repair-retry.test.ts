import { describe, expect, it } from 'vitest';
import { WarehouseError } from '../../warehouses/driver.js';
import { retryWithRepairedGeometries } from './geometry-repair-retry.js';

describe('retrying a tile with repaired geometries', () => {
  it('runs once more with repair after a GEOS failure (SQLSTATE XX000)', async () => {
    const attempts: boolean[] = [];

    const outcome = await retryWithRepairedGeometries(async (repair) => {
      attempts.push(repair);
      if (!repair) throw new WarehouseError('invalid_input', 'TopologyException', 'XX000');
      return 'tile';
    }, 10_000);

    expect(attempts).toEqual([false, true]);
    expect(outcome).toEqual({ result: 'tile', repaired: true });
  });

  it('retries when the statement ended without a result', async () => {
    const outcome = await retryWithRepairedGeometries(
      async (repair) => (repair ? 'tile' : undefined),
      10_000,
    );

    expect(outcome).toEqual({ result: 'tile', repaired: true });
  });

  it('lets other failures through without a second attempt', async () => {
    let attempts = 0;
    const failure = new WarehouseError('timeout', 'canceling statement', '57014');

    await expect(
      retryWithRepairedGeometries(async () => {
        attempts += 1;
        throw failure;
      }, 10_000),
    ).rejects.toBe(failure);
    expect(attempts).toBe(1);
  });

  it('fails as a timeout without querying when no time is left', async () => {
    await expect(retryWithRepairedGeometries(async () => 'tile', 0)).rejects.toMatchObject({
      kind: 'timeout',
    });
  });
});
