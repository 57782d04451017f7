import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { fetchToken } from './support/api.js';

const started: ServerProcess[] = [];

afterAll(async () => {
  for (const server of started) await server.stop();
  for (const server of started) rmSync(server.dataDir, { recursive: true, force: true });
});

async function jwksKids(baseUrl: string): Promise<string[]> {
  const body = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as {
    keys: { kid: string }[];
  };
  return body.keys.map((k) => k.kid);
}

describe('first and second start', () => {
  it('prints generated credentials once, then reuses account, application and keys', async () => {
    const first = await startServerProcess({
      loadDemoData: false,
      keepDataDir: true,
      clientId: '',
      clientSecret: '',
    });
    started.push(first);
    const printed = first.output();
    const id = /client id:\s+(\S+)/.exec(printed)?.[1];
    const secret = /client secret:\s+(\S+)/.exec(printed)?.[1];
    expect(id).toBeDefined();
    expect(secret).toBeDefined();
    expect(printed).toContain(`${first.baseUrl}/oauth/token`);
    const token = await fetchToken(first.baseUrl, id!, secret!);
    const kids = await jwksKids(first.baseUrl);
    await first.stop();

    const second = await startServerProcess({
      loadDemoData: false,
      dataDir: first.dataDir,
      keepDataDir: true,
      clientId: '',
      clientSecret: '',
    });
    started.push(second);
    expect(second.output()).not.toMatch(/client secret:/);
    expect(second.output()).toContain(`client id: ${id}`);
    expect(await jwksKids(second.baseUrl)).toEqual(kids);
    const again = await fetchToken(second.baseUrl, id!, secret!);
    expect(again).not.toBe(token);

    // One embedded warehouse, one process: a third server on the same directory refuses.
    await expect(
      startServerProcess({
        loadDemoData: false,
        dataDir: first.dataDir,
        keepDataDir: true,
        clientId: '',
        clientSecret: '',
      }),
    ).rejects.toThrow(/Another Graticule process uses the embedded warehouse/);
    expect(await fetchToken(second.baseUrl, id!, secret!)).toBeTruthy();
  });

  it('keeps the secret for a later start when the port is taken', async () => {
    const blocker = createServer();
    const busyPort = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as AddressInfo).port)),
    );
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-port-'));
    try {
      await expect(
        startServerProcess({
          loadDemoData: false,
          dataDir,
          keepDataDir: true,
          clientId: '',
          clientSecret: '',
          env: { PORT: String(busyPort) },
        }),
      ).rejects.toThrow(/address is already in use/);
    } finally {
      blocker.close();
    }
    const next = await startServerProcess({
      loadDemoData: false,
      dataDir,
      keepDataDir: true,
      clientId: '',
      clientSecret: '',
    });
    started.push(next);
    const id = /client id:\s+(\S+)/.exec(next.output())?.[1];
    const secret = /client secret:\s+(\S+)/.exec(next.output())?.[1];
    expect(secret).toBeDefined();
    await fetchToken(next.baseUrl, id!, secret!);
  });

  it('refuses bad configuration with a message naming the setting', async () => {
    await expect(
      startServerProcess({ loadDemoData: false, env: { GRATICULE_QUERY_TIMEOUT_MS: 'soon' } }),
    ).rejects.toThrow(/GRATICULE_QUERY_TIMEOUT_MS/);
  });
});
