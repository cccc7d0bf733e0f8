"""Acoustic echo cancellation: keep the agent from hearing itself.

:class:`EchoCanceller` removes from the microphone signal the echo of what the agent played. Feed
:meth:`EchoCanceller.push_far` with exactly the audio the agent sent to the loudspeaker (the
reference), and :meth:`EchoCanceller.process_near` with the microphone; it returns the microphone
with the echo removed, ``latency_ms`` (6 ms) late.

Design (C++ kernel in ``csrc/voicecore/aec/``): 4 ms blocks; an envelope-correlation bulk delay
estimator (0 to ``max_delay_ms``, with hysteresis; a later change is taken only when the microphone
confirms it: the echo matches the filter's own earlier echo estimate moved in time, or the old delay
predicts echo where the microphone has none, which near-end speech cannot fake); a partitioned-block
frequency-domain adaptive filter (MDF/PBFDAF, per-bin normalised NLMS with a proportionate step across
partitions, its normalisation floored 20 dB under the far power's mean over bins) covering ``tail_ms``
after the bulk delay, run as a foreground/background pair; an energy double-talk detector that slows
the background and blocks copies while the near end talks (an echo path change is not mistaken for
double talk, so it re-converges at full speed); a residual echo suppressor
driven by the coherence of the error with the echo estimate plus a learnt power leakage, gentle while
the near end talks (both a coherence and the energy detector must agree) and strong in single talk;
comfort noise at the tracked noise floor, so suppression never leaves digital silence.
While a delay jump or a new room is not yet confirmed, a block whose linear estimate adds more
than it removes is suppressed from the microphone itself with a filter-free echo estimate, so the
output is not louder than the microphone.

Streams: far and near are aligned by sample count. Every near frame consumes one frame of far
samples. The far side may run ahead (bursts are buffered, up to ``max_delay_ms`` plus a frame; older
samples are dropped and counted in ``stats["far_dropped_samples"]``). If the far side starves, the
missing samples count as silence (``stats["far_underrun_samples"]``): the near path never waits.
Push each far frame no later than the near frame recorded while it played.

Rates: 8 and 16 kHz. For 48 kHz audio, resample to 16 kHz around the canceller; a 48 kHz
``EchoCanceller`` raises :class:`voicecore.ConfigError` saying so.

Threads: calls are serialised by an internal lock, so ``push_far`` may come from the playback
thread and ``process_near`` from the capture thread. The kernel releases the GIL while it runs; the
lock is a mutex in the binding, taken only after the GIL is released (a Python lock around each call
cost more per frame than the binding).
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
from numpy.typing import NDArray

from voicecore import _core
from voicecore.dsp._checks import require_ndarray
from voicecore.errors import AudioFormatError

__all__ = ["EchoCanceller", "EchoCancellerStats"]


class EchoCancellerStats(TypedDict):
    """Snapshot of the canceller's state (see :attr:`EchoCanceller.stats`)."""

    delay_ms: float
    """Bulk delay estimate in ms (4 ms resolution); -1 before the first estimate."""
    erle_db: float
    """Smoothed microphone / output power while the far end plays (the canceller's own estimate)."""
    linear_erle_db: float
    """The same for the linear filter alone."""
    converged: bool
    """The delay is known and the linear filter removes more than 10 dB."""
    double_talk: bool
    """The near end talks over the echo (last block; the suppressor's decision)."""
    energy_double_talk: bool
    """The energy double-talk detector alone (it slows adaptation)."""
    leakage: float
    """Fraction of the echo estimate's power the suppressor assumes is left in the error."""
    far_underrun_samples: int
    far_dropped_samples: int
    blocks: int
    clip_level: float
    """Level at which the loudspeaker was found to clip the reference (full scale 1.0); 0 while
    none is found (or after a trial reverted one). From then on the filters model the echo of the
    clipped reference."""
    clip_correlation: float
    """How well the best clip level explains the linear filter's error (0-1); a level is adopted
    from 0.2."""
    drift_ppm: float
    """Clock drift of the echo path against the reference in ppm (positive: the echo's delay grows),
    once one is measured and the filters follow it; 0 before."""


Audio = NDArray[np.float32] | NDArray[np.int16]


class EchoCanceller:
    """Streaming acoustic echo canceller (mono, 8 or 16 kHz).

    Args:
        sample_rate_hz: 8000 or 16000, for both far and near.
        frame_ms: frame length; every call takes a positive multiple of ``frame_size`` samples.
        max_delay_ms: largest bulk delay (playback to capture) to search, 0..2000.
        tail_ms: echo tail the adaptive filter models after the bulk delay, 16..1000.
        clip_model: look for a loudspeaker that clips the reference and, once a clip level
            explains the linear filter's error (``stats["clip_level"]``), cancel the echo of the
            clipped reference (see ``csrc/voicecore/aec/reference_clipper.h``). On by default; on
            rooms without clipping the output is the same as with it off unless a level is
            adopted by mistake. A one-second trial reverts a level that makes the linear filter
            worse, but not every wrong one (a level adopted while the filter was still young can
            stay, and the double-talk rules change with it).
        favour_talker: keep more of a user who talks under the echo (a loud speakerphone, a quiet
            talker) at the cost of more echo where that goes wrong: the fitted missed-talk model
            treats a block as double talk from a score of 0.98 instead of 0.999 (0.99 once the
            call's talker is known to be under an unclipped echo), and like the coherence
            detector's lone blocks from 0.9 instead of 0.95. Off by default.
            Over 5,246 generated rooms it takes the double-talk rooms losing over 3 dB of the
            talker from 11 to 6 but the rooms more than 3 dB below WebRTC AEC3's single-talk ERLE
            from 11 to 16; see ``docs/aec_experiments.md`` (sessions 35 and 39-45). For agents
            where a missed barge-in costs more than a short echo burst.

    Frames are 1-D ``float32`` in [-1, 1] or ``int16``; ``process_near`` returns the same dtype.
    Wrong length or dtype, NaN/Inf, a float sample of magnitude 65536 or more (not audio in any
    scale: float audio in int16 scale peaks at 32768), or a frame tagged with another rate raise
    :class:`voicecore.AudioFormatError`, and the rejected frame changes nothing.
    """

    def __init__(
        self,
        sample_rate_hz: int = 16000,
        frame_ms: int = 10,
        max_delay_ms: int = 500,
        tail_ms: int = 250,
        clip_model: bool = True,
        favour_talker: bool = False,
    ) -> None:
        self._impl = _core.EchoCanceller(
            sample_rate_hz, frame_ms, max_delay_ms, tail_ms, clip_model, favour_talker
        )
        self._rate = self._impl.sample_rate_hz
        # Bound once: push_far/process_near run every frame, and each checks inline, calling the
        # helpers only to raise.
        self._push_far = self._impl.push_far
        self._process_near = self._impl.process_near

    @property
    def sample_rate_hz(self) -> int:
        return self._impl.sample_rate_hz

    @property
    def frame_size(self) -> int:
        """Samples per frame (e.g. 160 for 10 ms at 16 kHz)."""
        return self._impl.frame_size

    @property
    def latency_samples(self) -> int:
        """Algorithmic latency of ``process_near`` in samples."""
        return self._impl.latency_samples

    @property
    def latency_ms(self) -> float:
        return 1000.0 * self._impl.latency_samples / self._impl.sample_rate_hz

    @property
    def far_buffered(self) -> int:
        """Far samples pushed and not yet consumed by the near side."""
        return self._impl.far_buffered

    def _check_rate(self, sample_rate_hz: int | None, what: str) -> None:
        if sample_rate_hz is not None and sample_rate_hz != self._impl.sample_rate_hz:
            raise AudioFormatError(
                f"{what} is at {sample_rate_hz} Hz but the EchoCanceller runs at "
                f"{self._impl.sample_rate_hz} Hz; resample it (far and near must share one rate)"
            )

    def push_far(self, frame: Audio, sample_rate_hz: int | None = None) -> None:
        """Queue what the agent played (one or more frames). ``sample_rate_hz``, if given, is checked."""
        if not isinstance(frame, np.ndarray):
            require_ndarray(frame, "far frame")
        if sample_rate_hz is not None and sample_rate_hz != self._rate:
            self._check_rate(sample_rate_hz, "far frame")
        self._push_far(frame)

    def process_near(self, frame: Audio, sample_rate_hz: int | None = None) -> Audio:
        """Cancel the echo in one or more microphone frames; returns as many samples, same dtype."""
        if not isinstance(frame, np.ndarray):
            require_ndarray(frame, "near frame")
        if sample_rate_hz is not None and sample_rate_hz != self._rate:
            self._check_rate(sample_rate_hz, "near frame")
        return self._process_near(frame)

    def reset(self) -> None:
        """Forget the echo path, the delay and the buffered far audio; keep the configuration."""
        self._impl.reset()

    @property
    def stats(self) -> EchoCancellerStats:
        """Delay estimate, ERLE estimate, convergence and double-talk state."""
        raw = self._impl.stats()
        return EchoCancellerStats(
            delay_ms=float(raw["delay_ms"]),
            erle_db=float(raw["erle_db"]),
            linear_erle_db=float(raw["linear_erle_db"]),
            converged=bool(raw["converged"]),
            double_talk=bool(raw["double_talk"]),
            energy_double_talk=bool(raw["energy_double_talk"]),
            leakage=float(raw["leakage"]),
            far_underrun_samples=int(raw["far_underrun_samples"]),
            far_dropped_samples=int(raw["far_dropped_samples"]),
            blocks=int(raw["blocks"]),
            clip_level=float(raw["clip_level"]),
            clip_correlation=float(raw["clip_correlation"]),
            drift_ppm=float(raw["drift_ppm"]),
        )
