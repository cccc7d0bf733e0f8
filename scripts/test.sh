#!/usr/bin/env bash
# The whole test suite on a fresh machine: system packages, a fresh virtualenv with the
# test extras, lint, type check, then every test plus the benchmarks once in smoke mode.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-system-deps.sh
venv="${VOICECORE_VENV:-.venv-test}"
rm -rf "$venv"
python3 -m venv "$venv"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
"$venv/bin/python" -m pip install -q --upgrade pip
# Compiler warnings fail the suite's build (the README's install command stays lenient).
"$venv/bin/python" -m pip install -q -C cmake.define.VOICECORE_WERROR=ON '.[test,dev]'
# Smart Turn v3.2's ONNX file ships only in the pipecat-ai wheel; voicecore reads the file and never
# imports pipecat, so its heavy dependency tree is not needed.
"$venv/bin/python" -m pip install -q --no-deps 'pipecat-ai>=1.14,<2'
"$venv/bin/ruff" check python tests bench conftest.py
"$venv/bin/ruff" format --check python tests bench conftest.py
"$venv/bin/mypy" python/voicecore
# The hand-written stubs of the compiled module against the module itself.
"$venv/bin/python" -m mypy.stubtest voicecore._core --allowlist scripts/stubtest-allowlist.txt
set +e
"$venv/bin/python" -m pytest --benchmark-disable -q "$@"
rc=$?
set -e
# pytest exits 5 when nothing was collected: that is a broken suite, not a pass.
if [ $rc -eq 5 ]; then echo "voicecore: pytest collected no tests" >&2; exit 1; fi
exit $rc
