#!/usr/bin/env bash
# Prepares a run of the benchmarks on a lent GPU machine (no Node, no network there; see bench/README.md,
# "Numbers on a real GPU"). Run here, in the repository root, after `npm ci`:
#   bash bench/device/prepare.sh
# then, with the device tool, one call that carries what this made:
#   run(command: "bash bench/device/run.sh", carry: [".devgpu", "bench-dist"], timeout_s: 540)
# It bundles the Node suite (bench-dist/bench.mjs) and the pyramid zoom (bench-dist/node/pyramid.mjs: one folder
# deeper so that its own '../..' is the repository root, as bench/node/pyramidBench.ts's is), and packs Node, Dawn
# and the Vulkan loader into .devgpu/ with bench/device/pack.sh (unpack.sh, beside it, goes along and runs there).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
npm run -s bench:bundle
npx esbuild bench/node/pyramidBench.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --outfile=bench-dist/node/pyramid.mjs --log-level=warning \
  --banner:js="import { createRequire as steveCreateRequire } from 'node:module'; const require = steveCreateRequire(import.meta.url);"
bash bench/device/pack.sh
du -sh .devgpu bench-dist
