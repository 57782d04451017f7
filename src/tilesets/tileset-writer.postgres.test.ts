import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  connectAsSuperuser,
  describeWithPostgres,
  driverOptionsFor,
  pollUntil,
  runAsSuperuser,
} from '../../test/support/postgres.js';
import { PostgresDriver } from '../warehouses/postgres/postgres-driver.js';
import { dropTemporaryTable } from './tileset-writer.js';

describeWithPostgres('dropTemporaryTable', (info) => {
  const table = `${info.schema}._graticule_tileset_${randomBytes(4).toString('hex')}`;
  let driver: PostgresDriver;

  beforeAll(() => {
    driver = new PostgresDriver(driverOptionsFor(info));
  });
  afterAll(async () => {
    await driver.close();
    await runAsSuperuser(info, `DROP TABLE IF EXISTS ${table}`);
  });

  it('drops the table later when the warehouse is busy with it at first', async () => {
    await runAsSuperuser(
      info,
      `CREATE TABLE ${table} (z int); ALTER TABLE ${table} OWNER TO ${info.username};`,
    );
    // Another session holds the table, so the first DROP runs out of time waiting for it.
    const holder = await connectAsSuperuser(info);
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    await dropTemporaryTable(driver, table, 200, [100, 100, 2_000]);
    const exists = async () =>
      (await runAsSuperuser(info, `SELECT to_regclass('${table}') IS NOT NULL AS e`))[0]!.e;
    // Answered after the first attempt: the table is still there, and goes once released.
    expect(await exists()).toBe(true);
    await holder.query('ROLLBACK');
    await holder.end();
    expect(await pollUntil(async () => !(await exists()), 10_000)).toBe(true);
  });
});
