import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `graticule` command on a data directory, as an operator would. */
export function runCli(
  args: string[],
  options: { dataDir: string; env?: Record<string, string>; input?: string },
): CliRun {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'dist/main.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, GRATICULE_DATA_DIR: options.dataDir, ...options.env },
    input: options.input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
