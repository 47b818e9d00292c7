#!/usr/bin/env bash
# Runs on the lent GPU machine, in the copy of the repository root that bench/device/prepare.sh made ready: the
# Node suite at Whisper base size and a large-v3-shaped tensor, then the model view's pyramid zoom at large-v3's
# full 32 x 20 x 1500 x 1500. Results (JSON and the printed tables) go to $OUT (the device tool's folder that comes
# back), else bench/results. Each step has its own time limit so that one slow step cannot take the whole loan.
#   bash bench/device/run.sh            everything (about 5-8 minutes on a recent GPU: an estimate, not measured)
#   bash bench/device/run.sh --quick    300 frames, a check that the kit works (also on SwiftShader here)
set -uo pipefail
cd "$(dirname "$0")/../.."
quick=0; [[ "${1:-}" == --quick ]] && quick=1
out="${OUT:-bench/results}/device"; mkdir -p "$out"
if [[ -f .devgpu/unpack.sh ]]; then eval "$(bash .devgpu/unpack.sh)"; fi
{
  date -u; uname -a; nproc; free -g | head -2
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.memory --format=csv
  ls /usr/local/nvidia/share/vulkan/icd.d/ 2>/dev/null; ldconfig -p | grep -i libvulkan
  echo "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"; node --version
} > "$out/machine.txt" 2>&1
cat "$out/machine.txt"
step() { # step NAME SECONDS COMMAND...
  local name=$1 limit=$2; shift 2
  echo "== $name (limit ${limit}s)"; local started=$SECONDS
  timeout "$limit" "$@" > "$out/$name.log" 2>&1; local rc=$?
  echo "== $name: exit $rc after $((SECONDS - started)) s"; tail -5 "$out/$name.log"
}
if (( quick )); then
  step suite 300 node bench-dist/bench.mjs --quick --no-steve --out "$out"
  step pyramid 200 node bench-dist/node/pyramid.mjs --layers 2 --heads 4 --frames 300 --steps 6 --out "$out"
else
  step suite 300 node bench-dist/bench.mjs --no-steve --out "$out"
  step pyramid 200 node bench-dist/node/pyramid.mjs --large-v3 --out "$out"
fi
ls -la "$out"
