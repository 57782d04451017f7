import { Command } from 'commander';
import { createAccount, listAccounts } from '../accounts/accounts.js';
import { printJson, printTable, withCliContext } from './cli-context.js';

export function accountsCommand(): Command {
  const accounts = new Command('accounts').description('manage accounts (tenants)');

  accounts
    .command('create')
    .description('create an account with an admin user and a Machine to Machine application')
    .requiredOption('--name <name>', 'display name of the account')
    .option('--admin-email <email>', 'email of the admin user')
    .option('--json', 'print JSON')
    .action(async (options: { name: string; adminEmail?: string; json?: boolean }) => {
      const created = await withCliContext(({ store }) =>
        createAccount(store, { name: options.name, adminEmail: options.adminEmail }),
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
      const rows = await withCliContext(({ store }) => listAccounts(store));
      if (options.json) return printJson(rows);
      const flat = rows.map((row) => ({ id: row.id, name: row.name, created: row.createdAt }));
      printTable(flat, ['id', 'name', 'created']);
    });

  return accounts;
}
