"""The shared real FFT (the echo canceller's and the VAD's) against numpy."""

from __future__ import annotations

import numpy as np
import pytest

import voicecore
from voicecore import _core


@pytest.mark.parametrize("n", [2, 4, 8, 16, 64, 128, 256, 1024, 4096])
def test_forward_matches_numpy(n: int) -> None:
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    got = _core._rfft(x)
    want = np.fft.rfft(x.astype(np.float64))
    assert np.max(np.abs(got - want)) <= 1e-5 * np.sqrt(n) * np.max(np.abs(want))


@pytest.mark.parametrize("n", [2, 4, 8, 16, 128, 256, 512, 2048])
def test_inverse_round_trip(n: int) -> None:
    x = np.random.default_rng(7 + n).standard_normal(n).astype(np.float32)
    y = _core._irfft(_core._rfft(x))
    assert np.max(np.abs(y - x)) < 1e-5


def test_rejects_non_power_of_two() -> None:
    with pytest.raises(voicecore.ConfigError, match="power of two"):
        _core._rfft(np.zeros(160, np.float32))
