/**
 * A pool of worker threads for one worker module of this folder, started on first use and
 * sized to the spare cores. Idle threads end on their own after 30 s.
 */
import os from 'node:os';
import { Piscina } from 'piscina';

export class LazyWorkerPool<Task, Result> {
  private pool: Piscina<Task, Result> | undefined;

  /** `moduleName`: a worker module beside this file, without extension. */
  constructor(private readonly moduleName: string) {}

  run(task: Task): Promise<Result> {
    this.pool ??= new Piscina({
      ...this.workerOptions(),
      minThreads: 0,
      maxThreads: Math.max(1, os.availableParallelism() - 1),
      idleTimeout: 30_000,
    });
    return this.pool.run(task);
  }

  /** Stops the threads; a later `run` starts a new pool. */
  async close(): Promise<void> {
    const closing = this.pool;
    this.pool = undefined;
    await closing?.destroy();
  }

  private workerOptions(): { filename: string; execArgv: string[] } {
    const compiled = !import.meta.url.endsWith('.ts');
    const extension = compiled ? 'js' : 'ts';
    const filename = new URL(`./${this.moduleName}.${extension}`, import.meta.url).href;
    // Test runs execute the TypeScript sources; tsx loads them inside the workers too.
    return { filename, execArgv: compiled ? [] : ['--import', 'tsx'] };
  }
}
