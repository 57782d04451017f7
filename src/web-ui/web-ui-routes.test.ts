import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../config/config.js';
import { installErrorHandling } from '../http/error-handler.js';
import { registerPreviewRoutes } from '../preview/preview-routes.js';
import { consoleContentSecurityPolicy, registerWebUiRoutes } from './web-ui-routes.js';

const config = { publicUrl: '' } as Config;
const limits = { queryTimeoutMs: 1000, maxBodyBytes: 1024 };

async function appServing(webDir: string): Promise<FastifyInstance> {
  const app = Fastify({ routerOptions: { ignoreTrailingSlash: true } });
  installErrorHandling(app, limits);
  registerPreviewRoutes(app, { config });
  await registerWebUiRoutes(app, { config }, webDir);
  return app;
}

describe('consoleContentSecurityPolicy', () => {
  it('allows only this server, frames included, and no inline code', () => {
    const policy = consoleContentSecurityPolicy('');
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("frame-src 'self';");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toMatch(/unsafe/);
  });

  it("adds the public URL's origin for API calls", () => {
    const policy = consoleContentSecurityPolicy('https://maps.example.org/graticule');
    expect(policy).toContain("connect-src 'self' https://maps.example.org;");
  });
});

describe('web console routes', () => {
  let webDir: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    webDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-web-'));
    mkdirSync(path.join(webDir, 'assets'));
    writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(path.join(webDir, 'assets', 'index-AbC123.js'), 'export {};');
    writeFileSync(path.join(webDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    app = await appServing(webDir);
  });

  afterAll(async () => {
    await app.close();
    rmSync(webDir, { recursive: true, force: true });
  });

  it('answers index.html for the app and its routes, revalidated on every load', async () => {
    for (const url of ['/ui/', '/ui/developers/tokens', '/ui/callback?code=x&state=y']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.body).toContain('<title>console</title>');
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['content-security-policy']).toContain("default-src 'none'");
      expect(response.headers['x-frame-options']).toBe('DENY');
    }
  });

  it('sends / and /ui to /ui/', async () => {
    const root = await app.inject({ method: 'GET', url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/ui/');
    const bare = await app.inject({ method: 'GET', url: '/ui?x=1' });
    expect(bare.statusCode).toBe(302);
    expect(bare.headers.location).toBe('/ui/?x=1');
  });

  it('caches hashed assets for a year and answers 404 for missing ones', async () => {
    const asset = await app.inject({ method: 'GET', url: '/ui/assets/index-AbC123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.body).toBe('export {};');

    for (const url of ['/ui/assets/index-missing.js', '/ui/assets/..%2Findex.html']) {
      const missing = await app.inject({ method: 'GET', url });
      expect(missing.statusCode, url).toBe(404);
      expect(missing.json()).toMatchObject({ status: 404, code: 'route_not_found' });
      expect(missing.headers['cache-control']).not.toContain('immutable');
    }
  });

  it('serves the unhashed public files as themselves', async () => {
    const icon = await app.inject({ method: 'GET', url: '/ui/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('serves the map preview page for the console to frame, and only for it', async () => {
    const framed = await app.inject({ method: 'GET', url: '/ui/preview?connection=carto_dw' });
    const direct = await app.inject({ method: 'GET', url: '/preview?connection=carto_dw' });
    expect(framed.statusCode).toBe(200);
    expect(framed.body).toBe(direct.body);
    expect(framed.headers['x-frame-options']).toBe('SAMEORIGIN');
    const policy = String(framed.headers['content-security-policy']);
    expect(policy).toContain("frame-ancestors 'self'");
    expect(policy).toContain("script-src 'self'");
    expect(direct.headers['content-security-policy']).toContain("frame-ancestors 'none'");

    const etag = String(framed.headers.etag);
    const again = await app.inject({
      method: 'GET',
      url: '/ui/preview',
      headers: { 'if-none-match': etag },
    });
    expect(again.statusCode).toBe(304);
  });

  it('answers 503 with the API error shape when the console was not built', async () => {
    const unbuilt = await appServing(path.join(webDir, 'not-built'));
    try {
      for (const url of ['/ui/', '/ui/developers', '/ui/assets/index-AbC123.js']) {
        const response = await unbuilt.inject({ method: 'GET', url });
        expect(response.statusCode, url).toBe(503);
        expect(response.json()).toEqual({
          error: expect.stringContaining('npm run build'),
          status: 503,
          code: 'console_not_built',
        });
      }
    } finally {
      await unbuilt.close();
    }
  });
});
