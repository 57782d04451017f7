import { Command } from 'commander';
import { printJson, printTable, withCliContext } from './cli-context.js';
import { readSecretFromStdin } from './users-command.js';

interface CreateOptions {
  name: string;
  adminEmail?: string;
  adminPassword?: string;
  adminPasswordStdin?: boolean;
  json?: boolean;
}

/** The admin's sign-in password: from stdin, or (with a warning) from the command line. */
async function adminPasswordOf(options: CreateOptions): Promise<string | undefined> {
  if (options.adminPasswordStdin) return readSecretFromStdin('Admin password');
  if (options.adminPassword !== undefined) {
    process.stderr.write(
      'warning: a password on the command line is visible to other users of this machine ' +
        'and stays in shell history; prefer --admin-password-stdin\n',
    );
  }
  return options.adminPassword;
}

export function accountsCommand(): Command {
  const accounts = new Command('accounts').description('manage accounts (tenants)').addHelpText(
    'after',
    `
Examples:
  $ graticule accounts create --name "Acme" --admin-email ops@acme.example --json
  $ graticule accounts list`,
  );

  accounts
    .command('create')
    .description('create an account with an admin user and a Machine to Machine application')
    .requiredOption('--name <name>', 'display name of the account')
    .option('--admin-email <email>', 'email of the admin user')
    .option('--admin-password-stdin', "read the admin's sign-in password from stdin")
    .option('--admin-password <password>', "the admin's sign-in password (visible to others)")
    .option('--json', 'print JSON')
    .action(async (options: CreateOptions) => {
      const adminPassword = await adminPasswordOf(options);
      const { createAccount } = await import('../accounts/accounts.js');
      const created = await withCliContext(({ store }) =>
        createAccount(store, { name: options.name, adminEmail: options.adminEmail, adminPassword }),
      );
      if (options.json) return printJson(created);
      process.stdout.write(
        [
          `Account ${created.accountId} created (admin ${created.adminEmail}).`,
          'Its Machine to Machine application; the secret is shown this once:',
          `  client id:     ${created.clientId}`,
          `  client secret: ${created.clientSecret}`,
          '',
        ].join('\n'),
      );
    });

  accounts
    .command('list')
    .description('list accounts')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const { listAccounts } = await import('../accounts/accounts.js');
      const rows = await withCliContext(({ store }) => listAccounts(store));
      if (options.json) return printJson(rows);
      const flat = rows.map((row) => ({ id: row.id, name: row.name, created: row.createdAt }));
      printTable(flat, ['id', 'name', 'created']);
    });

  return accounts;
}
