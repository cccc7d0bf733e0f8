# Hand-written stub for the private extension module voicecore._core.
# Keep it in step with csrc/bindings/*.cc (checked by `python -m mypy.stubtest voicecore._core`).
from typing import Any

__version__: str

def build_info() -> dict[str, Any]: ...

# --- resample ---
# --- vad ---
# --- aec ---
# --- jitter ---
