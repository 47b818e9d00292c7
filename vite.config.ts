import { defineConfig } from 'vitest/config';
import { resolve } from 'node:path';

// One config for the demo (vite dev/build) and the tests (vitest).
// The demo's pages live in demo/; the bundled sample data is served from demo/public/.
export default defineConfig({
  root: 'demo',
  publicDir: 'public',
  build: {
    outDir: resolve(import.meta.dirname, 'dist'),
    emptyOutDir: true,
    rollupOptions: {
      input: {
        index: resolve(import.meta.dirname, 'demo/index.html'),
        bench: resolve(import.meta.dirname, 'demo/bench.html'),
      },
    },
  },
  server: { fs: { allow: [resolve(import.meta.dirname)] } },
  test: {
    root: resolve(import.meta.dirname),
    include: ['tests/**/*.test.ts'],
    // GPU tests share one Dawn instance per worker; SwiftShader is slow, so allow time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
