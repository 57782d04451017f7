import type { TestProject } from 'vitest/node';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    clientId: string;
    clientSecret: string;
    dataDir: string;
  }
}

let server: ServerProcess | undefined;

/**
 * Starts one real Graticule process from the build on a fresh data directory (so the first
 * start, demo load included, runs for real) and shares it with every test file.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  server = await startServerProcess({ loadDemoData: true });
  project.provide('baseUrl', server.baseUrl);
  project.provide('clientId', server.clientId);
  project.provide('clientSecret', server.clientSecret);
  project.provide('dataDir', server.dataDir);
  return async () => {
    await server?.stop();
  };
}
