#!/usr/bin/env bash
# Starts the viewer on the bundled samples: installs npm packages if needed, then serves the demo with Vite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec npx vite --host 127.0.0.1 "$@"
