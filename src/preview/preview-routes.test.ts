import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { Config } from '../config/config.js';
import { PreviewAssets } from './preview-assets.js';
import { previewContentSecurityPolicy, registerPreviewRoutes } from './preview-routes.js';

describe('previewContentSecurityPolicy', () => {
  it("allows API calls to the page's origin only when no public URL is set", () => {
    const policy = previewContentSecurityPolicy('');
    expect(policy).toContain("connect-src 'self';");
    expect(policy).toContain("script-src 'self';");
    expect(policy).not.toMatch(/unsafe|blob:|data:/);
  });

  it("adds the public URL's origin, where tile URLs point", () => {
    const policy = previewContentSecurityPolicy('https://maps.example.org/graticule');
    expect(policy).toContain("connect-src 'self' https://maps.example.org;");
  });
});

describe('PreviewAssets', () => {
  it('versions every asset URL in the page with its content digest', async () => {
    const { page, assets } = await new PreviewAssets().load();
    const html = page.body.toString('utf8');
    for (const [name, asset] of assets) {
      expect(html).toContain(`/preview/assets/${name}?v=${asset.version}"`);
    }
    expect(assets.get('deck-carto.js')?.body.length).toBeGreaterThan(100_000);
  });
});

describe('preview routes', () => {
  it('answers a HEAD and a conditional GET of an asset', async () => {
    const app = Fastify();
    registerPreviewRoutes(app, { config: { publicUrl: '' } as Config });
    const first = await app.inject({ method: 'GET', url: '/preview/assets/preview.js' });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('text/javascript; charset=utf-8');

    const etag = String(first.headers['etag']);
    const again = await app.inject({
      method: 'GET',
      url: '/preview/assets/preview.js?v=old',
      headers: { 'if-none-match': `W/${etag}` },
    });
    expect(again.statusCode).toBe(304);
    const head = await app.inject({ method: 'HEAD', url: '/preview' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-security-policy']).toContain("default-src 'none'");
    await app.close();
  });
});
