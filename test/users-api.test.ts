import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../src/accounts/accounts.js';
import { ApplicationService } from '../src/apps/application-service.js';
import { openStore } from '../src/store/store.js';
import { fetchToken } from './support/api.js';
import { callApi } from './support/identity.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

let server: ServerProcess;
let adminToken = '';
let accountId = '';
let adminId = '';
let other: { accountId: string; token: string; adminEmail: string };

const call = (token: string, method: string, route: string, body?: unknown) =>
  callApi(server.baseUrl, token, method, route, body);

const admin = (method: string, route: string, body?: unknown) =>
  call(adminToken, method, route, body);

/** A token acting for a user: a Machine to Machine application it owns, made in the store. */
async function tokenFor(userId: string): Promise<{ token: string; clientId: string }> {
  const store = await openStore(server.dataDir);
  try {
    const actor = { accountId, userId: null, subject: 'test' };
    const app = await new ApplicationService(store).create(actor, userId, {
      name: `Acts for ${userId}`,
      type: 'machine_to_machine',
    });
    const token = await fetchToken(server.baseUrl, app.client_id, app.client_secret!);
    return { token, clientId: app.client_id };
  } finally {
    await store.destroy();
  }
}

async function addUser(email: string, role: string, extra: Record<string, unknown> = {}) {
  const created = await admin('POST', '/v3/account/users', { email, role, ...extra });
  expect(created.status, created.text).toBe(201);
  return created.body as { id: string; email: string; role: string };
}

beforeAll(async () => {
  server = await startServerProcess({ loadDemoData: false });
  adminToken = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
  const me = await admin('GET', '/v3/me');
  accountId = me.body.account_id;
  adminId = me.body.id;
  const store = await openStore(server.dataDir);
  try {
    const created = await createAccount(store, {
      name: 'Other tenant',
      adminEmail: 'boss@other.example.com',
    });
    other = {
      accountId: created.accountId,
      adminEmail: created.adminEmail,
      token: await fetchToken(server.baseUrl, created.clientId, created.clientSecret),
    };
  } finally {
    await store.destroy();
  }
});

afterAll(async () => {
  await server?.stop();
});

describe('GET /v3/me', () => {
  it('describes the user a machine token acts for, its account and client', async () => {
    const me = await admin('GET', '/v3/me');
    expect(me.status, me.text).toBe(200);
    expect(me.body).toMatchObject({
      id: expect.stringMatching(/^us_/),
      email: 'admin@graticule.local',
      name: 'Administrator',
      role: 'admin',
      account_id: expect.stringMatching(/^ac_/),
      account_name: 'Graticule',
      token_kind: 'machine',
      client_id: server.clientId,
    });
    expect(me.body.permissions).toContain('admin:account');

    const theirs = await call(other.token, 'GET', '/v3/me');
    expect(theirs.body).toMatchObject({
      email: 'boss@other.example.com',
      account_id: other.accountId,
      account_name: 'Other tenant',
    });
    expect((await call('', 'GET', '/v3/me')).status).toBe(401);
  });
});

describe('account users', () => {
  it('adds a user with a password, answering neither the password nor its hash', async () => {
    const password = 'correct horse battery staple';
    const created = await admin('POST', '/v3/account/users', {
      email: 'Ada@Example.COM',
      name: 'Ada Lovelace',
      role: 'editor',
      password,
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      role: 'editor',
      disabled: false,
      has_password: true,
    });
    expect(created.text).not.toContain(password);
    expect(created.text).not.toMatch(/scrypt|hash/);

    const list = await admin('GET', '/v3/account/users');
    expect(list.status).toBe(200);
    expect(list.body.data.map((u: { email: string }) => u.email)).toEqual([
      'admin@graticule.local',
      'ada@example.com',
    ]);
    const got = await admin('GET', `/v3/account/users/${created.body.id}`);
    expect(got.body).toEqual(created.body);
  });

  it('answers 409 for an e-mail taken in any account, whatever its case', async () => {
    await addUser('grace@example.com', 'viewer');
    for (const email of ['GRACE@example.com', 'boss@other.example.com']) {
      const taken = await admin('POST', '/v3/account/users', { email, role: 'viewer' });
      expect(taken.status, email).toBe(409);
      expect(taken.body).toMatchObject({ status: 409, code: 'email_taken' });
    }
  });

  it('answers 400 for a bad e-mail, role, password or field', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ email: 'not-an-email', role: 'viewer' }, /email/],
      [{ email: 'a b@example.com', role: 'viewer' }, /email/],
      [{ role: 'viewer' }, /email/],
      [{ email: 'x@example.com', role: 'owner' }, /role.*admin, editor, viewer/],
      [{ email: 'x@example.com' }, /role/],
      [{ email: 'x@example.com', role: 'viewer', password: 'short' }, /at least 10/],
      [{ email: 'x@example.com', role: 'viewer', password_hash: 'x' }, /password_hash/],
    ];
    for (const [body, message] of bad) {
      const reply = await admin('POST', '/v3/account/users', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error, JSON.stringify(body)).toMatch(message);
    }
    const user = await addUser('bad-patch@example.com', 'viewer');
    for (const body of [{}, { disabled: 'yes' }, { email: 'new@example.com' }, { role: 'x' }]) {
      const reply = await admin('PATCH', `/v3/account/users/${user.id}`, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('changes role, name, password and disabled; a disabled user is refused', async () => {
    const user = await addUser('linus@example.com', 'editor');
    const { token } = await tokenFor(user.id);
    expect((await call(token, 'GET', '/v3/me')).body.role).toBe('editor');

    const changed = await admin('PATCH', `/v3/account/users/${user.id}`, {
      role: 'admin',
      name: 'Linus',
      password: 'a much longer password',
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({ role: 'admin', name: 'Linus', has_password: true });
    expect((await call(token, 'GET', '/v3/me')).body.role).toBe('admin');

    const disabled = await admin('PATCH', `/v3/account/users/${user.id}`, { disabled: true });
    expect(disabled.body).toMatchObject({ disabled: true, disabled_at: expect.any(String) });
    const refused = await call(token, 'GET', '/v3/me');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ status: 403, code: 'user_disabled' });

    const enabled = await admin('PATCH', `/v3/account/users/${user.id}`, { disabled: false });
    expect(enabled.body).toMatchObject({ disabled: false, disabled_at: null });
    expect((await call(token, 'GET', '/v3/me')).status).toBe(200);
  });

  it("refuses with 409 changing one's own role, disabling or deleting oneself", async () => {
    const self = `/v3/account/users/${adminId}`;
    for (const [method, body] of [
      ['PATCH', { role: 'editor' }],
      ['PATCH', { disabled: true }],
      ['DELETE', undefined],
    ] as const) {
      const reply = await admin(method, self, body);
      expect(reply.status, `${method} ${JSON.stringify(body)}`).toBe(409);
      expect(reply.body.code).toBe('user_conflict');
    }
    const renamed = await admin('PATCH', self, { name: 'Administrator' });
    expect(renamed.status).toBe(200);
  });

  it('refuses with 409 deleting a user who owns applications, then deletes once free', async () => {
    const user = await addUser('owner@example.com', 'editor');
    const { clientId } = await tokenFor(user.id);
    const refused = await admin('DELETE', `/v3/account/users/${user.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/owns 1 application/);

    expect((await admin('DELETE', `/v3/applications/${clientId}`)).status).toBe(204);
    expect((await admin('DELETE', `/v3/account/users/${user.id}`)).status).toBe(204);
    expect((await admin('GET', `/v3/account/users/${user.id}`)).status).toBe(404);
  });

  it("answers 404 for another account's users", async () => {
    const theirs = await call(other.token, 'GET', '/v3/account/users');
    expect(theirs.body.data.map((u: { email: string }) => u.email)).toEqual([other.adminEmail]);
    const theirAdmin = theirs.body.data[0].id as string;
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { name: 'Hijacked' }],
      ['DELETE', undefined],
    ] as const) {
      const reply = await admin(method, `/v3/account/users/${theirAdmin}`, body);
      expect(reply.status, method).toBe(404);
      expect(reply.body.code).toBe('user_not_found');
    }
    const ours = (await admin('GET', '/v3/account/users')).body.data[0].id as string;
    expect((await call(other.token, 'GET', `/v3/account/users/${ours}`)).status).toBe(404);
  });

  it('lets only admins manage users and read the audit log', async () => {
    const user = await addUser('editor-only@example.com', 'editor');
    const { token } = await tokenFor(user.id);
    for (const [method, route, body] of [
      ['GET', '/v3/account/users'],
      ['POST', '/v3/account/users', { email: 'sneaky@example.com', role: 'admin' }],
      ['PATCH', `/v3/account/users/${user.id}`, { role: 'admin' }],
      ['GET', '/v3/account/audit'],
    ] as const) {
      const reply = await call(token, method, route, body);
      expect(reply.status, `${method} ${route}`).toBe(403);
      expect(reply.body.error).toMatch(/admin:account/);
    }
    expect((await call(token, 'GET', '/v3/me')).status).toBe(200);
  });
});

describe('audit log', () => {
  it('records user events without passwords, newest first, filtered and paged', async () => {
    const password = 'a secret passphrase 42';
    const user = await addUser('audited@example.com', 'viewer', { password });
    await admin('PATCH', `/v3/account/users/${user.id}`, { role: 'editor', password });
    await admin('DELETE', `/v3/account/users/${user.id}`);

    const all = await admin('GET', '/v3/account/audit');
    expect(all.status, all.text).toBe(200);
    const mine = all.body.data.filter((e: { target: string }) => e.target === user.id);
    expect(mine.map((e: { event: string }) => e.event)).toEqual([
      'user.deleted',
      'user.updated',
      'user.created',
    ]);
    expect(mine[1].details).toEqual({ fields: ['role', 'password'], role: 'editor' });
    expect(mine[2]).toMatchObject({
      actor: server.clientId,
      details: { email: 'audited@example.com', role: 'viewer' },
    });
    expect(all.text).not.toContain(password);

    const created = await admin('GET', '/v3/account/audit?event=user.created&limit=2');
    expect(created.body.data).toHaveLength(2);
    expect(created.body.data.every((e: { event: string }) => e.event === 'user.created')).toBe(
      true,
    );
    const next = created.body.meta.next_before as number;
    expect(next).toBe(created.body.data[1].seq);
    const older = await admin('GET', `/v3/account/audit?event=user.created&limit=2&before=${next}`);
    expect(older.body.data.length).toBeGreaterThan(0);
    expect(older.body.data.every((e: { seq: number }) => e.seq < next)).toBe(true);

    const theirs = await call(other.token, 'GET', '/v3/account/audit');
    expect(theirs.text).not.toContain('audited@example.com');
    for (const query of ['limit=0', 'limit=abc', 'limit=5000', 'before=-1']) {
      const bad = await admin('GET', `/v3/account/audit?${query}`);
      expect(bad.status, query).toBe(400);
    }
  });
});
