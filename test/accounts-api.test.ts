/**
 * The Accounts API (`/v3/accounts`) end to end: an operator (an Admin of the operator account,
 * made on first start) creates an account; its first Admin chooses a password on the one-time
 * link, signs in, sees nothing of the operator account and is no operator. Everyone else is
 * refused; bad bodies answer 4xx. Also: the store flag that names the operator account.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../src/accounts/accounts.js';
import { ApplicationService } from '../src/apps/application-service.js';
import { migrationProvider } from '../src/store/migrations.js';
import { openStore } from '../src/store/store.js';
import { UserStore } from '../src/users/user-store.js';
import { fetchToken } from './support/api.js';
import { callApi, createUser, uniqueEmail, type ApiReply } from './support/identity.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { signInUser } from './support/user-login.js';
import {
  createScratchDatabase,
  describeWithPostgres,
  type PostgresInfo,
} from './support/postgres.js';

const PASSWORD = 'a first admin password';
const CONSOLE = 'graticule-console';

let server: ServerProcess;
let operatorToken = '';
let operatorAccountId = '';
let operatorConnection = { id: '', name: '' };
let otherAdminToken = '';

const call = (token: string, method: string, route: string, body?: unknown, contentType?: string) =>
  callApi(server.baseUrl, token, method, route, body, contentType);

const operator = (method: string, route: string, body?: unknown) =>
  call(operatorToken, method, route, body);

/** Opens a link's page and sends its form with `name` and `password`, as a browser would. */
async function accept(url: string, name: string, password = PASSWORD) {
  const page = await fetch(url);
  const html = await page.text();
  const cookie = (page.headers.get('set-cookie') ?? '').split(';', 1)[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const response = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie },
    body: new URLSearchParams({ name, password, password_repeat: password, csrf }).toString(),
  });
  return { page: { status: page.status, html }, response, html: await response.text() };
}

/** A signed-in user's access token, through the web console's client. */
function signIn(email: string, password: string): Promise<string> {
  return signInUser({
    baseUrl: server.baseUrl,
    clientId: CONSOLE,
    redirectUri: `${server.baseUrl}/ui/callback`,
    email,
    password,
  });
}

async function withStore<T>(run: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>) {
  const store = await openStore(server.dataDir);
  try {
    return await run(store);
  } finally {
    await store.destroy();
  }
}

function expectError(reply: ApiReply, status: number, code?: string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.body).toMatchObject({ error: expect.any(String), status });
  if (code !== undefined) expect(reply.body.code).toBe(code);
}

beforeAll(async () => {
  server = await startServerProcess({ loadDemoData: false });
  operatorToken = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
  const me = await operator('GET', '/v3/me');
  operatorAccountId = me.body.account_id;
  const name = `pg_operator_${Math.random().toString(36).slice(2, 8)}`;
  const connection = await operator('POST', '/v3/connections', {
    name,
    provider_id: 'postgres',
    config: { host: '127.0.0.1', port: 1, database: 'x', username: 'u', password: 'unused-pw' },
  });
  expect(connection.status, connection.text).toBe(201);
  operatorConnection = { id: connection.body.id, name };
  // Another tenant, made on the command line's path: its Admin is no operator.
  const other = await withStore((store) =>
    createAccount(store, { name: 'Other tenant', adminEmail: uniqueEmail('other-admin') }),
  );
  otherAdminToken = await fetchToken(server.baseUrl, other.clientId, other.clientSecret);
});

afterAll(async () => {
  await server?.stop();
});

describe('the Accounts API for operators', () => {
  it('creates an account whose first Admin sets a password on the link and signs in', async () => {
    const email = uniqueEmail('First-Admin');
    const created = await operator('POST', '/v3/accounts', {
      name: '  Acme  ',
      admin_email: email,
    });

    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toEqual({
      id: expect.stringMatching(/^ac_[0-9a-f]{12}$/),
      name: 'Acme',
      created_at: expect.any(String),
      admin_id: expect.stringMatching(/^us_[0-9a-f]{12}$/),
      admin_email: email.toLowerCase(),
      invitation_url: expect.stringMatching(
        new RegExp(`^${server.baseUrl}/invitations/[A-Za-z0-9_-]{43}$`),
      ),
      invitation_expires_at: expect.any(String),
    });
    const { id, admin_id: adminId, invitation_url: url } = created.body;
    expect(created.headers.get('location')).toBe(`/v3/accounts/${id}`);
    const days =
      (Date.parse(created.body.invitation_expires_at) - Date.parse(created.body.created_at)) /
      864e5;
    expect(days).toBe(7);
    // The Admin has no password until the link is used; no application was made.
    await withStore(async (store) => {
      expect(await new UserStore(store).find(id, adminId)).toMatchObject({ hasPassword: false });
      const apps = await store
        .selectFrom('applications')
        .select('client_id')
        .where('account_id', '=', id)
        .execute();
      expect(apps).toEqual([]);
    });

    const one = await operator('GET', `/v3/accounts/${id}`);
    expect(one.status, one.text).toBe(200);
    expect(one.body).toEqual({
      id,
      name: 'Acme',
      created_at: created.body.created_at,
      operator: false,
      user_count: 1,
    });
    const list = await operator('GET', '/v3/accounts');
    expect(list.status).toBe(200);
    expect(list.body.data).toContainEqual(one.body);
    expect(list.body.data[0]).toMatchObject({ id: operatorAccountId, operator: true });
    expect(list.body.data.filter((account: any) => account.operator)).toHaveLength(1);
    expect(list.body.meta).toEqual({ total: list.body.data.length });
    const secret = url.slice(url.lastIndexOf('/') + 1);
    expect(list.text).not.toContain(secret);

    const joined = await accept(url, 'Ada Admin');
    expect(joined.page.status).toBe(200);
    expect(joined.page.html).toContain('Join Acme');
    expect(joined.response.status, joined.html).toBe(303);
    expect((await accept(url, 'Again')).page.status).toBe(404);

    const adminToken = await signIn(email, PASSWORD);
    const me = await call(adminToken, 'GET', '/v3/me');
    expect(me.body).toMatchObject({
      id: adminId,
      email: email.toLowerCase(),
      name: 'Ada Admin',
      role: 'admin',
      account_id: id,
      account_name: 'Acme',
    });
    expect((await operator('GET', `/v3/accounts/${id}`)).body.user_count).toBe(1);

    // The new account's log tells its beginning; the operator's names the account made.
    const ownLog = await call(adminToken, 'GET', '/v3/account/audit');
    expect(ownLog.status, ownLog.text).toBe(200);
    expect(ownLog.body.data.map((event: any) => event.event).reverse()).toEqual([
      'account.created',
      'user.created',
      'invitation.created',
      'user.updated',
      'invitation.accepted',
      'login.succeeded',
    ]);
    expect(ownLog.body.data.at(-1)).toMatchObject({
      actor: server.clientId,
      target: id,
      details: { name: 'Acme', operator_account_id: operatorAccountId },
    });
    const operatorLog = await operator('GET', '/v3/account/audit?event=account.created');
    expect(operatorLog.body.data[0]).toMatchObject({
      event: 'account.created',
      actor: server.clientId,
      target: id,
      details: { name: 'Acme', admin_email: email.toLowerCase() },
    });
    expect(ownLog.text + operatorLog.text).not.toContain(secret);

    // Isolation: the new account sees none of the operator account's users or connections.
    const users = await call(adminToken, 'GET', '/v3/account/users');
    expect(users.body.data.map((user: any) => user.id)).toEqual([adminId]);
    const connections = await call(adminToken, 'GET', '/v3/connections');
    expect(connections.status, connections.text).toBe(200);
    expect(connections.text).not.toContain(operatorConnection.id);
    expect(connections.text).not.toContain(operatorConnection.name);
    const theirs = await call(adminToken, 'GET', `/v3/connections/${operatorConnection.id}`);
    expect(theirs.status).toBe(404);

    // Its Admin is no operator.
    expectError(await call(adminToken, 'GET', '/v3/accounts'), 403, 'forbidden');
    const refused = await call(adminToken, 'POST', '/v3/accounts', {
      name: 'Nested',
      admin_email: uniqueEmail('nested'),
    });
    expectError(refused, 403, 'forbidden');
    expectError(await call(adminToken, 'GET', `/v3/accounts/${id}`), 403, 'forbidden');
  });

  it('refuses callers who are not operators', async () => {
    const body = { name: 'Refused', admin_email: uniqueEmail('refused') };
    const before = (await operator('GET', '/v3/accounts')).body.meta.total;

    expectError(await call('', 'GET', '/v3/accounts'), 401);
    expectError(await call('', 'POST', '/v3/accounts', body), 401);
    for (const [method, route] of [
      ['GET', '/v3/accounts'],
      ['POST', '/v3/accounts'],
      ['GET', `/v3/accounts/${operatorAccountId}`],
    ] as const) {
      const answer = await call(
        otherAdminToken,
        method,
        route,
        method === 'POST' ? body : undefined,
      );
      expectError(answer, 403, 'forbidden');
    }

    // A Viewer of the operator account, signed in.
    const viewer = { email: uniqueEmail('viewer'), name: 'Viewer', password: 'viewer password' };
    await createUser(server.baseUrl, operatorToken, { ...viewer, role: 'viewer' });
    const viewerToken = await signIn(viewer.email, viewer.password);
    expectError(await call(viewerToken, 'GET', '/v3/accounts'), 403, 'forbidden');
    expectError(await call(viewerToken, 'POST', '/v3/accounts', body), 403, 'forbidden');

    // A Machine to Machine token of the operator account acting for an Editor.
    const editor = await createUser(server.baseUrl, operatorToken, {
      email: uniqueEmail('editor'),
      name: 'Editor',
      role: 'editor',
      password: 'editor password',
    });
    const editorApp = await withStore((store) =>
      new ApplicationService(store).create(
        { accountId: operatorAccountId, userId: null, subject: 'test' },
        editor.id,
        { name: 'Editor machine', type: 'machine_to_machine' },
      ),
    );
    const editorToken = await fetchToken(
      server.baseUrl,
      editorApp.client_id,
      editorApp.client_secret!,
    );
    expectError(await call(editorToken, 'POST', '/v3/accounts', body), 403, 'forbidden');

    // An API access token of the operator account.
    const apiToken = await operator('POST', '/v3/tokens', {
      name: 'accounts refused',
      grants: [{ connection_name: 'carto_dw', source: 'demo.countries' }],
      allowed_apis: ['sql'],
    });
    expect(apiToken.status, apiToken.text).toBe(201);
    expectError(await call(apiToken.body.token, 'GET', '/v3/accounts'), 403, 'forbidden');

    // A refused caller's bad body still answers 403, and nothing was created.
    expectError(await call(otherAdminToken, 'POST', '/v3/accounts', { nonsense: 1 }), 403);
    expect((await operator('GET', '/v3/accounts')).body.meta.total).toBe(before);
  });

  it('answers bad input with 4xx JSON errors and creates nothing', async () => {
    const email = () => uniqueEmail('bad');
    const before = (await operator('GET', '/v3/accounts')).body.meta.total;
    const cases: [unknown, number, string][] = [
      [{ admin_email: email() }, 400, 'missing_parameter'],
      [{ name: '', admin_email: email() }, 400, 'invalid_parameter'],
      [{ name: '   ', admin_email: email() }, 400, 'invalid_parameter'],
      [{ name: 'x'.repeat(256), admin_email: email() }, 400, 'invalid_parameter'],
      [{ name: 42, admin_email: email() }, 400, 'invalid_parameter'],
      [{ name: 'Bell\u0007', admin_email: email() }, 400, 'invalid_parameter'],
      [{ name: 'Nul\u0000', admin_email: email() }, 400, 'invalid_parameter'],
      [{ name: 'No e-mail' }, 400, 'missing_parameter'],
      [{ name: 'Bad e-mail', admin_email: 'not an address' }, 400, 'invalid_parameter'],
      [{ name: 'Nul e-mail', admin_email: 'a\u0000b@example.com' }, 400, 'invalid_parameter'],
      [{ name: 'Long e-mail', admin_email: `${'a'.repeat(250)}@x.com` }, 400, 'invalid_parameter'],
      [{ name: 'Extra', admin_email: email(), password: 'nope' }, 400, 'invalid_parameter'],
      [[{ name: 'Array', admin_email: email() }], 400, 'malformed_body'],
      [{ name: 'Taken', admin_email: 'ADMIN@graticule.local' }, 409, 'email_taken'],
    ];
    for (const [body, status, code] of cases) {
      const answer = await operator('POST', '/v3/accounts', body);
      expect(answer.status, `${JSON.stringify(body)}: ${answer.text}`).toBe(status);
      expect(answer.body).toMatchObject({ error: expect.any(String), status, code });
    }
    const notJson = await call(operatorToken, 'POST', '/v3/accounts', '{"name": ', undefined);
    expect(notJson.status).toBeGreaterThanOrEqual(400);
    expect(notJson.status).toBeLessThan(500);
    expect(notJson.body).toMatchObject({ error: expect.any(String) });

    // A user's e-mail, or the new Admin of an account made a moment ago, is taken everywhere.
    const first = { name: 'Twice', admin_email: email() };
    expect((await operator('POST', '/v3/accounts', first)).status).toBe(201);
    const again = await operator('POST', '/v3/accounts', { ...first, name: 'Twice again' });
    expectError(again, 409, 'email_taken');
    expect((await operator('GET', '/v3/accounts')).body.meta.total).toBe(before + 1);

    expectError(await operator('GET', '/v3/accounts/ac_000000000000'), 404, 'account_not_found');
    for (const id of ['ac_%00', 'x'.repeat(300), '%E2%80%AE']) {
      const answer = await operator('GET', `/v3/accounts/${id}`);
      expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
      expect(answer.status, answer.text).toBeLessThan(500);
      expect(answer.body).toMatchObject({ error: expect.any(String), status: answer.status });
    }
  });
});

/** An empty metadata database of `dialect`, driven by Kysely without the store's start-up. */
async function emptyDatabase(dialect: 'sqlite' | 'postgres', info: PostgresInfo | null) {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'graticule-operator-'));
    const database = new Database(path.join(dir, 'metadata.sqlite'));
    return {
      db: new Kysely<any>({ dialect: new SqliteDialect({ database }) }),
      remove: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const scratch = await createScratchDatabase(info!, 'operator');
  const pool = new pg.Pool({ connectionString: scratch.url, max: 2 });
  return { db: new Kysely<any>({ dialect: new PostgresDialect({ pool }) }), remove: scratch.drop };
}

/** A store made before the flag, with two accounts, migrated to now: the first gets it. */
async function checkOperatorMigration(dialect: 'sqlite' | 'postgres', info: PostgresInfo | null) {
  const { db, remove } = await emptyDatabase(dialect, info);
  try {
    const migrator = new Migrator({ db, provider: migrationProvider });
    expect((await migrator.migrateTo('0006_invitations')).error).toBeUndefined();
    await db
      .insertInto('accounts')
      .values([
        { id: 'ac_later', name: 'Later', created_at: '2025-02-01T00:00:00.000Z' },
        { id: 'ac_first', name: 'Graticule', created_at: '2025-01-01T00:00:00.000Z' },
      ])
      .execute();

    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const rows = await db.selectFrom('accounts').select(['id', 'operator']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'ac_first', operator: 1 },
      { id: 'ac_later', operator: 0 },
    ]);
    // The store keeps one operator account at most.
    const second = sql`UPDATE accounts SET "operator" = 1 WHERE id = 'ac_later'`.execute(db);
    await expect(second).rejects.toMatchObject({
      code: dialect === 'sqlite' ? 'SQLITE_CONSTRAINT_UNIQUE' : '23505',
    });
  } finally {
    await db.destroy();
    await remove();
  }
}

describe('the operator account flag', () => {
  it('goes, in a SQLite store made before it, to the account created first', async () => {
    await checkOperatorMigration('sqlite', null);
  });
});

describeWithPostgres('the operator account flag on PostgreSQL', (info) => {
  it('goes, in a store made before it, to the account created first', async () => {
    await checkOperatorMigration('postgres', info);
  });
});
