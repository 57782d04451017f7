import { afterEach, expect, it } from 'vitest';
import { describeEachStore, type TestStore } from '../../test/support/metadata-store.js';
import type { Store } from '../store/store.js';
import type { Actor } from '../users/caller.js';
import { UserStore } from '../users/user-store.js';
import { InvitationService } from './invitation-service.js';

const BASE_URL = 'https://maps.example.com';
const PASSWORD = 'a long enough password';

const opened: TestStore[] = [];

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

async function accountIn(store: Store, id: string): Promise<Actor> {
  await store
    .insertInto('accounts')
    .values({ id, name: `Account ${id}`, created_at: new Date().toISOString() })
    .execute();
  return { accountId: id, userId: null, subject: 'cli' };
}

/** The secret at the end of an invitation link. */
const secretOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

describeEachStore('invitations', (open) => {
  async function setUp() {
    const opening = await open();
    opened.push(opening);
    const actor = await accountIn(opening.store, 'ac_inviting');
    return { store: opening.store, actor, service: new InvitationService(opening.store) };
  }

  it('makes a user exactly once when the same link is accepted many times at once', async () => {
    const { store, actor, service } = await setUp();
    const invited = await service.create(
      actor,
      { email: 'Race@Example.com', role: 'editor' },
      BASE_URL,
    );
    expect(invited.invitation_url).toMatch(
      /^https:\/\/maps\.example\.com\/invitations\/[\w-]{43}$/,
    );

    const secret = secretOf(invited.invitation_url);
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        service.accept(secret, { name: `Racer ${i}`, password: PASSWORD }, '127.0.0.1'),
      ),
    );

    expect(outcomes.filter((outcome) => outcome.status === 'accepted')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.status === 'unusable')).toHaveLength(5);
    const users = await new UserStore(store).list(actor.accountId);
    expect(users.map(({ email, role, hasPassword }) => ({ email, role, hasPassword }))).toEqual([
      { email: 'race@example.com', role: 'editor', hasPassword: true },
    ]);
    const row = await store
      .selectFrom('invitations')
      .select(['accepted_at', 'accepted_user_id', 'secret_hash'])
      .executeTakeFirstOrThrow();
    expect(row.accepted_user_id).toBe(users[0]!.id);
    expect(row.accepted_at).not.toBeNull();
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.secret_hash).not.toContain(secret);
    expect(await service.list(actor.accountId)).toEqual([]);
  });

  it('leaves the invitation open when the address became a user meanwhile', async () => {
    const { store, actor, service } = await setUp();
    const invited = await service.create(
      actor,
      { email: 'late@example.com', role: 'viewer' },
      BASE_URL,
    );
    await new UserStore(store).create({
      accountId: actor.accountId,
      email: 'late@example.com',
      name: 'Late',
      role: 'admin',
      passwordHash: null,
    });

    const outcome = await service.accept(
      secretOf(invited.invitation_url),
      { name: '', password: PASSWORD },
      '127.0.0.1',
    );

    expect(outcome).toEqual({ status: 'email_taken' });
    expect((await service.list(actor.accountId)).map((i) => i.id)).toEqual([invited.id]);
  });

  it('replaces a pending invitation of the same address; the old link stops working', async () => {
    const { actor, service } = await setUp();
    const first = await service.create(
      actor,
      { email: 'twice@example.com', role: 'viewer' },
      BASE_URL,
    );
    const second = await service.create(
      actor,
      { email: 'twice@example.com', role: 'admin' },
      BASE_URL,
    );

    expect((await service.list(actor.accountId)).map(({ id, role }) => ({ id, role }))).toEqual([
      { id: second.id, role: 'admin' },
    ]);
    expect(await service.summary(secretOf(first.invitation_url))).toBeUndefined();
    expect(await service.summary(secretOf(second.invitation_url))).toEqual({
      email: 'twice@example.com',
      role: 'admin',
      accountName: 'Account ac_inviting',
    });
  });

  it('refuses expired and revoked links alike, and checks the name and password', async () => {
    const { store, actor, service } = await setUp();
    const expiring = await service.create(
      actor,
      { email: 'old@example.com', role: 'viewer' },
      BASE_URL,
    );
    await store
      .updateTable('invitations')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', expiring.id)
      .execute();
    const revoked = await service.create(
      actor,
      { email: 'gone@example.com', role: 'viewer' },
      BASE_URL,
    );
    await service.revoke(actor, revoked.id);
    const open = await service.create(
      actor,
      { email: 'new@example.com', role: 'viewer' },
      BASE_URL,
    );
    const form = { name: 'Someone', password: PASSWORD };

    for (const url of [expiring.invitation_url, revoked.invitation_url, `${BASE_URL}/x`]) {
      expect(await service.accept(secretOf(url), form, '127.0.0.1')).toEqual({
        status: 'unusable',
      });
    }
    const secret = secretOf(open.invitation_url);
    expect(await service.accept(secret, { ...form, password: 'short' }, '')).toMatchObject({
      status: 'invalid',
      field: 'password',
      message: 'a password needs at least 10 characters',
    });
    expect(await service.accept(secret, { ...form, name: 'Bad\u0007name' }, '')).toMatchObject({
      status: 'invalid',
      field: 'name',
      message: 'the name must not contain control characters',
    });
    expect((await service.list(actor.accountId)).map((i) => i.id)).toEqual([open.id]);
  });
});
