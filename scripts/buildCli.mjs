/**
 * The `steve` CLI as one file: src/cli/main.ts and every module of src/ it imports, bundled by esbuild into
 * dist-cli/steve.cjs, so that a run loads one file instead of having tsx transpile and load ~150 modules first
 * (bench/README.md, "The CLI on CPU-only machines": that start-up was most of a single `steve render`).
 *
 * The bundle is a CommonJS script, not an ES module, so that bin/steve.mjs can compile it through node:vm with V8's
 * code cache (runBundle below; Node 20 has no compile cache for ES modules): parsing and compiling the 1 MB bundle
 * was ~0.05 s of every call. The cache (steve.code-cache beside it) belongs to one build; it is written by the first
 * run after the build and again by the first run of each other kind (help, render, export, ...), and one V8 refuses
 * (another Node) is compiled without and written again.
 *
 * `node scripts/buildCli.mjs` builds it (npm's `prepare` runs this on `npm install` / `npm ci`); bin/steve.mjs
 * imports `freshBundle`, `buildBundle` and `runBundle` from here: it runs the bundle only while no source it was
 * built from is newer, and rebuilds it when it is stale (or runs the sources through tsx when it cannot).
 *
 * Plain JavaScript on purpose: bin/steve.mjs must be able to decide without tsx. esbuild comes with tsx (its
 * dependency), so no package is added; it is imported only when building.
 *
 * The plain-JavaScript packages it uses (commander, fflate, tinyglobby, ...) are bundled too: resolving and loading
 * them file by file from node_modules was a third of a bundled `steve --help` (bench/README.md). What stays
 * outside: packages with native code (`webgpu`, `@resvg/resvg-js`: Node loads their addons from node_modules),
 * vite (only `steve serve` imports it, and it loads its own config), and the WGSL shaders, which
 * src/node/shaderFiles.ts reads from shaders/ at run time. Modules that find files relative to themselves
 * (`new URL('../../shaders/', import.meta.url)`) get their own file's URL, computed from the bundle's location,
 * so the bundle finds shaders/ and the app root wherever the checkout is.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = 'src/cli/main.ts';
/** Packages Node loads at run time rather than the bundle holding them (why: see above). */
const EXTERNAL_PACKAGES = ['webgpu', '@resvg/resvg-js', 'vite'];
/** The bundle's own URL, which `import.meta.url` becomes in it (a script has no import.meta). */
const BUNDLE_URL = '__steveBundleUrl';
/**
 * Files that change what esbuild makes without being imported: this script, the TypeScript settings it reads, and
 * npm's record of the installed tree (rewritten by every `npm install` / `npm ci`, which may change a bundled
 * package without giving its files a newer mtime).
 */
const BUILD_INPUTS = ['scripts/buildCli.mjs', 'tsconfig.json', 'node_modules/.package-lock.json'];
/** First line of the bundle's code: its own URL, from the __filename runBundle gives it. */
const BUNDLE_URL_LINE = `const ${BUNDLE_URL} = require('node:url').pathToFileURL(__filename).href;`;
/**
 * What the bundle's dynamic imports of packages left outside (vite) call instead of import(): a script compiled by
 * node:vm has no module loader of its own for import() (and its code cache none either), so runBundle hands it one.
 */
const IMPORT_FUNCTION = '__steveImport';
/**
 * The code cache's header: the build's builtAtMs (float64, little-endian), then which kinds of run (CACHE_RUN_KINDS,
 * one bit each, u32) have added their functions; then V8's data.
 */
const CACHE_HEADER_BYTES = 16;
const CACHE_MASK_OFFSET = 8;
/** Kinds of run whose functions the code cache gathers: help, and each command. */
const CACHE_RUN_KINDS = ['help', 'render', 'export', 'inspect', 'serve', 'atlas'];
/** A build lock older than this was left by a process that died: the next run may take it over. */
const STALE_LOCK_MS = 120_000;

/** The bundle's folder: dist-cli/ in the checkout, or STEVE_CLI_BUNDLE_DIR (the tests build their own there). */
export function bundleDir(env = process.env) {
  return env.STEVE_CLI_BUNDLE_DIR ? resolve(env.STEVE_CLI_BUNDLE_DIR) : join(ROOT, 'dist-cli');
}

/**
 * The bundle, its manifest (the inputs it was built from, relative to the root, and when the build began) and its
 * V8 code cache.
 */
export function bundleFiles(dir = bundleDir()) {
  return { bundle: join(dir, 'steve.cjs'), manifest: join(dir, 'steve.inputs.json'), codeCache: join(dir, 'steve.code-cache') };
}

/**
 * The bundle's path and its build's start (builtAtMs) when it may run: it and its manifest exist, they belong to the
 * same build, and every input is still there and not modified since that build began. Otherwise undefined (never
 * throws: a broken manifest is a stale one). Costs one stat per input (~225: ~150 of src/, ~75 of the bundled packages; a few ms). An input whose
 * mtime or size is not what the build recorded is stale too, so a file put back with an older mtime (cp -p, tar) is
 * noticed; only a same-size edit that keeps the exact mtime is not (`npm run build:cli` rebuilds).
 */
export function freshBundle(dir = bundleDir()) {
  const { bundle, manifest } = bundleFiles(dir);
  try {
    const { builtAtMs, inputs, stats } = JSON.parse(readFileSync(manifest, 'utf8'));
    // The bundle's mtime is set to the build's start (buildBundle): another value means another build's bundle
    // (builds are a second apart; the millisecond allows for utimes rounding through seconds as a double).
    if (Math.abs(statSync(bundle).mtimeMs - builtAtMs) >= 1) return undefined;
    for (const input of inputs) {
      // ROOT ends with a separator; path.join's normalising, cold in a fresh process, cost 10-20 ms over ~200 inputs.
      const stat = statSync(ROOT + input);
      if (stat.mtimeMs > builtAtMs) return undefined;
      const built = stats?.[input];
      if (built && (built[0] !== stat.mtimeMs || built[1] !== stat.size)) return undefined;
    }
    return { bundle, builtAtMs };
  } catch {
    return undefined;
  }
}

/** The CACHE_RUN_KINDS bit of a run with these arguments; 0 for an unknown command. */
function runKindBit(args) {
  const kind = args.length === 0 || args.includes('--help') || args.includes('-h') ? 'help' : args[0];
  const index = CACHE_RUN_KINDS.indexOf(kind);
  return index < 0 ? 0 : 1 << index;
}

/**
 * Runs the bundle `bundle` of build `builtAtMs` (freshBundle): compiled with its code cache when there is one of this
 * build that V8 accepts, else compiled from source. When the process exits the cache is written again if there was
 * none (or V8 refused it) or no run of this kind (help, render, ...) has added to it yet: V8's cache then holds
 * every function compiled so far, the cached ones and this run's, so a first `--help` does not leave a cache
 * without a render's functions. Otherwise it is left as it is: making it again took 10-35 ms.
 * The bundle's main module starts the CLI when it runs.
 */
export function runBundle(bundle, builtAtMs, dir = bundleDir()) {
  const { codeCache } = bundleFiles(dir);
  let cachedData;
  let cachedKinds = 0;
  try {
    const bytes = readFileSync(codeCache);
    if (bytes.length > CACHE_HEADER_BYTES && bytes.readDoubleLE(0) === builtAtMs) {
      cachedData = bytes.subarray(CACHE_HEADER_BYTES);
      cachedKinds = bytes.readUInt32LE(CACHE_MASK_OFFSET);
    }
  } catch {
    // No cache yet: compiled from source below.
  }
  // Node's CommonJS wrapper, so that the bundle gets require, module and __filename as a module would. The bundle
  // is ASCII (buildBundle), so latin1 reads it as it is, without UTF-8 decoding: that took 20-40 ms, and any
  // character beyond latin1 made V8 hold and compile the whole source as a two-byte string.
  const wrapped = `(function (exports, require, module, __filename, __dirname, ${IMPORT_FUNCTION}) {${readFileSync(bundle, 'latin1')}\n})`;
  const script = new vm.Script(wrapped, { filename: bundle, cachedData });
  const kind = runKindBit(process.argv.slice(2));
  const kinds = cachedData && !script.cachedDataRejected ? cachedKinds : 0;
  if (kinds === 0 || (kind !== 0 && (kinds & kind) === 0)) process.once('exit', () => writeCodeCache(script, builtAtMs, kinds | kind, codeCache));
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle), (specifier) => import(specifier));
}

/**
 * Writes the script's code cache, saying which kinds of run it holds (under a temporary name, then renamed: a
 * concurrent run reads all of one or none).
 */
function writeCodeCache(script, builtAtMs, kinds, codeCache) {
  try {
    const data = script.createCachedData();
    const header = Buffer.alloc(CACHE_HEADER_BYTES);
    header.writeDoubleLE(builtAtMs, 0);
    header.writeUInt32LE(kinds, CACHE_MASK_OFFSET);
    const temporary = `${codeCache}.${process.pid}.tmp`;
    writeFileSync(temporary, Buffer.concat([header, data]));
    renameSync(temporary, codeCache);
  } catch {
    // A read-only install: every run compiles from source, as without a cache.
  }
}

/**
 * esbuild plugin: in our own modules, `import.meta.url` becomes the URL their source file has, computed from the
 * bundle's own URL at run time (a relative path, so the checkout may move).
 */
function sourceFileUrls(outDir) {
  return {
    name: 'source-file-urls',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const contents = readFileSync(args.path, 'utf8');
        if (!contents.includes('import.meta.url')) return undefined;
        const fromBundle = relative(outDir, args.path).split(sep).join('/');
        return { contents: contents.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, ${BUNDLE_URL}).href`), loader: 'ts' };
      });
    },
  };
}

/**
 * esbuild plugin: commander's node:child_process (it spawns executables for subcommands that are programs of their
 * own, which steve has none of) becomes a stand-in that loads the module when first used: compiling
 * node:child_process at start was ~10 ms of every call.
 */
function lazyChildProcessForCommander() {
  return {
    name: 'lazy-child-process-for-commander',
    setup(build) {
      build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
        /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-child-process' } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
        contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
        loader: 'js',
      }));
    },
  };
}

/**
 * Builds the bundle into `dir` (dist-cli/ by default) and returns its path; undefined when another process holds
 * the build lock (it is building the same thing). The bundle and its manifest are written to temporary names and
 * renamed into place, so a concurrent run sees either the old build or the new one, never half of one.
 */
export async function buildBundle(dir = bundleDir()) {
  const { build } = await import('esbuild');
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, '.building');
  try {
    mkdirSync(lock);
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
    if (Date.now() - statSync(lock).mtimeMs < STALE_LOCK_MS) return undefined;
    rmSync(lock, { recursive: true, force: true });
    mkdirSync(lock);
  }
  try {
    const { bundle, manifest, codeCache } = bundleFiles(dir);
    const temporary = join(lock, 'steve.cjs');
    const buildStart = new Date();
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: [ENTRY],
      outfile: temporary,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: EXTERNAL_PACKAGES,
      // Bundled packages' own uses (fdir's createRequire(import.meta.url)) get the bundle's URL.
      define: { 'import.meta.url': BUNDLE_URL },
      plugins: [sourceFileUrls(dirname(bundle)), lazyChildProcessForCommander()],
      metafile: true,
      logLevel: 'error',
      // Strict mode first (esbuild's own "use strict" would come after the banner, no longer a directive).
      banner: { js: `// The steve CLI, built from ${ENTRY} by scripts/buildCli.mjs. Generated: do not edit.\n'use strict';\n${BUNDLE_URL_LINE}` },
    });
    // esbuild writes code as ASCII (charset 'ascii', its default) but keeps comments as they are: escaped too, so
    // that runBundle can read the file as latin1. (An escape means the same character in a string, regular
    // expression or comment; esbuild has already escaped any in code.)
    // The dynamic imports esbuild left (of packages left outside) call IMPORT_FUNCTION.
    const code = readFileSync(temporary, 'utf8')
      .replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .replace(/(?<![\w$.])import\((?=")/g, `${IMPORT_FUNCTION}(`);
    writeFileSync(temporary, code);
    const buildInputs = BUILD_INPUTS.filter((input) => existsSync(join(ROOT, input)));
    // Without the plugin's stand-in, which is no file (esbuild names it namespace:path).
    const files = Object.keys(result.metafile.inputs).filter((input) => !input.startsWith('lazy-child-process:'));
    const inputs = [...files, ...buildInputs].map((input) => relative(ROOT, resolve(ROOT, input)).split(sep).join('/'));
    // The bundle's mtime says when its build began (sources saved later are newer); stat's own reading of it is
    // what freshBundle compares, so it is what the manifest keeps.
    utimesSync(temporary, buildStart, buildStart);
    const builtAtMs = statSync(temporary).mtimeMs;
    // Each input's mtime and size as built: one that changes to an older time (restored by cp -p, tar, rsync -a)
    // is not newer than the build, but it differs.
    const stats = Object.fromEntries(inputs.map((input) => {
      const stat = statSync(join(ROOT, input));
      return [input, [stat.mtimeMs, stat.size]];
    }));
    writeFileSync(join(lock, 'steve.inputs.json'), `${JSON.stringify({ builtAtMs, entry: ENTRY, inputs, stats }, null, 1)}\n`);
    renameSync(temporary, bundle);
    renameSync(join(lock, 'steve.inputs.json'), manifest);
    // The last build's cache would be refused (another builtAtMs); the next run writes this build's. An ES module
    // bundle of an earlier build script (steve.mjs) is no longer run.
    rmSync(codeCache, { force: true });
    rmSync(join(dir, 'steve.mjs'), { force: true });
    return bundle;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const start = performance.now();
  try {
    const bundle = await buildBundle();
    if (bundle) console.log(`steve CLI bundle: ${relative(ROOT, bundle)} (${Math.round(performance.now() - start)} ms)`);
    else console.log('steve CLI bundle: another process is building it');
  } catch (error) {
    // `npm install` runs this (prepare): a failed build must not fail the install; bin/steve.mjs then uses tsx.
    console.warn(`steve CLI bundle not built (the CLI will run its sources through tsx): ${error.message}`);
  }
}
