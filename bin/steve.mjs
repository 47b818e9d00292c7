#!/usr/bin/env node
// The `steve` command. It runs the bundled CLI (dist-cli/steve.cjs, made by scripts/buildCli.mjs, compiled with its
// V8 code cache) while no source it was built from is newer, so a run loads one file instead of tsx transpiling the
// module graph first. A stale
// or missing bundle is rebuilt here (about a second) and then run; when that cannot happen (another process is
// building it, esbuild missing, a read-only install) the sources run through tsx, as they always could. So a fresh
// clone, a developer editing src/ and the tests never run a stale bundle.
//   STEVE_CLI_RUN=tsx     always run the sources through tsx (no bundle, no build): a bug's stack trace then names
//                         src/ files and lines (the bundle's names its own lines; functions keep their names)
//   STEVE_CLI_TRACE=1     say on stderr which of the two ran (the benchmarks and tests check it)
import { buildBundle, freshBundle, runBundle } from '../scripts/buildCli.mjs';

const trace = process.env.STEVE_CLI_TRACE === '1' ? (line) => process.stderr.write(`steve-cli: ${line}\n`) : () => {};

async function bundleToRun() {
  if (process.env.STEVE_CLI_RUN === 'tsx') return undefined;
  const fresh = freshBundle();
  if (fresh) return fresh;
  try {
    const built = await buildBundle();
    if (!built) return undefined;
    trace(`rebuilt ${built}`);
    return freshBundle();
  } catch (error) {
    trace(`bundle not built: ${error.message}`);
    return undefined;
  }
}

const fresh = await bundleToRun();
if (fresh) {
  trace(`bundle ${fresh.bundle}`);
  runBundle(fresh.bundle, fresh.builtAtMs);
} else {
  trace('tsx');
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
