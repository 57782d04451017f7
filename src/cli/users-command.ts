import { Command } from 'commander';
import type { Actor } from '../users/caller.js';
import type { Store } from '../store/store.js';
import type { UserService, UserView } from '../users/user-service.js';
import type { InvitationService } from '../invitations/invitation-service.js';
import { CliError, printJson, printTable, withCliContext, type CliContext } from './cli-context.js';

/** The invitations service, loaded when a command runs. */
async function invitationsOf(store: Store): Promise<InvitationService> {
  const { InvitationService } = await import('../invitations/invitation-service.js');
  return new InvitationService(store);
}

/**
 * The base URL of invitation links: the server's public URL, else the address a command next
 * to the server reaches it at (with a warning: people elsewhere may not reach that).
 */
async function invitationBaseUrl(cli: CliContext): Promise<string> {
  if (cli.config.publicUrl) return cli.config.publicUrl;
  const { resolveBaseUrl } = await import('./api-client.js');
  const url = await resolveBaseUrl();
  process.stderr.write(
    `GRATICULE_PUBLIC_URL is not set: the link names ${url}; set it to the address people ` +
      'reach the server at.\n',
  );
  return url;
}

/** The users service, loaded when a command runs rather than when the command tree is built. */
async function usersOf(store: Store): Promise<UserService> {
  const { UserService } = await import('../users/user-service.js');
  return new UserService(store);
}

/** Who the audit log names for changes made on the command line. */
export const CLI_ACTOR = 'cli';

/** The command line acts for the operator: no user, so no rule about "yourself" applies. */
export async function cliActor(cli: CliContext, account?: string): Promise<Actor> {
  return { accountId: await cli.accountId(account), userId: null, subject: CLI_ACTOR };
}

/**
 * Reads a password or secret from stdin, never from an argument, which other users of the
 * machine could read in the process list. One trailing newline is dropped.
 */
export async function readSecretFromStdin(what: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(`${what} (then Enter and Ctrl-D): `);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (text === '') throw new CliError(`no ${what.toLowerCase()} on stdin`);
  return text;
}

function printUsers(rows: UserView[]): void {
  const flat = rows.map((user) => ({
    ...user,
    status: user.disabled ? 'disabled' : 'enabled',
    password: user.has_password ? 'set' : '-',
  }));
  printTable(flat, ['id', 'email', 'name', 'role', 'status', 'password']);
}

interface AccountOption {
  account?: string;
  json?: boolean;
}

/** Runs a change of one user and prints the user afterwards. */
async function changeUser(
  userRef: string,
  options: AccountOption,
  body: Record<string, unknown>,
  done: string,
): Promise<void> {
  const user = await withCliContext(async (cli) =>
    (await usersOf(cli.store)).update(await cliActor(cli, options.account), userRef, body),
  );
  if (options.json) return printJson(user);
  process.stdout.write(`User ${user.email} (${user.id}) ${done}.\n`);
}

export function usersCommand(): Command {
  const users = new Command('users').description("manage an account's users").addHelpText(
    'after',
    `
Examples:
  $ graticule users add dev@example.com --role editor
  $ graticule users set-password admin@graticule.local --password-stdin
  $ graticule users invite new.colleague@example.com --role viewer`,
  );
  const accountOption = ['--account <id>', 'account id (default: the first account)'] as const;

  users
    .command('list')
    .description("list an account's users")
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (options: AccountOption) => {
      const rows = await withCliContext(async (cli) =>
        (await usersOf(cli.store)).list(await cli.accountId(options.account)),
      );
      if (options.json) return printJson(rows);
      printUsers(rows);
    });

  users
    .command('add <email>')
    .description('add a user to an account')
    .requiredOption('--role <role>', 'admin, editor or viewer')
    .option('--name <name>', 'display name (default: the part of the e-mail before @)')
    .option('--password-stdin', 'read a sign-in password from stdin')
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(
      async (
        email: string,
        options: AccountOption & { role: string; name?: string; passwordStdin?: boolean },
      ) => {
        const password = options.passwordStdin ? await readSecretFromStdin('Password') : undefined;
        const body = { email, role: options.role, name: options.name, password };
        const user = await withCliContext(async (cli) =>
          (await usersOf(cli.store)).create(await cliActor(cli, options.account), body),
        );
        if (options.json) return printJson(user);
        process.stdout.write(`User ${user.email} (${user.id}) added as ${user.role}.\n`);
      },
    );

  users
    .command('set-role <user> <role>')
    .description('change the role of a user (id or e-mail) to admin, editor or viewer')
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (user: string, role: string, options: AccountOption) =>
      changeUser(user, options, { role }, `is now ${role}`),
    );

  users
    .command('set-password <user>')
    .description('set the sign-in password of a user (id or e-mail), read from stdin')
    .option('--password-stdin', 'read the password from stdin (the default; kept for scripts)')
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (user: string, options: AccountOption) => {
      const password = await readSecretFromStdin('Password');
      await changeUser(user, options, { password }, 'has a new password');
    });

  users
    .command('disable <user>')
    .description('disable a user (id or e-mail): no sign-in, no managing the account')
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (user: string, options: AccountOption) =>
      changeUser(user, options, { disabled: true }, 'disabled'),
    );

  users
    .command('enable <user>')
    .description('let a disabled user (id or e-mail) sign in again')
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (user: string, options: AccountOption) =>
      changeUser(user, options, { disabled: false }, 'enabled'),
    );

  users
    .command('remove <user>')
    .description('delete a user (id or e-mail) who owns no applications')
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (user: string, options: AccountOption) => {
      await withCliContext(async (cli) =>
        (await usersOf(cli.store)).remove(await cliActor(cli, options.account), user),
      );
      if (options.json) return printJson({ user, removed: true });
      process.stdout.write(`User ${user} removed.\n`);
    });

  users
    .command('invite <email>')
    .description('invite someone by e-mail: prints a link to pass on, valid for 7 days')
    .requiredOption('--role <role>', 'admin, editor or viewer')
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (email: string, options: AccountOption & { role: string }) => {
      const invitation = await withCliContext(async (cli) =>
        (await invitationsOf(cli.store)).create(
          await cliActor(cli, options.account),
          { email, role: options.role },
          await invitationBaseUrl(cli),
        ),
      );
      if (options.json) return printJson(invitation);
      process.stdout.write(
        `Invitation ${invitation.id} for ${invitation.email} as ${invitation.role}, valid ` +
          `until ${invitation.expires_at}. Pass on this link (shown this once):\n` +
          `${invitation.invitation_url}\n`,
      );
    });

  users
    .command('invitations')
    .description("list an account's pending invitations")
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (options: AccountOption) => {
      const rows = await withCliContext(async (cli) =>
        (await invitationsOf(cli.store)).list(await cli.accountId(options.account)),
      );
      if (options.json) return printJson(rows);
      printTable(
        rows.map((row) => ({ ...row, expires: row.expires_at })),
        ['id', 'email', 'role', 'expires'],
      );
    });

  users
    .command('uninvite <invitation>')
    .description('revoke a pending invitation (its id): its link stops working')
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (id: string, options: AccountOption) => {
      await withCliContext(async (cli) =>
        (await invitationsOf(cli.store)).revoke(await cliActor(cli, options.account), id),
      );
      if (options.json) return printJson({ id, revoked: true });
      process.stdout.write(`Invitation ${id} revoked.\n`);
    });

  return users;
}
