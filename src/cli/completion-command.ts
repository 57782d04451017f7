import path from 'node:path';
import { Argument, Command, type Help, type Option } from 'commander';
import { CliError } from './cli-context.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];
/** Options whose value is a path: the shell completes file names for them. */
const FILE_OPTIONS = new Set(['--file', '--output', '--ca-file']);

export interface CompletionItem {
  name: string;
  description?: string;
}

/** What to offer: these words, or the shell's own file name completion. */
export type Completion = { kind: 'words'; items: CompletionItem[] } | { kind: 'files' };

function findOption(help: Help, command: Command, word: string): Option | undefined {
  const flag = word.split('=')[0]!;
  return help.visibleOptions(command).find((o) => o.long === flag || o.short === flag);
}

function findSubcommand(help: Help, command: Command, word: string): Command | undefined {
  return help
    .visibleCommands(command)
    .find((sub) => sub.name() === word || sub.aliases().includes(word));
}

function optionItems(help: Help, command: Command): CompletionItem[] {
  return help.visibleOptions(command).flatMap((option) => {
    const flag = option.long ?? option.short;
    return flag ? [{ name: flag, description: option.description }] : [];
  });
}

/**
 * The completions of the word at `cword` in `words` (`words[0]` is the program): the command
 * tree is walked over the words before it, so every level offers its own subcommands and
 * options, the choices of an option that takes one, and file names where a path goes.
 */
export function completionsFor(root: Command, words: string[], cword: number): Completion {
  const help = root.createHelp();
  let command = root;
  for (let i = 1; i < cword; i += 1) {
    const word = words[i] ?? '';
    if (word.startsWith('-')) {
      const option = findOption(help, command, word);
      if (option && (option.required || option.optional) && !word.includes('=')) i += 1;
      continue;
    }
    command = findSubcommand(help, command, word) ?? command;
  }

  const current = words[cword] ?? '';
  const previous = findOption(help, command, words[cword - 1] ?? '');
  if (previous?.required && !(words[cword - 1] ?? '').includes('=')) {
    if (previous.argChoices) {
      return { kind: 'words', items: previous.argChoices.map((name) => ({ name })) };
    }
    if (FILE_OPTIONS.has(previous.long ?? '')) return { kind: 'files' };
    return { kind: 'words', items: [] };
  }
  if (current.startsWith('-')) return { kind: 'words', items: optionItems(help, command) };

  const subcommands = help.visibleCommands(command);
  if (subcommands.length > 0) {
    return {
      kind: 'words',
      items: subcommands.map((sub) => ({ name: sub.name(), description: sub.description() })),
    };
  }
  const argument = command.registeredArguments[0];
  if (argument?.argChoices) {
    return { kind: 'words', items: argument.argChoices.map((name) => ({ name })) };
  }
  if (/file/.test(argument?.name() ?? '')) return { kind: 'files' };
  return { kind: 'words', items: optionItems(help, command) };
}

function rootOf(command: Command): Command {
  let root = command;
  while (root.parent) root = root.parent;
  return root;
}

function defaultShell(): Shell {
  const name = path.basename(process.env.SHELL ?? '');
  return (SHELLS as readonly string[]).includes(name) ? (name as Shell) : 'bash';
}

/**
 * Answers the completion script's callback (`graticule completion-server -- <words>`), with
 * COMP_CWORD, COMP_LINE and COMP_POINT set by the script.
 */
async function serveCompletion(words: string[], command: Command): Promise<void> {
  const { default: tabtab } = await import('@pnpm/tabtab');
  const env = tabtab.parseEnv(process.env);
  if (!env.complete) return;
  const shell = tabtab.getShellFromEnv(process.env);
  const completion = completionsFor(rootOf(command), words, env.words);
  // Bash's script completes files from the wrong word; an empty answer lets bash's default
  // (file names, `complete -o default`) complete them instead.
  if (completion.kind === 'files') return shell === 'bash' ? undefined : tabtab.logFiles();
  tabtab.log(completion.items, shell, (line) => process.stdout.write(`${line}\n`));
}

/** `graticule completion [shell]` and the hidden callback its scripts call. */
export function completionCommands(): Command[] {
  const completion = new Command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(
      new Argument('[shell]', 'bash, zsh or fish (default: from $SHELL)').choices(SHELLS),
    )
    .option(
      '--completer <command>',
      'the command the script runs to complete (default graticule, which must be on PATH)',
      'graticule',
    )
    .addHelpText(
      'after',
      `
Install it once per shell (graticule must be on PATH, e.g. after npm link or a global
install):
  bash: graticule completion bash > ~/.local/share/bash-completion/completions/graticule
  zsh:  graticule completion zsh > "\${fpath[1]}/_graticule"
  fish: graticule completion fish > ~/.config/fish/completions/graticule.fish
Or load it into the current shell: source <(graticule completion bash)`,
    )
    .action(async (shell: Shell | undefined, options: { completer: string }) => {
      // The scripts run it unquoted: one word of safe characters only.
      if (!/^[\w./@+-]+$/.test(options.completer)) {
        throw new CliError('--completer must be one command name or path, without spaces');
      }
      const { default: tabtab } = await import('@pnpm/tabtab');
      const script = await tabtab.getCompletionScript({
        name: 'graticule',
        completer: options.completer,
        shell: shell ?? defaultShell(),
      });
      process.stdout.write(script.endsWith('\n') ? script : `${script}\n`);
    });

  const server = new Command('completion-server')
    .description('answer a completion script (run by the shell)')
    .argument('[words...]')
    .allowUnknownOption()
    .helpOption(false)
    .action(async (words: string[], _options: unknown, command: Command) =>
      serveCompletion(words, command),
    );
  return [completion, server];
}
