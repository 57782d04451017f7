import { beforeAll, describe, expect, inject, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { runCliAsync, type AsyncCliRun } from './support/cli-async.js';

const { baseUrl } = sharedServer();
const dataDir = inject('dataDir');

type CliRun = AsyncCliRun;

/** Runs the built `graticule` command on the shared server's data directory. */
function runCli(args: string[], input = ''): Promise<CliRun> {
  return runCliAsync(args, { dataDir, input });
}

async function runJson(args: string[], input = ''): Promise<any> {
  const run = await runCli([...args, '--json'], input);
  expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout);
}

/** A failure is one line on stderr, with no stack trace, and a non-zero exit. */
function expectOneLineError(run: CliRun, message: RegExp): void {
  expect(run.status).not.toBe(0);
  expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

async function tokenRequest(clientId: string, secret: string, how: 'post' | 'basic') {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
  };
  if (how === 'post') {
    form.set('client_id', clientId);
    form.set('client_secret', secret);
  } else {
    headers.Authorization = `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;
  }
  const response = await fetch(`${baseUrl}/oauth/token`, { method: 'POST', headers, body: form });
  return response.status;
}

const ADMIN_PASSWORD = 'operator chosen password';
let account = '';
let adminEmail = '';

beforeAll(async () => {
  const created = await runJson([
    'accounts',
    'create',
    '--name',
    'CLI tenant',
    '--admin-email',
    'Chief@Cli.Example.com',
  ]);
  account = created.accountId;
  adminEmail = created.adminEmail;
});

describe('graticule accounts', () => {
  it('creates an account whose admin and Machine to Machine application work at once', async () => {
    const run = await runCli(
      ['accounts', 'create', '--name', 'Stdin tenant', '--admin-password-stdin'],
      `${ADMIN_PASSWORD}\n`,
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Account ac_[0-9a-f]+ created \(admin admin@ac_[0-9a-f]+\.local\)/);
    const clientId = /client id:\s+(\S+)/.exec(run.stdout)![1]!;
    const clientSecret = /client secret:\s+(\S+)/.exec(run.stdout)![1]!;
    expect(await tokenRequest(clientId, clientSecret, 'post')).toBe(200);
    expect(run.stdout).not.toContain(ADMIN_PASSWORD);

    const users = await runJson([
      'users',
      'list',
      '--account',
      /Account (ac_[0-9a-f]+)/.exec(run.stdout)![1]!,
    ]);
    expect(users).toMatchObject([{ role: 'admin', has_password: true }]);
  });

  it('lower-cases the admin e-mail, warns about a password on the command line', async () => {
    expect(adminEmail).toBe('chief@cli.example.com');
    const run = await runCli([
      'accounts',
      'create',
      '--name',
      'Argv tenant',
      '--admin-password',
      ADMIN_PASSWORD,
    ]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/warning: .*visible to other users/);

    const taken = await runCli([
      'accounts',
      'create',
      '--name',
      'Dup',
      '--admin-email',
      adminEmail,
    ]);
    expectOneLineError(taken, /already exists/);
    const weak = await runCli(
      ['accounts', 'create', '--name', 'Weak', '--admin-password-stdin'],
      'short\n',
    );
    expectOneLineError(weak, /at least 10 characters/);
  });
});

describe('graticule users', () => {
  it('adds, lists, changes the role of, disables and removes users', async () => {
    const added = await runJson(
      ['users', 'add', 'Dev@Cli.Example.com', '--role', 'editor', '--account', account],
      '',
    );
    expect(added).toMatchObject({ email: 'dev@cli.example.com', role: 'editor', name: 'dev' });

    const list = await runCli(['users', 'list', '--account', account]);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+EMAIL\s+NAME\s+ROLE\s+STATUS\s+PASSWORD/);
    expect(list.stdout).toMatch(/dev@cli\.example\.com\s+dev\s+editor\s+enabled\s+-/);

    const promoted = await runJson(['users', 'set-role', added.id, 'admin', '--account', account]);
    expect(promoted.role).toBe('admin');
    const disabled = await runJson(['users', 'disable', added.email, '--account', account]);
    expect(disabled.disabled).toBe(true);
    const enabled = await runJson(['users', 'enable', added.email, '--account', account]);
    expect(enabled.disabled).toBe(false);

    const removed = await runCli(['users', 'remove', added.email, '--account', account]);
    expect(removed.status, removed.stderr).toBe(0);
    const users = await runJson(['users', 'list', '--account', account]);
    expect(users.map((u: { email: string }) => u.email)).toEqual([adminEmail]);
  });

  it('sets a password read from stdin, never from the arguments', async () => {
    const user = await runJson(['users', 'add', 'pw@cli.example.com', '--role', 'viewer']);
    expect(user.has_password).toBe(false);
    const set = await runJson(['users', 'set-password', user.email], 'fresh password 123\n');
    expect(set.has_password).toBe(true);
    const flagged = await runCli(
      ['users', 'set-password', user.email, '--password-stdin'],
      'another password 456\n',
    );
    expect(flagged.status, flagged.stderr).toBe(0);

    expectOneLineError(await runCli(['users', 'set-password', user.email], 'short\n'), /at least/);
    expectOneLineError(await runCli(['users', 'set-password', user.email], ''), /no password/);
    await runCli(['users', 'remove', user.email]);
  });

  it('refuses bad roles, unknown users and leaving an account without an admin', async () => {
    expectOneLineError(
      await runCli(['users', 'add', 'x@cli.example.com', '--role', 'owner', '--account', account]),
      /admin, editor, viewer/,
    );
    expectOneLineError(
      await runCli(['users', 'set-role', 'nobody@cli.example.com', 'viewer', '--account', account]),
      /not found/,
    );
    expectOneLineError(
      await runCli(['users', 'set-role', adminEmail, 'viewer', '--account', account]),
      /at least one enabled admin/,
    );
    expectOneLineError(
      await runCli(['users', 'remove', adminEmail, '--account', account]),
      /at least one enabled admin/,
    );
    expectOneLineError(
      await runCli(['users', 'list', '--account', 'ac_missing']),
      /no account 'ac_missing'/,
    );
  });
});

describe('graticule apps', () => {
  it('creates, lists, rotates and deletes applications', async () => {
    const created = await runJson([
      'apps',
      'create',
      '--name',
      'CLI exporter',
      '--type',
      'machine_to_machine',
      '--auth-method',
      'client_secret_basic',
      '--account',
      account,
    ]);
    expect(created).toMatchObject({
      name: 'CLI exporter',
      type: 'machine_to_machine',
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const { client_id: clientId, client_secret: secret } = created;
    expect(await tokenRequest(clientId, secret, 'basic')).toBe(200);
    expect(await tokenRequest(clientId, secret, 'post')).toBe(401);

    const list = await runJson(['apps', 'list', '--account', account]);
    expect(list.map((a: { client_id: string }) => a.client_id)).toContain(clientId);
    expect(JSON.stringify(list)).not.toContain(secret);

    const rotate = await runCli(['apps', 'rotate', clientId, '--account', account]);
    expect(rotate.status, rotate.stderr).toBe(0);
    const newSecret = /client secret:\s+(\S+)/.exec(rotate.stdout)![1]!;
    expect(await tokenRequest(clientId, secret, 'basic')).toBe(401);
    expect(await tokenRequest(clientId, newSecret, 'basic')).toBe(200);

    const owner = await runCli(['users', 'remove', adminEmail, '--account', account]);
    expectOneLineError(owner, /at least one enabled admin|owns/);

    const deleted = await runCli(['apps', 'delete', clientId, '--account', account]);
    expect(deleted.status, deleted.stderr).toBe(0);
    expect(await tokenRequest(clientId, newSecret, 'basic')).toBe(401);
    expectOneLineError(
      await runCli(['apps', 'delete', clientId, '--account', account]),
      /not found/,
    );
  });

  it('creates a single-page app with default URLs and no secret, owned by an editor', async () => {
    await runJson([
      'users',
      'add',
      'spa-owner@cli.example.com',
      '--role',
      'editor',
      '--account',
      account,
    ]);
    const run = await runCli([
      'apps',
      'create',
      '--name',
      'Viewer app',
      '--url',
      'https://viewer.example.com/',
      '--callback-url',
      'https://viewer.example.com/callback',
      '--callback-url',
      'http://localhost:5173/callback',
      '--owner',
      'spa-owner@cli.example.com',
      '--account',
      account,
    ]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/no client secret/);
    const apps = await runJson(['apps', 'list', '--account', account]);
    const app = apps.find((a: { name: string }) => a.name === 'Viewer app');
    expect(app).toMatchObject({
      type: 'single_page',
      token_endpoint_auth_method: 'none',
      callback_urls: ['https://viewer.example.com/callback', 'http://localhost:5173/callback'],
      logout_urls: ['https://viewer.example.com/'],
      web_origins: ['https://viewer.example.com'],
    });

    const owned = await runCli([
      'users',
      'remove',
      'spa-owner@cli.example.com',
      '--account',
      account,
    ]);
    expectOneLineError(owned, /owns 1 application/);
    expectOneLineError(
      await runCli([
        'apps',
        'create',
        '--name',
        'Bad',
        '--url',
        'http://example.com',
        '--account',
        account,
      ]),
      /use https/,
    );
    expectOneLineError(
      await runCli(['apps', 'rotate', app.client_id, '--account', account]),
      /has no secret/,
    );
  });

  it('records what the command line did in the audit log', async () => {
    const token = await fetchToken(baseUrl, inject('clientId'), inject('clientSecret'));
    const response = await fetch(`${baseUrl}/v3/account/audit?limit=1000`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const audit = (await response.json()) as { data: { actor: string; event: string }[] };
    // The bootstrap account saw the users added without --account.
    const cliEvents = audit.data.filter((e) => e.actor === 'cli').map((e) => e.event);
    expect(cliEvents).toEqual(expect.arrayContaining(['user.created', 'user.updated']));
  });
});
