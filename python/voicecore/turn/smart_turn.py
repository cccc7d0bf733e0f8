"""Smart Turn v3.2 (BSD-2, pipecat-ai) end-of-turn audio model via onnxruntime.

The ONNX file ships inside the ``pipecat-ai`` wheel (``pipecat/audio/turn/smart_turn/data/
smart-turn-v3.2-cpu.onnx``); it is located on disk *without importing pipecat* (its import pulls
heavy dependencies). Input: ``[B, 80, 800]`` Whisper log-mel of the last 8 s at 16 kHz (zero-padded on
the left when shorter); output: P(turn complete).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from voicecore._onnx import shared_session
from voicecore.errors import ConfigError
from voicecore.turn.mel import whisper_log_mel

__all__ = ["SmartTurnModel", "find_smart_turn_model"]

_REL = Path("pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx")
WINDOW_S = 8.0
SAMPLE_RATE_HZ = 16000


def find_smart_turn_model() -> Path | None:
    """Path of the Smart Turn v3.2 ONNX file if the pipecat-ai wheel is installed, else None."""
    spec = importlib.util.find_spec("pipecat") if "pipecat" not in sys.modules else None
    roots: list[Path] = []
    if spec is not None and spec.submodule_search_locations:
        roots += [Path(p).parent for p in spec.submodule_search_locations]
    roots += [Path(p) for p in sys.path if p]
    for root in roots:
        candidate = root / _REL
        if candidate.is_file():
            return candidate
    return None


def prepare_window(audio_16k: NDArray[np.float32]) -> NDArray[np.float32]:
    n = int(WINDOW_S * SAMPLE_RATE_HZ)
    x = np.asarray(audio_16k, dtype=np.float32)[-n:]
    if x.size < n:
        x = np.concatenate([np.zeros(n - x.size, np.float32), x])
    return x


def _shared_session(path: Path, num_threads: int) -> Any:
    """The process-wide session for this model file and thread count (voicecore._onnx): every
    agent session builds its own SmartTurnModel, and a session holds about 10 MiB of weights (8
    models: +82 MiB with a session each)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ConfigError("onnxruntime is not installed: pip install 'voicecore[turn]'") from exc

    def create() -> Any:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])

    return shared_session(("smart-turn", path.resolve(), num_threads), create)


class SmartTurnModel:
    """``predict(audio_16k, transcript) -> P(complete)``; the transcript is ignored (audio model)."""

    name = "smart-turn-v3.2"

    def __init__(self, model_path: str | Path | None = None, *, num_threads: int = 1) -> None:
        path = Path(model_path) if model_path else find_smart_turn_model()
        if path is None or not path.is_file():
            raise ConfigError(
                "Smart Turn model not found: pip install 'voicecore[turn]' (the pipecat-ai wheel ships "
                "smart-turn-v3.2-cpu.onnx; install it with --no-deps), or pass model_path"
            )
        self._session: Any = _shared_session(path, num_threads)
        self._input = self._session.get_inputs()[0].name
        self._lock = threading.Lock()
        self.model_path = path

    def features(self, audio_16k: NDArray[np.float32]) -> NDArray[np.float32]:
        return whisper_log_mel(prepare_window(audio_16k), num_frames=800)

    def predict(self, audio_16k: NDArray[np.float32], transcript: str = "") -> float:
        feats = self.features(audio_16k)[None]
        with self._lock:
            out = self._session.run(None, {self._input: feats})
        return float(np.asarray(out[0]).reshape(-1)[0])
