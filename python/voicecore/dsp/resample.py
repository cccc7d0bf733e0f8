"""Streaming sample-rate conversion: :class:`Resampler`.

A polyphase Kaiser-windowed-sinc resampler (C++ kernel in ``csrc/voicecore/resample``).

* The rate change is the exact fraction ``out_rate_hz / in_rate_hz`` reduced by its gcd
  (:attr:`Resampler.ratio`); the position is tracked in integers, so even a stream of days
  never drifts.
* The filter delay is compensated: output frame ``k`` is the signal at input time
  ``k * in_rate_hz / out_rate_hz``, so output is time-aligned with input. Until :meth:`flush`
  the output lags by :attr:`latency_ms`; after :meth:`flush` a stream of ``n`` input frames
  has produced exactly ``ceil(n * out_rate_hz / in_rate_hz)`` frames.
* Chunk invariance: any split of the input followed by :meth:`flush` gives output
  bit-identical to one :meth:`process` + :meth:`flush`.

Structure: one polyphase Kaiser-windowed-sinc stage, plus a zero-phase half-band 2:1 stage in
front of it when the rate drops by 2.5x or more (48k->16k, 44.1k->16k) or a 1:2 half-band stage
behind it when the rate rises by 2.5x or more (16k->48k); the half-band halves the polyphase
stage's work. Every stage is delay-compensated, so the alignment and length rules above hold.

Quality presets. The stopband always starts at the lower Nyquist, so nothing aliases or images
into the output band; edges are fractions of the lower Nyquist. Measured by
``bench/eval_resample.py`` (AVX2+FMA path; THD+N of a -6 dBFS 1 kHz sine and alias rejection are
the worst over the voice rate pairs; latency is the filter lookahead):

=============  ===============  ===========  ==========  ==========  ==============  =============
preset         0.01 dB edge     stopband     THD+N       alias rej.  48k->16k lat.   16k->8k lat.
=============  ===============  ===========  ==========  ==========  ==============  =============
``quick``      0.808            74.5 dB      -89.2 dB    -82.2 dB    1.90 ms         2.94 ms
``medium``     0.861            99.9 dB      -114.2 dB   -107.7 dB   3.19 ms         5.38 ms
``high``       0.8775           122.4 dB     -134.1 dB   -136.4 dB   4.27 ms         7.31 ms
``very_high``  0.916            165.5 dB     -150.7 dB   -155.6 dB   7.85 ms         14.12 ms
=============  ===============  ===========  ==========  ==========  ==============  =============

Latency scales as 1 / (lower rate): "high" stays under 5 ms whenever the lower rate is >= 16 kHz,
and is 7.3 ms at 8 kHz. No linear-phase filter meets the "high" spec in 5 ms at 8 kHz: flat
within 0.01 dB to 0.875 of the lower Nyquist and >= 120 dB from the Nyquist up leave a
transition band of 0.0625 x the lower rate, so any linear-phase design's delay is a fixed
number of lower-rate periods; even the minimax-optimal (Parks-McClellan) filter for 16k->8k
needs 167 taps at 16 kHz, a 5.19 ms delay. Only a minimum-phase design would be shorter (and
give up the constant group delay the alignment above relies on); none is offered.
"very_high" keeps coefficients, history and sums in double; its THD+N floor is the float32
rounding of input and output (soxr VHQ measures the same -150.7 dB here).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from voicecore import _core
from voicecore.errors import ConfigError

Quality = Literal["quick", "medium", "high", "very_high"]
QUALITIES: tuple[Quality, ...] = ("quick", "medium", "high", "very_high")

Samples = NDArray[np.float32] | NDArray[np.int16]


class Resampler(_core.Resampler):
    """Streaming sample-rate converter for one audio stream.

    Args:
        in_rate_hz: input rate, any integer from 8000 to 192000.
        out_rate_hz: output rate, any integer from 8000 to 192000.
        num_channels: interleaved channels, 1 to 32.
        quality: ``"quick"``, ``"medium"``, ``"high"`` (default) or ``"very_high"``.

    Raises:
        voicecore.ConfigError: unsupported rate, channel count or quality.

    ``process(x)`` takes a C-contiguous ``float32`` or ``int16`` array, shaped ``(n,)`` (mono
    only) or ``(n, num_channels)`` interleaved, and returns the frames that are ready, with the
    same dtype and layout. ``float32`` is processed unscaled; ``int16`` is filtered in its own
    scale and rounded half-to-even with saturation. An empty input returns an empty array of
    the same dtype and layout. It raises :class:`voicecore.AudioFormatError` for any other
    dtype (float64 included: nothing is converted silently), a non-contiguous array, a wrong
    channel count, NaN/Inf samples or float samples of magnitude 65536 or more, or a dtype
    different from the one the stream started with (the first non-empty call after
    construction, :meth:`reset` or :meth:`flush` fixes it).

    ``flush()`` emits the delayed tail in the stream's dtype and layout, then resets the
    stream. With nothing processed since the last flush/reset it returns an empty ``float32``
    array (``(0,)`` mono, ``(0, num_channels)`` otherwise).

    ``reset()`` forgets history and position and keeps the configuration.

    The GIL is released while the kernel runs, so independent streams scale across threads.
    One instance must not be used from two threads at once (a concurrent call raises
    :class:`voicecore.ConfigError` rather than corrupting the stream).
    """

    def __init__(
        self,
        in_rate_hz: int,
        out_rate_hz: int,
        num_channels: int = 1,
        quality: Quality = "high",
    ) -> None:
        for name, value in (
            ("in_rate_hz", in_rate_hz),
            ("out_rate_hz", out_rate_hz),
            ("num_channels", num_channels),
        ):
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ConfigError(f"{name} must be an integer, got {value!r}; pass e.g. 16000")
        if not isinstance(quality, str):
            raise ConfigError(f"quality must be one of {', '.join(QUALITIES)}, got {quality!r}")
        super().__init__(int(in_rate_hz), int(out_rate_hz), int(num_channels), quality)
        self._ratio = Fraction(int(out_rate_hz), int(in_rate_hz))

    @property
    def ratio(self) -> Fraction:
        """Exact ``out_rate_hz / in_rate_hz`` as a reduced :class:`fractions.Fraction` (L/M)."""
        return self._ratio

    def __repr__(self) -> str:
        return (
            f"Resampler(in_rate_hz={self.in_rate_hz}, out_rate_hz={self.out_rate_hz}, "
            f"num_channels={self.num_channels}, quality={self.quality!r})"
        )


__all__ = ["QUALITIES", "Quality", "Resampler", "Samples"]
