#!/usr/bin/env bash
# The whole test suite: installs what it needs, type-checks, then runs every vitest suite
# (pure readers and formulas, GPU kernels on Dawn + SwiftShader, and the browser tests on Debian's Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --debian
# Dawn finds SwiftShader through these (src/node/dawn.ts sets them too, for the CLI); a real GPU machine may override.
export VK_ICD_FILENAMES="${VK_ICD_FILENAMES:-/usr/lib/chromium/vk_swiftshader_icd.json}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
npx tsc --noEmit
# Browser tests run headed under a virtual display when there is no display, so their screenshots show the canvas.
if [[ -z "${DISPLAY:-}" ]] && command -v xvfb-run >/dev/null; then
  xvfb-run -a -s "-screen 0 1400x950x24" npx vitest run "$@"
else
  npx vitest run "$@"
fi
