"""The echo canceller's split-array real FFT against numpy."""

from __future__ import annotations

import numpy as np
import pytest

import voicecore
from voicecore import _core


@pytest.mark.parametrize("n", [4, 8, 16, 64, 128, 256, 1024])
def test_aec_fft_matches_numpy(n: int) -> None:
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    got = _core._aec_rfft(x)
    want = np.fft.rfft(x.astype(np.float64))
    assert np.max(np.abs(got - want)) <= 1e-5 * np.sqrt(n) * np.max(np.abs(want))
    back = _core._aec_irfft(got.astype(np.complex64))
    assert np.max(np.abs(back - x)) < 1e-5


def test_aec_fft_rejects_bad_size() -> None:
    with pytest.raises(voicecore.ConfigError, match="power of two"):
        _core._aec_rfft(np.zeros(160, np.float32))
