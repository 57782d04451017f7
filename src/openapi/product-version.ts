import { readFileSync } from 'node:fs';

/** Graticule's version, from its package manifest (one directory above `src/` and `dist/`). */
export const PRODUCT_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
