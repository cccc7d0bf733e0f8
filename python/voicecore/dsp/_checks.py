"""Input checks shared by the kernel wrappers, done before the binding sees the object."""

from __future__ import annotations

from typing import Any

import numpy as np

from voicecore.errors import AudioFormatError


def require_ndarray(x: Any, what: str) -> None:
    """Raise AudioFormatError unless ``x`` is a numpy array.

    pybind11 would otherwise raise a bare TypeError that quotes the whole object.
    """
    if not isinstance(x, np.ndarray):
        raise AudioFormatError(
            f"{what} must be a numpy array, got {type(x).__name__}; "
            "pass np.asarray(samples, dtype=np.float32) (or int16 PCM)"
        )
