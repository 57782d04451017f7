import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const binDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-completion-'));
const dataDir = path.join(binDir, 'data');
let bashScript = '';

beforeAll(() => {
  // The scripts call `graticule completion-server`: put the build on PATH under that name.
  const wrapper = path.join(binDir, 'graticule');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'dist/main.js')}" "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  const run = runCli(['completion', 'bash'], { dataDir });
  expect(run.status, run.stderr).toBe(0);
  bashScript = run.stdout;
});

afterAll(() => rmSync(binDir, { recursive: true, force: true }));

/**
 * Completes the last of `words` as bash would on TAB: the printed script is sourced, COMP_*
 * are set, and the completion function fills COMPREPLY.
 */
function completeInBash(words: string[]): string[] {
  const line = words.join(' ');
  const script = `
${bashScript}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})
COMP_CWORD=${words.length - 1}
COMP_LINE='${line}'
COMP_POINT=${line.length}
_graticule_completion
printf '%s\\n' "\${COMPREPLY[@]}"
`;
  const result = spawnSync('bash', ['--norc', '--noprofile', '-c', script], {
    env: { ...process.env, PATH: `${binDir}:${process.env.PATH}`, GRATICULE_DATA_DIR: dataDir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.split('\n').filter((word) => word !== '');
}

/** Asks the completion callback directly, as the zsh script does. */
function completeInZsh(words: string[]): string[] {
  const line = words.join(' ');
  const run = runCli(['completion-server', '--', ...words], {
    dataDir,
    env: {
      SHELL: 'zsh',
      COMP_CWORD: String(words.length - 1),
      COMP_LINE: line,
      COMP_POINT: String(line.length),
    },
  });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split('\n').filter((word) => word !== '');
}

describe('graticule completion', () => {
  it('prints bash, zsh and fish scripts that call graticule back', () => {
    expect(bashScript).toContain('complete -o default -F _graticule_completion graticule');
    expect(bashScript).toContain('graticule completion-server -- "${words[@]}"');
    const zsh = runCli(['completion', 'zsh'], { dataDir });
    expect(zsh.stdout).toMatch(/^#compdef graticule/);
    const fish = runCli(['completion', 'fish', '--completer', '/opt/bin/graticule'], { dataDir });
    expect(fish.stdout).toContain('SHELL=fish /opt/bin/graticule completion-server');
    const bad = runCli(['completion', 'tcsh'], { dataDir });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/'tcsh' is invalid .* choices are bash, zsh, fish/);
  });

  it('completes subcommands at every level in bash', () => {
    const top = completeInBash(['graticule', '']);
    expect(top).toEqual(expect.arrayContaining(['sql', 'import', 'tokens', 'maps', 'init']));
    expect(top).not.toContain('completion-server');
    expect(completeInBash(['graticule', 'to'])).toEqual(['tokens']);
    expect(completeInBash(['graticule', 'tokens', ''])).toEqual(
      expect.arrayContaining(['create', 'list', 'get', 'delete']),
    );
    expect(completeInBash(['graticule', 'maps', 'ti'])).toEqual(['tile']);
  });

  it('completes the options of the command typed so far, and option values', () => {
    expect(completeInBash(['graticule', 'sql', '--c'])).toEqual(['--connection', '--csv']);
    const create = completeInBash(['graticule', 'tokens', 'create', '--']);
    expect(create).toEqual(
      expect.arrayContaining(['--grant', '--api', '--referer', '--expires', '--json', '--url']),
    );
    // An option's value is skipped when finding the command and its options.
    expect(
      completeInBash([
        'graticule',
        'maps',
        'instantiate',
        '--table',
        'demo.countries',
        '--f',
      ]).sort(),
    ).toEqual(['--filters', '--format']);
    expect(completeInBash(['graticule', 'maps', 'instantiate', '--type', ''])).toEqual([
      'geo',
      'h3',
      'h3int',
      'quadbin',
    ]);
    expect(completeInBash(['graticule', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
  });

  it('gives zsh descriptions, and file names where a file goes', () => {
    const top = completeInZsh(['graticule', '']);
    expect(top).toContain(
      'sql:run a SQL statement on a connection through the SQL API of a running server',
    );
    expect(completeInZsh(['graticule', 'import', ''])).toEqual(['__tabtab_complete_files__']);
    expect(completeInZsh(['graticule', 'maps', 'tile', '-o', ''])).toEqual([
      '__tabtab_complete_files__',
    ]);
    // Bash falls back to its own file name completion on an empty answer.
    expect(completeInBash(['graticule', 'import', ''])).toEqual([]);
  });
});
