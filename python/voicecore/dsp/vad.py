"""FrameVad: the cheap, always-on frame-level voice activity detector (C++ kernel)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from voicecore import _core
from voicecore.dsp._checks import require_ndarray
from voicecore.errors import ConfigError

SUPPORTED_RATES_HZ = (8000, 16000, 32000, 48000)
SUPPORTED_FRAME_MS = (10, 20, 30)


class FrameVad:
    """Frame-level speech probability from a small C++ model.

    Per 10 ms hop the kernel measures six sub-band SNRs against an adaptive noise floor
    (minimum statistics over 1.6 s, so it follows stationary and slowly varying noise),
    spectral flatness over 250-4000 Hz and periodicity (normalised autocorrelation at 4 kHz,
    62.5-400 Hz pitch), plus causal averages and peaks of them, and the full-band level against
    its own slowly decaying peak (2 dB/s: the talker's level, which babble and other speech-like
    noise stay well below at usable SNRs, though relative to the floor they set they look like
    speech), and maps them to a calibrated probability with an 18-12-1 MLP whose weights were fit
    offline (``bench/fit_frame_vad.py``). In noise before any speech that level reads "at the
    peak", so the first ~2 s of a noise-only stream score somewhat higher (mean about 0.25 on
    white noise) than later noise (about 0.15).
    A 20 or 30 ms frame reports the mean over its 10 ms hops.

    The first ~0.2 s after construction or :meth:`reset` has no noise estimate yet, and a
    new noise level takes up to 1.6 s to be learnt.

    One instance per audio stream; not thread-safe. :meth:`process` releases the GIL.

    Args:
        sample_rate_hz: 8000, 16000, 32000 or 48000.
        frame_ms: 10, 20 or 30.

    Raises:
        ConfigError: unsupported rate or frame length.
    """

    __slots__ = ("_impl", "_rate", "_frame_ms")

    def __init__(self, sample_rate_hz: int = 16000, frame_ms: int = 10) -> None:
        if sample_rate_hz not in SUPPORTED_RATES_HZ:
            raise ConfigError(
                f"FrameVad supports sample_rate_hz in {SUPPORTED_RATES_HZ}, got {sample_rate_hz!r}; "
                "resample first (voicecore.Resampler) or use voicecore.SpeechDetector"
            )
        if frame_ms not in SUPPORTED_FRAME_MS:
            raise ConfigError(f"FrameVad supports frame_ms in {SUPPORTED_FRAME_MS}, got {frame_ms!r}")
        cfg = _core.FrameVadConfig()
        cfg.sample_rate_hz = sample_rate_hz
        cfg.frame_ms = frame_ms
        self._impl = _core.FrameVad(cfg)
        self._rate = sample_rate_hz
        self._frame_ms = frame_ms

    @property
    def sample_rate_hz(self) -> int:
        return self._rate

    @property
    def frame_ms(self) -> int:
        return self._frame_ms

    @property
    def frame_size(self) -> int:
        """Samples per frame (``sample_rate_hz * frame_ms / 1000``)."""
        return self._impl.frame_size

    def process(self, frame: NDArray[np.float32]) -> float:
        """Speech probability in [0, 1] for exactly ``frame_size`` mono float32 samples in [-1, 1].

        Raises:
            AudioFormatError: wrong dtype (e.g. float64), shape or length, or NaN/Inf samples.
        """
        require_ndarray(frame, "frame")
        return self._impl.process(frame)

    def process_hops(self, hops: NDArray[np.float32]) -> NDArray[np.float32]:
        """Probabilities of ``n`` consecutive 10 ms hops given as a C-contiguous float32 array of
        shape ``(n, sample_rate_hz // 100)``, whatever ``frame_ms`` is: the same values ``n`` calls of
        :meth:`process` on a 10 ms FrameVad return, in one call.

        Raises:
            AudioFormatError: wrong dtype or shape, a strided array, or NaN/Inf samples.
        """
        require_ndarray(hops, "hops")
        return self._impl.process_hops(hops)

    def reset(self) -> None:
        """Forget all history (noise floor, averages); keep the configuration."""
        self._impl.reset()
