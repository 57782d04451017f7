import { Command, InvalidArgumentError } from 'commander';
import { printJson, withCliContext } from './cli-context.js';

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    throw new InvalidArgumentError('expected a whole number of seconds');
  }
  return parsed;
}

/** `graticule keys rotate`: a new token signing key; the old one verifies until it may go. */
export function keysCommand(): Command {
  const keys = new Command('keys')
    .description('manage the keys that sign access tokens')
    .addHelpText('after', '\nExample:\n  $ graticule keys rotate --json');
  keys
    .command('rotate')
    .description(
      'sign new tokens with a new key; retired keys stay published so their tokens verify ' +
        'until they expire (running servers pick the change up within their key check interval)',
    )
    .option(
      '--keep-retired <seconds>',
      'remove keys retired longer ago than this (default: the token lifetime)',
      seconds,
    )
    .option('--json', 'print JSON')
    .action(async (options: { keepRetired?: number; json?: boolean }) => {
      const { recordAuditEvent } = await import('../audit/audit-log.js');
      const { rotateSigningKey } = await import('../auth/signing-keys.js');
      const result = await withCliContext(async ({ config, store }) => {
        const rotated = await rotateSigningKey(
          store,
          options.keepRetired ?? config.tokenTtlSeconds,
        );
        await recordAuditEvent(store, {
          accountId: null,
          event: 'signing_key.rotated',
          actor: 'operator',
          target: rotated.kid,
          details: { retired: rotated.retired, removed: rotated.removed },
        });
        return rotated;
      });
      if (options.json) return printJson(result);
      process.stdout.write(
        `New signing key ${result.kid}; retired ${result.retired.join(', ') || 'none'}; ` +
          `removed ${result.removed.join(', ') || 'none'}.\n`,
      );
    });
  return keys;
}
