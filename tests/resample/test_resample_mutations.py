"""Mutation checks: broken resamplers must fail the figures test_resample_spec.py asserts.

Each mutant replaces ``Resampler`` inside resample_metrics (the functions the spec tests call) or
corrupts the real kernel's output: nearest-sample picking with no filter, linear interpolation,
the real kernel losing one output sample in 1000, and the real kernel one output sample late.

Finding documented here: a no-filter nearest-sample 48 kHz -> 16 kHz decimator scores -154 dB
THD+N on the 1 kHz sine and exactly 0 dB passband gain (picking every third sample of an in-band
tone is exact); only the alias tests catch it, so they must keep covering every decimating pair.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import resample_metrics as m

from voicecore import Resampler


class _Collecting:
    """Buffers everything, resamples it in flush(); num_taps only sizes the metrics' skip."""

    num_taps = 2

    def __init__(self, in_rate: int, out_rate: int, num_channels: int = 1, quality: str = "high") -> None:
        self.in_rate, self.out_rate = in_rate, out_rate
        self._parts: list[np.ndarray] = []

    def process(self, x: np.ndarray) -> np.ndarray:
        self._parts.append(np.asarray(x))
        return np.zeros(0, np.asarray(x).dtype)

    def flush(self) -> np.ndarray:
        x = np.concatenate(self._parts)
        self._parts = []
        n = math.ceil(len(x) * self.out_rate / self.in_rate)
        return self._resample(x, n)

    def _resample(self, x: np.ndarray, n: int) -> np.ndarray:
        raise NotImplementedError


class _Nearest(_Collecting):
    def _resample(self, x: np.ndarray, n: int) -> np.ndarray:
        return x[np.minimum(np.arange(n) * self.in_rate // self.out_rate, len(x) - 1)]


class _Linear(_Collecting):
    def _resample(self, x: np.ndarray, n: int) -> np.ndarray:
        pos = np.arange(n) * self.in_rate / self.out_rate
        return np.interp(pos, np.arange(len(x)), x).astype(x.dtype)


class _Dropping:
    """The real kernel, losing one output sample in every 1000 (a phase-accumulator slip)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._r = Resampler(*args, **kwargs)
        self.num_taps = self._r.num_taps

    def process(self, x: np.ndarray) -> np.ndarray:
        y = self._r.process(x)
        return np.delete(y, np.arange(500, len(y), 1000), axis=0)

    def flush(self) -> np.ndarray:
        return self._r.flush()


# test_resample_spec.py's "high" bounds
HIGH_THD, HIGH_ALIAS = -120.0, -120.0


def test_no_filter_decimator_fails_only_the_alias_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(m, "Resampler", _Nearest)
    assert m.alias_rejection_db(48000, 16000, "high", 9000.0) > -10.0
    assert m.alias_rejection_db(48000, 16000, "high", 20000.0) > -10.0
    # ... while the THD+N and passband tests on this pair do not see the missing filter.
    assert m.thd_n_db(48000, 16000, "high", seconds=0.3) <= HIGH_THD
    assert abs(m.gain_db(48000, 16000, "high", 0.875 * 8000)) <= 0.01


@pytest.mark.parametrize("mutant", [_Nearest, _Linear])
def test_crude_interpolators_fail_upsampling_thd(mutant: type, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(m, "Resampler", mutant)
    assert m.thd_n_db(16000, 48000, "high", seconds=0.3) > -60.0


def test_dropped_output_samples_fail_thd_and_gain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(m, "Resampler", _Dropping)
    assert m.thd_n_db(48000, 16000, "high", seconds=0.3) > HIGH_THD + 100
    assert m.thd_n_db(16000, 48000, "high", seconds=0.3) > HIGH_THD + 100
    x = m.tone(48000, 1000.0, 0.3).astype(np.float32)
    y = m.run(_Dropping(48000, 16000), x)  # type: ignore[arg-type]
    assert len(y) != math.ceil(len(x) * 16000 / 48000)  # test_chunk_invariance's length check


def test_one_sample_late_output_fails_time_alignment() -> None:
    """test_output_is_time_aligned_with_input's criterion (< -120 dB) on a shifted kernel output."""
    x = m.tone(48000, 1000.0, 0.2).astype(np.float32)
    y = m.run(Resampler(48000, 16000), x).astype(np.float64)
    ref = m.tone(16000, 1000.0, 0.2)[: len(y)]

    def err_db(out: np.ndarray) -> float:
        e = out[200:-200] - ref[200:-200]
        return float(10 * np.log10(np.mean(e**2) / np.mean(ref**2)))

    assert err_db(y) < -120
    assert err_db(np.concatenate([[0.0], y[:-1]])) > -20
