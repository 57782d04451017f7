import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The page's own files live in the package's top-level `preview/` directory, because `tsc`
 * copies nothing but compiled TypeScript. This module sits two levels below the package root
 * both as `src/preview/` (sources run directly) and as `dist/preview/` (the build).
 */
const PAGE_DIR = fileURLToPath(new URL('../../preview/', import.meta.url));

/**
 * deck.gl's browser bundles, in load order. Each one reads the global `deck` left by the ones
 * before it and adds its own exports to it: the CARTO module needs core, layers, extensions
 * (clipping), aggregation-layers and geo-layers (tile and H3 layers), and geo-layers builds
 * classes on mesh-layers while it loads.
 */
const DECK_BUNDLES = [
  'core',
  'layers',
  'extensions',
  'aggregation-layers',
  'mesh-layers',
  'geo-layers',
  'carto',
] as const;

const JAVASCRIPT = 'text/javascript; charset=utf-8';

/** A file the preview serves: where it is read from and how it is labelled. */
interface AssetFile {
  file: string;
  contentType: string;
}

/** A file read into memory, with its content digest for cache validation. */
export interface LoadedAsset {
  body: Buffer;
  contentType: string;
  /** Strong ETag of the content. */
  etag: string;
  /** A short digest of the content, used to version the asset's URL. */
  version: string;
}

const require = createRequire(import.meta.url);

/**
 * The directory of an installed package. deck.gl's `exports` map hides both `package.json` and
 * `dist.min.js`, so this starts from the package's entry point and walks up to its manifest.
 */
function packageDir(name: string): string {
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name: found } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (found === name) return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot find the directory of the package ${name}`);
    dir = parent;
  }
}

/** Every asset the preview serves, by the name it has under `/preview/assets/`. */
function listAssets(): Map<string, AssetFile> {
  const assets = new Map<string, AssetFile>([
    ['preview.js', { file: path.join(PAGE_DIR, 'preview.js'), contentType: JAVASCRIPT }],
    [
      'preview-request.js',
      { file: path.join(PAGE_DIR, 'preview-request.js'), contentType: JAVASCRIPT },
    ],
    [
      'preview-style.js',
      { file: path.join(PAGE_DIR, 'preview-style.js'), contentType: JAVASCRIPT },
    ],
    ['favicon.svg', { file: path.join(PAGE_DIR, 'favicon.svg'), contentType: 'image/svg+xml' }],
    ['deck-compat.js', { file: path.join(PAGE_DIR, 'deck-compat.js'), contentType: JAVASCRIPT }],
    [
      'preview.css',
      { file: path.join(PAGE_DIR, 'preview.css'), contentType: 'text/css; charset=utf-8' },
    ],
  ]);
  // geo-layers and the CARTO module take H3 from the global `h3` that this bundle sets.
  const h3 = path.join(packageDir('h3-js'), 'dist/h3-js.umd.js');
  assets.set('h3.js', { file: h3, contentType: JAVASCRIPT });
  for (const bundle of DECK_BUNDLES) {
    const file = path.join(packageDir(`@deck.gl/${bundle}`), 'dist.min.js');
    assets.set(`deck-${bundle}.js`, { file, contentType: JAVASCRIPT });
  }
  return assets;
}

async function loadFile(file: string, contentType: string): Promise<LoadedAsset> {
  return describe(await readFile(file), contentType);
}

function describe(body: Buffer, contentType: string): LoadedAsset {
  const digest = createHash('sha256').update(body).digest('base64url');
  return { body, contentType, etag: `"${digest}"`, version: digest.slice(0, 16) };
}

/** The page and every asset it loads, read into memory. */
export interface PreviewFiles {
  page: LoadedAsset;
  assets: Map<string, LoadedAsset>;
}

/**
 * Reads every asset, then the page with each asset URL carrying its content version
 * (`?v=...`), so assets can be cached for a year and a new release is still picked up at once.
 */
async function loadPreviewFiles(): Promise<PreviewFiles> {
  const entries = [...listAssets()];
  const loaded = await Promise.all(
    entries.map(([, { file, contentType }]) => loadFile(file, contentType)),
  );
  const assets = new Map(entries.map(([name], index) => [name, loaded[index]!]));

  let html = await readFile(path.join(PAGE_DIR, 'index.html'), 'utf8');
  for (const [name, { version }] of assets) {
    html = html.replaceAll(`/preview/assets/${name}"`, `/preview/assets/${name}?v=${version}"`);
  }
  return { page: describe(Buffer.from(html), 'text/html; charset=utf-8'), assets };
}

/**
 * The preview page and its assets, read once on first use and then kept in memory (about
 * 2.7 MB, most of it deck.gl). A failed read is retried on the next request.
 */
export class PreviewAssets {
  private loading: Promise<PreviewFiles> | undefined;

  load(): Promise<PreviewFiles> {
    this.loading ??= loadPreviewFiles().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }
}
