#!/usr/bin/env bash
# The main job on a fresh machine: install voicecore into .venv and run it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-system-deps.sh
[ -x .venv/bin/python ] || python3 -m venv .venv
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
.venv/bin/python -m pip install -q '.'
exec .venv/bin/voicecore info
