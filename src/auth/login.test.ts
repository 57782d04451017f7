import { afterEach, expect, it } from 'vitest';
import {
  describeEachStore,
  openTestStore,
  type TestStore,
} from '../../test/support/metadata-store.js';
import { UserStore } from '../users/user-store.js';
import { FREE_FAILED_LOGINS, verifyLogin } from './login.js';
import { hashPassword } from './password.js';

const opened: TestStore[] = [];

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

describeEachStore('sign-in failures', (open) => {
  it('counts every failed attempt made at once, and pauses sign-ins after them', async () => {
    const testStore = await open();
    opened.push(testStore);
    const { store } = testStore;
    await store
      .insertInto('accounts')
      .values({ id: 'ac_login', name: 'Login', created_at: new Date().toISOString() })
      .execute();
    const users = new UserStore(store);
    const user = await users.create({
      accountId: 'ac_login',
      email: 'someone@example.com',
      name: 'Someone',
      role: 'viewer',
      passwordHash: await hashPassword('the right password'),
    });

    const attempts = FREE_FAILED_LOGINS + 2;
    const results = await Promise.all(
      Array.from({ length: attempts }, () =>
        verifyLogin(store, { email: 'someone@example.com', password: 'wrong', ip: '127.0.0.1' }),
      ),
    );
    expect(results.every((result) => !result.ok)).toBe(true);
    const row = await store
      .selectFrom('users')
      .select(['failed_logins', 'locked_until'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row.failed_logins).toBe(attempts);
    expect(Date.parse(row.locked_until!)).toBeGreaterThan(Date.now());

    // The right password sent among a burst of wrong ones does not get in either.
    await store
      .updateTable('users')
      .set({ failed_logins: 0, locked_until: null })
      .where('id', '=', user.id)
      .execute();
    // Hashes run a few at a time, in order: the last one ends after most failures counted.
    const wrong = 4 * FREE_FAILED_LOGINS;
    const burst = await Promise.all(
      Array.from({ length: wrong + 1 }, (_, i) =>
        verifyLogin(store, {
          email: 'someone@example.com',
          password: i === wrong ? 'the right password' : 'wrong',
          ip: '127.0.0.1',
        }),
      ),
    );
    expect(burst.at(-1)).toMatchObject({ ok: false, reason: 'locked' });

    const paused = await verifyLogin(store, {
      email: 'someone@example.com',
      password: 'the right password',
      ip: '127.0.0.1',
    });
    expect(paused).toMatchObject({ ok: false, reason: 'locked' });
  });
});

it('counts every failed attempt at once for an address that is no user', async () => {
  const testStore = await openTestStore('sqlite', null);
  opened.push(testStore);
  const email = `nobody-${Date.now()}@example.com`;
  const attempt = () =>
    verifyLogin(testStore.store, { email, password: 'whatever', ip: '127.0.0.1' });
  await Promise.all(Array.from({ length: FREE_FAILED_LOGINS + 1 }, attempt));
  expect(await attempt()).toMatchObject({ ok: false, reason: 'locked' });
});
