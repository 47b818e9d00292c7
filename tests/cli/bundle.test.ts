/**
 * The bundled CLI (scripts/buildCli.mjs -> steve.cjs, run by bin/steve.mjs): it gives what the sources run through
 * tsx give, bin/steve.mjs never runs a bundle older than a source it was built from, and the V8 code cache it
 * compiles the bundle with is its own build's, or none. The tests build their own
 * bundle in a temporary folder (STEVE_CLI_BUNDLE_DIR, under dist-cli/), so the checkout's own bundle is not touched
 * while other CLI tests use it. STEVE_CLI_TRACE=1 makes bin/steve.mjs say which of the two it ran.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, SOFTMAXED_F16, TIMIT_WAV } from './steveProcess.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node file ...args` with extra environment variables, to completion. */
function runNode(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Builds a bundle into a new temporary folder, as `npm run build:cli` builds dist-cli/; returns the folder. */
async function buildInTemporaryFolder(): Promise<string> {
  // Inside the checkout (under the git-ignored dist-cli/), where Node finds the packages the bundle leaves out.
  // Three folders deep, where the checkout's dist-cli/steve.cjs is one: a bundle whose modules resolved their files
  // from the bundle's own URL instead of their source's ('../../shaders/') would miss shaders/ in both places.
  mkdirSync(join(ROOT, 'dist-cli'), { recursive: true });
  const dir = join(mkdtempSync(join(ROOT, 'dist-cli', 'test-')), 'bundle');
  const build = await runNode(join(ROOT, 'scripts/buildCli.mjs'), [], { STEVE_CLI_BUNDLE_DIR: dir });
  if (build.code !== 0 || build.stderr !== '' || !build.stdout.startsWith('steve CLI bundle: ')) {
    throw new Error(`scripts/buildCli.mjs did not build: ${build.stdout}${build.stderr}`);
  }
  return dir;
}

/** Which one bin/steve.mjs ran, from its trace lines: 'bundle', 'rebuilt' (then the bundle) or 'tsx'. */
function whatRan(stderr: string): string[] {
  return [...stderr.matchAll(/^steve-cli: (\w+)/gm)].map((match) => match[1]);
}

describe('the bundled steve CLI', () => {
  // One build for both tests (the second replaces the bundle, so it runs last).
  let dir = '';
  beforeAll(async () => {
    dir = await buildInTemporaryFolder();
  }, 30_000);
  afterAll(() => rmSync(dirname(dir), { recursive: true, force: true }));

  it('prints the same inspect JSON and writes the same SVG bytes as the sources run through tsx', async () => {
    const bundled = { STEVE_CLI_BUNDLE_DIR: dir, STEVE_CLI_TRACE: '1' };
    const sources = { STEVE_CLI_RUN: 'tsx', STEVE_CLI_TRACE: '1' };
    const inspect = ['inspect', '--attention', SOFTMAXED_F16, '--wav', TIMIT_WAV, '--alignments', 'timit', '--json'];
    const svg = (name: string) => ['render', '--attention', SOFTMAXED_F16, '--wav', TIMIT_WAV, '--alignments', 'timit', '--layer', '1', '--head', '0', '--words', '1:3', '-o', join(dir, name)];

    const [inspectBundled, inspectSources, renderBundled, renderSources] = await Promise.all([
      runNode(BIN, inspect, bundled),
      runNode(BIN, inspect, sources),
      runNode(BIN, svg('bundled.svg'), bundled),
      runNode(BIN, svg('sources.svg'), sources),
    ]);
    for (const run of [inspectBundled, inspectSources, renderBundled, renderSources]) expect(run.code, run.stderr).toBe(0);
    expect(whatRan(inspectBundled.stderr)).toEqual(['bundle']);
    expect(whatRan(renderBundled.stderr)).toEqual(['bundle']);
    expect(whatRan(inspectSources.stderr)).toEqual(['tsx']);
    expect(whatRan(renderSources.stderr)).toEqual(['tsx']);

    expect(inspectBundled.stdout).toBe(inspectSources.stdout);
    expect(JSON.parse(inspectBundled.stdout).alignment.words).toHaveLength(11);
    const bundledSvg = readFileSync(join(dir, 'bundled.svg'));
    // The SVG holds the map's raster as a PNG (pngjs, bundled) and reads the shaders' folder (found from the bundle).
    expect(bundledSvg.toString('utf8')).toContain('data:image/png;base64,');
    expect(bundledSvg.equals(readFileSync(join(dir, 'sources.svg')))).toBe(true);
  }, 60_000);

  it("compiles the bundle with its own build's code cache, and runs as without one when the cache is refused", async () => {
    const env = { STEVE_CLI_BUNDLE_DIR: dir, STEVE_CLI_TRACE: '1' };
    const cachePath = join(dir, 'steve.code-cache');
    const { builtAtMs } = JSON.parse(readFileSync(join(dir, 'steve.inputs.json'), 'utf8'));
    // The first test's runs wrote it: this build's start, then V8's data.
    const written = readFileSync(cachePath);
    expect(written.readDoubleLE(0)).toBe(builtAtMs);
    expect(written.length).toBeGreaterThan(100_000);
    const help = await runNode(BIN, ['render', '--help'], env);
    expect(help.stdout).toContain('Usage: steve render');
    // That help run added its functions (if no help run had): another leaves the cache as it is.
    const afterHelp = readFileSync(cachePath);
    expect((await runNode(BIN, ['render', '--help'], env)).stdout).toBe(help.stdout);
    expect(readFileSync(cachePath).equals(afterHelp)).toBe(true);
    // Garbage after this build's header (V8 refuses it), then V8's data under another build's header (not used):
    // each time the CLI runs as without a cache and writes this build's again.
    const otherBuild = Buffer.alloc(8);
    otherBuild.writeDoubleLE(builtAtMs - 1000, 0);
    for (const planted of [Buffer.concat([written.subarray(0, 8), Buffer.alloc(written.length - 8, 7)]), Buffer.concat([otherBuild, written.subarray(8)])]) {
      writeFileSync(cachePath, planted);
      const run = await runNode(BIN, ['render', '--help'], env);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe(help.stdout);
      expect(whatRan(run.stderr)).toEqual(['bundle']);
      const rewritten = readFileSync(cachePath);
      expect(rewritten.equals(planted)).toBe(false);
      expect(rewritten.readDoubleLE(0)).toBe(builtAtMs);
    }
  }, 60_000);

  it('runs a bundle only while it is not older than its sources, and rebuilds a stale one', async () => {
    const env = { STEVE_CLI_BUNDLE_DIR: dir, STEVE_CLI_TRACE: '1' };
    const bundle = join(dir, 'steve.cjs');
    const manifestPath = join(dir, 'steve.inputs.json');
    let manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    expect(manifest.inputs).toContain('src/cli/main.ts');
    expect(manifest.inputs).toContain('src/node/shaderFiles.ts');
    expect(manifest.inputs).toContain('node_modules/commander/lib/command.js');
    expect(manifest.inputs).toContain('node_modules/.package-lock.json');

    /** Puts a stand-in bundle that says so in place, built at `time`, with `inputs` in its manifest. */
    const plantOldBundle = (time: Date, inputs: readonly string[]) => {
      writeFileSync(bundle, "process.stdout.write('the old bundle ran\\n');\n");
      utimesSync(bundle, time, time);
      writeFileSync(manifestPath, JSON.stringify({ ...manifest, inputs, builtAtMs: statSync(bundle).mtimeMs }));
    };

    // Built when the real one was: while fresh, it is what runs.
    plantOldBundle(new Date(manifest.builtAtMs), manifest.inputs);
    const fresh = await runNode(BIN, ['--help'], env);
    expect(fresh.stdout).toBe('the old bundle ran\n');
    expect(whatRan(fresh.stderr)).toEqual(['bundle']);

    // A source put back with another (older) mtime than the build saw, as cp -p or tar do: stale, rebuilt.
    plantOldBundle(new Date(manifest.builtAtMs), manifest.inputs);
    const planted = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const [mtimeMs, size] = planted.stats['src/cli/main.ts'];
    writeFileSync(manifestPath, JSON.stringify({ ...planted, stats: { ...planted.stats, 'src/cli/main.ts': [mtimeMs + 1000, size] } }));
    const restored = await runNode(BIN, ['--help'], env);
    expect(restored.stdout).not.toContain('the old bundle ran');
    expect(whatRan(restored.stderr)).toEqual(['rebuilt', 'bundle']);
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));

    // Built an hour before its sources were last saved: it is rebuilt, and the new one runs.
    plantOldBundle(new Date(manifest.builtAtMs - 3_600_000), manifest.inputs);
    const stale = await runNode(BIN, ['--help'], env);
    expect(stale.code).toBe(0);
    expect(stale.stdout).not.toContain('the old bundle ran');
    expect(stale.stdout).toContain('Usage: steve');
    expect(whatRan(stale.stderr)).toEqual(['rebuilt', 'bundle']);
    expect(readFileSync(bundle, 'utf8')).toContain('scripts/buildCli.mjs');

    // Built now, but from a source that is gone (deleted since the build): stale too. With another build under way
    // (its lock), the sources run through tsx rather than the stale bundle.
    plantOldBundle(new Date(), [...manifest.inputs, 'src/cli/deletedSinceTheBuild.ts']);
    mkdirSync(join(dir, '.building'));
    const locked = await runNode(BIN, ['--help'], env);
    expect(locked.code).toBe(0);
    expect(locked.stdout).toContain('Usage: steve');
    expect(whatRan(locked.stderr)).toEqual(['tsx']);
  }, 60_000);
});
