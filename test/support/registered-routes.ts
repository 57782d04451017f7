import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'test-support') walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(full);
    }
  };
  walk(path.join(ROOT, 'src'));
  return files;
}

/**
 * The routes the sources register whose path starts with `prefix`: `METHOD /path` for each
 * `x.get('/path', ...)`-style call (the path a literal or a `const` of the same file).
 * Throws when a file registers such a route with `route({...})`, which this reading misses.
 */
export function registeredRoutes(prefix: string): string[] {
  const routes = new Set<string>();
  const call = /\b\w+\.(get|post|put|patch|delete)\(\s*(?:'([^']*)'|([A-Za-z_]\w*))\s*,/g;
  for (const file of sourceFiles()) {
    const source = readFileSync(file, 'utf8');
    if (new RegExp(`\\.route\\(\\{[^}]*url:\\s*'${prefix}`).test(source)) {
      throw new Error(`${file} registers routes with route(); extend registeredRoutes()`);
    }
    for (const match of source.matchAll(call)) {
      const [, method, literal, name] = match;
      const constant = name
        ? new RegExp(`const ${name}\\s*=\\s*'([^']*)'`).exec(source)?.[1]
        : undefined;
      const route = literal ?? constant;
      if (route?.startsWith(prefix)) routes.add(`${method!.toUpperCase()} ${route}`);
    }
  }
  return [...routes].sort();
}
