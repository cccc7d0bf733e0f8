"""Audio frames and format helpers for the asyncio layer.

Inside the pipeline audio is float32 in [-1, 1]; int16 appears only at the edges (wire, files).
An :class:`AudioFrame` carries a numpy array, never ``bytes``: kernels take zero-copy views of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from voicecore.errors import AudioFormatError

__all__ = ["AudioFrame", "as_float32", "concat_frames", "float32_to_int16", "int16_to_float32"]


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """A block of audio: ``samples`` is float32, shape ``(n,)`` for mono or ``(n, num_channels)``.

    ``timestamp_s`` is the stream time of the first sample (seconds on the session's clock).
    The array is not copied: build frames from views and do not mutate them afterwards.
    """

    samples: NDArray[np.float32]
    sample_rate_hz: int
    num_channels: int = 1
    timestamp_s: float = 0.0

    def __post_init__(self) -> None:
        s = self.samples
        if not isinstance(s, np.ndarray) or s.dtype != np.float32:
            got = type(s).__name__ if not isinstance(s, np.ndarray) else str(s.dtype)
            raise AudioFormatError(
                f"AudioFrame samples must be a float32 numpy array, got {got}; "
                "convert int16 with voicecore.audio.int16_to_float32()"
            )
        if self.sample_rate_hz <= 0:
            raise AudioFormatError(f"sample_rate_hz must be positive, got {self.sample_rate_hz}")
        if self.num_channels < 1:
            raise AudioFormatError(f"num_channels must be >= 1, got {self.num_channels}")
        expected_ndim = 1 if self.num_channels == 1 else 2
        if s.ndim != expected_ndim or (s.ndim == 2 and s.shape[1] != self.num_channels):
            raise AudioFormatError(
                f"samples shape {s.shape} does not match num_channels={self.num_channels}; "
                "use shape (n,) for mono or (n, num_channels) interleaved"
            )

    @property
    def num_samples(self) -> int:
        """Samples per channel."""
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.sample_rate_hz

    @property
    def end_s(self) -> float:
        return self.timestamp_s + self.duration_s

    def mono(self) -> NDArray[np.float32]:
        """Mono samples (a view for mono frames, a channel mean otherwise)."""
        if self.num_channels == 1:
            return self.samples
        return np.asarray(self.samples.mean(axis=1, dtype=np.float32), dtype=np.float32)

    def to_int16(self) -> NDArray[np.int16]:
        return float32_to_int16(self.samples)

    @classmethod
    def from_int16(
        cls,
        samples: NDArray[np.int16],
        sample_rate_hz: int,
        *,
        num_channels: int = 1,
        timestamp_s: float = 0.0,
    ) -> AudioFrame:
        return cls(int16_to_float32(samples), sample_rate_hz, num_channels, timestamp_s)

    @classmethod
    def silence(cls, num_samples: int, sample_rate_hz: int, *, timestamp_s: float = 0.0) -> AudioFrame:
        return cls(np.zeros(num_samples, np.float32), sample_rate_hz, 1, timestamp_s)


def as_float32(samples: NDArray[np.generic], *, what: str = "audio") -> NDArray[np.float32]:
    """Validate mono float32 audio (1-D, finite); int16 is converted, other dtypes are rejected."""
    if not isinstance(samples, np.ndarray):
        raise AudioFormatError(f"{what} must be a numpy array, got {type(samples).__name__}")
    if samples.dtype == np.int16:
        samples = int16_to_float32(samples.astype(np.int16, copy=False))
    if samples.dtype != np.float32:
        raise AudioFormatError(f"{what} must be float32 in [-1, 1] or int16, got {samples.dtype}")
    if samples.ndim != 1:
        raise AudioFormatError(f"{what} must be 1-D mono, got shape {samples.shape}; downmix first")
    if samples.size and not np.isfinite(samples).all():
        raise AudioFormatError(f"{what} contains NaN or Inf samples; clean the signal before pushing it")
    return samples  # type: ignore[return-value]


def int16_to_float32(samples: NDArray[np.int16]) -> NDArray[np.float32]:
    return (samples.astype(np.float32) * np.float32(1.0 / 32768.0)).astype(np.float32, copy=False)


def float32_to_int16(samples: NDArray[np.float32]) -> NDArray[np.int16]:
    return (np.clip(samples, -1.0, 32767.0 / 32768.0) * 32768.0).astype(np.int16)


def concat_frames(frames: list[AudioFrame]) -> NDArray[np.float32]:
    """Concatenated mono samples of ``frames`` (all must share one sample rate)."""
    if not frames:
        return np.zeros(0, np.float32)
    rate = frames[0].sample_rate_hz
    for f in frames:
        if f.sample_rate_hz != rate:
            raise AudioFormatError(
                f"cannot concatenate frames at {rate} Hz and {f.sample_rate_hz} Hz; resample first"
            )
    return np.concatenate([f.mono() for f in frames]).astype(np.float32, copy=False)
