# Hand-written stub for the private extension module voicecore._core.
# Keep it in step with csrc/bindings/*.cc (checked by `python -m mypy.stubtest voicecore._core`).
from typing import Any

import numpy as np
from numpy.typing import NDArray

__version__: str

def build_info() -> dict[str, Any]: ...
def _rfft(x: NDArray[np.float32]) -> NDArray[np.complex64]: ...
def _irfft(spec: NDArray[np.complex64]) -> NDArray[np.float32]: ...

# --- resample ---
# --- vad ---
# --- aec ---
# --- jitter ---
