import { Command } from 'commander';
import type { ApplicationService, ApplicationView } from '../apps/application-service.js';
import type { Store } from '../store/store.js';
import { CliError, printJson, printTable, withCliContext } from './cli-context.js';
import { cliActor } from './users-command.js';

interface AccountOption {
  account?: string;
  json?: boolean;
}

interface CreateOptions extends AccountOption {
  name: string;
  type?: string;
  authMethod?: string;
  description?: string;
  url?: string;
  thumbnailUrl?: string;
  loginUrl?: string;
  callbackUrl?: string[];
  logoutUrl?: string[];
  webOrigin?: string[];
  corsOrigin?: string[];
  owner?: string;
}

/** A repeatable option: each use adds a value; absent stays undefined (then defaults apply). */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The applications service, loaded when a command runs, not when the tree is built. */
async function appsOf(store: Store): Promise<ApplicationService> {
  const { ApplicationService } = await import('../apps/application-service.js');
  return new ApplicationService(store);
}

/** The user a new application acts for: the one named, else the account's first admin. */
async function ownerOf(store: Store, accountId: string, owner?: string): Promise<string> {
  if (owner === undefined) {
    const { UserStore } = await import('../users/user-store.js');
    const admin = await new UserStore(store).firstActiveAdmin(accountId);
    if (!admin) throw new CliError('the account has no enabled admin; name one with --owner');
    return admin.id;
  }
  const { UserService } = await import('../users/user-service.js');
  const user = await new UserService(store).find(accountId, owner);
  if (user.disabledAt !== null) throw new CliError(`user ${user.email} is disabled`);
  if (user.role === 'viewer') {
    throw new CliError(`user ${user.email} is a viewer; viewers cannot own applications`);
  }
  return user.id;
}

/** The body of the Applications API's create and update, from the command's flags. */
function applicationBody(options: Partial<CreateOptions>): Record<string, unknown> {
  return {
    name: options.name,
    type: options.type,
    token_endpoint_auth_method: options.authMethod,
    description: options.description,
    url: options.url,
    thumbnail_url: options.thumbnailUrl,
    login_url: options.loginUrl,
    callback_urls: options.callbackUrl,
    logout_urls: options.logoutUrl,
    web_origins: options.webOrigin,
    cors_origins: options.corsOrigin,
  };
}

function printSecret(app: ApplicationView, heading: string): void {
  const lines = [heading, `  client id:     ${app.client_id}`];
  if (app.client_secret !== undefined) {
    lines.push(`  client secret: ${app.client_secret}`, 'The secret is shown this once.');
  } else {
    lines.push('  no client secret (token_endpoint_auth_method none)');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function appsCommand(): Command {
  const apps = new Command('apps')
    .description("manage an account's applications (OAuth clients of the Developers section)")
    .addHelpText(
      'after',
      `
Examples:
  $ graticule apps create --name "Nightly jobs" --type machine_to_machine
  $ graticule apps rotate <client id>`,
    );
  const accountOption = ['--account <id>', 'account id (default: the first account)'] as const;

  apps
    .command('list')
    .description("list an account's applications (never their secrets)")
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (options: AccountOption) => {
      const rows = await withCliContext(async (cli) =>
        (await appsOf(cli.store)).list(await cli.accountId(options.account)),
      );
      if (options.json) return printJson(rows);
      const flat = rows.map((app) => ({ ...app, auth: app.token_endpoint_auth_method }));
      printTable(flat, ['client_id', 'name', 'type', 'auth', 'url']);
    });

  apps
    .command('create')
    .description('create an application and print its client id and secret once')
    .requiredOption('--name <name>', 'name of the application')
    .option('--type <type>', 'single_page (default), regular_web or machine_to_machine')
    .option('--auth-method <method>', 'client_secret_post, client_secret_basic or none')
    .option('--description <text>', 'description')
    .option('--url <url>', 'application URL; the default of the URL lists below')
    .option('--thumbnail-url <url>', 'logo URL')
    .option('--login-url <url>', 'application login URL (default: --url)')
    .option('--callback-url <url>', 'allowed callback URL (repeatable)', collect)
    .option('--logout-url <url>', 'allowed logout URL (repeatable)', collect)
    .option('--web-origin <origin>', 'allowed web origin (repeatable)', collect)
    .option('--cors-origin <origin>', 'allowed CORS origin (repeatable)', collect)
    .option('--owner <user>', 'user id or e-mail it acts for (default: the first admin)')
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (options: CreateOptions) => {
      const body = applicationBody(options);
      const created = await withCliContext(async (cli) => {
        const actor = await cliActor(cli, options.account);
        const owner = await ownerOf(cli.store, actor.accountId, options.owner);
        return (await appsOf(cli.store)).create(actor, owner, body);
      });
      if (options.json) return printJson(created);
      printSecret(created, `Application ${created.name} (${created.type}) created.`);
    });

  apps
    .command('update <clientId>')
    .description("change an application's settings; lists given replace the old ones")
    .option('--name <name>', 'name of the application')
    .option('--type <type>', 'single_page, regular_web or machine_to_machine')
    .option('--auth-method <method>', 'client_secret_post, client_secret_basic or none')
    .option('--description <text>', 'description')
    .option('--url <url>', 'application URL; lists still at their defaults follow it')
    .option('--thumbnail-url <url>', 'logo URL')
    .option('--login-url <url>', 'application login URL')
    .option('--callback-url <url>', 'allowed callback URL (repeatable)', collect)
    .option('--logout-url <url>', 'allowed logout URL (repeatable)', collect)
    .option('--web-origin <origin>', 'allowed web origin (repeatable)', collect)
    .option('--cors-origin <origin>', 'allowed CORS origin (repeatable)', collect)
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (clientId: string, options: Partial<CreateOptions>) => {
      const body = Object.fromEntries(
        Object.entries(applicationBody(options)).filter(([, value]) => value !== undefined),
      );
      const updated = await withCliContext(async (cli) =>
        (await appsOf(cli.store)).update(await cliActor(cli, options.account), clientId, body),
      );
      if (options.json) return printJson(updated);
      // Leaving token_endpoint_auth_method none issues a first secret: shown this once.
      if (updated.client_secret !== undefined) {
        return printSecret(updated, `Application ${updated.name} updated.`);
      }
      process.stdout.write(`Application ${updated.name} (${updated.client_id}) updated.\n`);
    });

  apps
    .command('rotate <clientId>')
    .description('issue a new client secret; the old one stops working at once')
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (clientId: string, options: AccountOption) => {
      const rotated = await withCliContext(async (cli) =>
        (await appsOf(cli.store)).rotateSecret(await cliActor(cli, options.account), clientId),
      );
      if (options.json) return printJson(rotated);
      printSecret(rotated, `Application ${rotated.name} has a new secret.`);
    });

  apps
    .command('delete <clientId>')
    .description('delete an application; its secret stops working at once')
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (clientId: string, options: AccountOption) => {
      await withCliContext(async (cli) =>
        (await appsOf(cli.store)).remove(await cliActor(cli, options.account), clientId),
      );
      if (options.json) return printJson({ client_id: clientId, deleted: true });
      process.stdout.write(`Application ${clientId} deleted.\n`);
    });

  return apps;
}
