/**
 * Bundles the Node benchmark (bench/run.ts and everything it imports) into one ES module, bench-dist/bench.mjs, that
 * imports nothing but Node's built-ins and `webgpu`, for a GPU machine without a TypeScript loader
 * (see /work/shared/device/README.md and bench/README.md):
 *
 *   npx vite build --config bench/bundle.config.ts
 *   node bench-dist/bench.mjs --quick        # in the repository root, which holds shaders/ and bench/
 *
 * The bundle reads the WGSL files from shaders/ and writes bench/results/ relative to its own location (one folder
 * below the root, like bench/run.ts), so it must stay in bench-dist/. The browser suite (--browser) is not bundled.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root,
  // The demo's public folder and HTML pages are not part of this build.
  publicDir: false,
  logLevel: 'warn',
  build: {
    ssr: fileURLToPath(new URL('./run.ts', import.meta.url)),
    outDir: fileURLToPath(new URL('../bench-dist', import.meta.url)),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: false,
    rolldownOptions: {
      // One file: the GPU machine gets bench-dist/bench.mjs and nothing else of ours.
      output: { format: 'es', entryFileNames: 'bench.mjs', codeSplitting: false },
    },
  },
  // Everything is inlined except Dawn's native bindings, which unpack.sh provides on the GPU machine.
  ssr: { noExternal: true, external: ['webgpu'] },
});
