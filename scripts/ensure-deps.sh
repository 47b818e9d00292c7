#!/usr/bin/env bash
# Installs what the viewer and the tests need, once: npm packages (npm ci when package-lock.json is newer than the
# installed tree) and, with --debian, the Debian packages the GPU and browser tests use:
#   chromium   - ships SwiftShader's software Vulkan driver (vk_swiftshader_icd.json) and the browser for e2e tests
#   libvulkan1 - the Vulkan loader Dawn opens
#   xvfb, xauth - a virtual display (xvfb-run) for headed Chromium, whose screenshots include the WebGPU canvas
#   fonts-dejavu-core - the font `steve render` gives resvg for the text of PNG figures
# Recommended packages are installed too: Chromium's fonts draw the labels in the screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--debian" ]]; then
  packages=(chromium libvulkan1 xvfb xauth fonts-dejavu-core)
  missing=()
  for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if ((${#missing[@]})); then
    echo "Installing Debian packages: ${missing[*]}"
    if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
      echo "Cannot install ${missing[*]}: run as root or install them with apt-get." >&2; exit 1
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "Installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi
