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


@pytest.mark.parametrize("n", [8, 64, 128, 512])
def test_silent_block_shortcut(n: int) -> None:
    """An all-zero block gives exact zeros without a transform; a block with one nonzero sample, even
    the last one, or a -0.0, is transformed (the zero test must scan the whole block)."""
    assert not np.any(_core._rfft(np.zeros(n, np.float32)))
    for at in (0, n // 2 + 1, n - 1):
        x = np.zeros(n, np.float32)
        x[at] = 0.25
        want = np.fft.rfft(x.astype(np.float64))
        assert np.max(np.abs(_core._rfft(x) - want)) <= 1e-6
    neg = np.full(n, -0.0, np.float32)
    assert not np.any(_core._rfft(neg))


@pytest.mark.parametrize("n", [32, 64, 128, 256])
def test_vector_path_linear_and_exact_on_impulses(n: int) -> None:
    """The four-lane path (32 points up): every unit impulse gives the exact twiddle row (magnitude 1
    in every bin), so no lane or transpose slot is misplaced; and the transform is linear."""
    for at in range(n):
        x = np.zeros(n, np.float32)
        x[at] = 1.0
        got = _core._rfft(x)
        want = np.exp(-2j * np.pi * np.arange(n // 2 + 1) * at / n)
        assert np.max(np.abs(got - want)) < 1e-5, at
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    assert np.max(np.abs(_core._rfft(a + b) - _core._rfft(a) - _core._rfft(b))) < 1e-4 * np.sqrt(n)


def test_rejects_non_power_of_two() -> None:
    with pytest.raises(voicecore.ConfigError, match="power of two"):
        _core._rfft(np.zeros(160, np.float32))
