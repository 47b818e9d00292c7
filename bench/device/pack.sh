#!/usr/bin/env bash
# Prepares .devgpu/ in the project's root: what a run on the lent GPU machine needs and that machine lacks
# (it has no Node, no network, and may lack the Vulkan loader). Run from the project's root, after `npm ci`.
# Usage: bash bench/device/pack.sh [extra paths to include in the node_modules tarball...]
# (bench/device/prepare.sh runs it.) Copied, with unpack.sh beside it, from the device kit the workplace lends with
# its GPU machines (its pack.sh and unpack.sh), so that the project carries what a device run needs.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
grep -qx '/.devgpu/' .git/info/exclude 2>/dev/null || echo '/.devgpu/' >> .git/info/exclude
rm -rf .devgpu && mkdir -p .devgpu
xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > .devgpu/node.xz
cp "$(dirname "$(readlink -f "$0")")/unpack.sh" .devgpu/unpack.sh
# Dawn's Node bindings and their small dependencies; add whatever your GPU script imports at run time.
mods=(node_modules/webgpu node_modules/debug node_modules/ms "$@")
tar --exclude='dist/darwin-*' --exclude='dist/win32-*' --exclude='dist/linux-arm64' -cJf .devgpu/node_modules.tar.xz "${mods[@]}"
# The Vulkan loader, as an amd64 .deb to unpack there.
mkdir -p /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
apt-get $o update -qq >/dev/null
(cd .devgpu && apt-get $o download libvulkan1 >/dev/null)
du -sh .devgpu; ls -la .devgpu
cat <<'TXT'
On the GPU machine, in the copy of the project's root, start with:
  eval "$(bash .devgpu/unpack.sh)";
(see bench/README.md, "Numbers on a real GPU"). The whole working tree travels too: keep it small.
TXT
