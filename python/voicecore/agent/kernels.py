"""Thin adapter between the session and the C++ kernels (SpeechDetector, EchoCanceller, Resampler).

The session only needs the small protocols below; the real kernels satisfy them. Keeping this layer
thin means a change in a kernel's event names touches only :func:`vad_edges`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from voicecore.errors import ConfigError

__all__ = [
    "EchoCancellerLike",
    "ResamplerLike",
    "SpeechDetectorLike",
    "VadEdge",
    "make_echo_canceller",
    "make_resampler",
    "make_speech_detector",
    "vad_edges",
]


class SpeechDetectorLike(Protocol):
    def push(self, samples: NDArray[np.float32], sample_rate_hz: int) -> Sequence[Any]: ...


class EchoCancellerLike(Protocol):
    def push_far(self, frame: NDArray[np.float32]) -> Any: ...

    def process_near(self, frame: NDArray[np.float32]) -> NDArray[np.float32]: ...


class ResamplerLike(Protocol):
    def process(self, x: NDArray[np.float32]) -> NDArray[np.float32]: ...


@dataclass(frozen=True, slots=True)
class VadEdge:
    kind: Literal["start", "end"]
    timestamp_s: float  # stream time of the edge (first / last speech sample)


def _time_of(ev: Any, names: Sequence[str]) -> float | None:
    for n in names:
        v = getattr(ev, n, None)
        if isinstance(v, (int, float)):
            return float(v)
    return None


def vad_edges(events: Sequence[Any]) -> list[VadEdge]:
    """Speech start/end edges from a detector's events (SpeechStarted / SpeechEnded)."""
    out: list[VadEdge] = []
    for ev in events:
        cls = type(ev).__name__.lower()
        if "start" in cls:
            t = _time_of(ev, ("start_s", "timestamp_s", "time_s", "timestamp"))
            out.append(VadEdge("start", t if t is not None else 0.0))
        elif "end" in cls:
            t = _time_of(ev, ("end_s", "timestamp_s", "time_s", "timestamp"))
            out.append(VadEdge("end", t if t is not None else 0.0))
    return out


def _kernel(name: str) -> Any:
    """A kernel class from the voicecore package, or None if this build does not have it."""
    import voicecore

    return getattr(voicecore, name, None)


def make_speech_detector(vad: str = "auto", **options: Any) -> SpeechDetectorLike:
    """voicecore's SpeechDetector; ``vad="auto"`` is "cascade" (FrameVad gating Silero) when Silero's
    model is installed, else "frame"."""
    cls = _kernel("SpeechDetector")
    if cls is None:
        raise ConfigError("this voicecore build has no SpeechDetector (VAD kernel); rebuild voicecore")
    if vad == "auto":
        try:
            cascade: SpeechDetectorLike = cls(vad="cascade", **options)
            return cascade
        except ConfigError:
            vad = "frame"
    detector: SpeechDetectorLike = cls(vad=vad, **options)
    return detector


def make_echo_canceller(sample_rate_hz: int = 16000, frame_ms: int = 10) -> EchoCancellerLike | None:
    """The AEC kernel, or None when this build has none (echo cancellation is then off)."""
    cls = _kernel("EchoCanceller")
    if cls is None:
        return None
    aec: EchoCancellerLike = cls(sample_rate_hz=sample_rate_hz, frame_ms=frame_ms)
    return aec


def make_resampler(in_rate_hz: int, out_rate_hz: int) -> ResamplerLike:
    cls = _kernel("Resampler")
    if cls is None:
        raise ConfigError("this voicecore build has no Resampler kernel; rebuild voicecore")
    r: ResamplerLike = cls(in_rate_hz, out_rate_hz, num_channels=1, quality="high")
    return r
