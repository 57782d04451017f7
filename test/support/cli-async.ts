import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface AsyncCliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `graticule` command on a data directory without blocking this process (a
 * synchronous run would stall its keep-alive sockets to a running server).
 */
export function runCliAsync(
  args: string[],
  options: { dataDir: string; input?: string; env?: Record<string, string> },
): Promise<AsyncCliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, GRATICULE_DATA_DIR: options.dataDir, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** What `graticule accounts create --json` prints. */
export interface CreatedAccount {
  accountId: string;
  adminEmail: string;
  clientId: string;
  clientSecret: string;
}

/** Creates an account (tenant) with the command line, as an operator would. */
export async function createAccountWithCli(dataDir: string, name: string) {
  const run = await runCliAsync(['accounts', 'create', '--name', name, '--json'], { dataDir });
  if (run.status !== 0) throw new Error(`accounts create failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as CreatedAccount;
}
