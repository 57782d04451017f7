import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/** This folder: the app's root, whatever directory the build is started from. */
const WEB_DIR = decodeURIComponent(new URL('.', import.meta.url).pathname);

/**
 * The web console, built into `dist/web` and served by Graticule under `/ui/`
 * (src/web-ui/web-ui-routes.ts). Everything is bundled: the page loads nothing from elsewhere.
 */
export default defineConfig({
  root: WEB_DIR,
  base: '/ui/',
  plugins: [react()],
  publicDir: 'public',
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Inlined assets would need `data:` in the page's Content-Security-Policy for scripts.
    assetsInlineLimit: 0,
    // The console is served publicly: no source maps next to it.
    sourcemap: false,
    target: 'es2022',
  },
});
