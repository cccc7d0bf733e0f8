"""Arrays that came through pickle (multiprocessing, a queue between processes) carry a dtype object
equal to numpy's but not the same object; every kernel must take them like any other array."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import voicecore


def _unpickled(x: np.ndarray) -> np.ndarray:
    y = pickle.loads(pickle.dumps(x))
    assert isinstance(y, np.ndarray)
    return y


@pytest.mark.parametrize("dtype", [np.float32, np.int16])
def test_echo_canceller_takes_unpickled_frames(dtype: type) -> None:
    rng = np.random.default_rng(3)
    frame = (rng.standard_normal(160) * (0.1 if dtype is np.float32 else 3000)).astype(dtype)
    frame = _unpickled(frame)
    assert frame.dtype is not np.dtype(dtype)  # the case this test is about
    ec = voicecore.EchoCanceller()
    ec.push_far(frame)
    out = ec.process_near(frame)
    assert out.dtype == np.dtype(dtype)
    assert out.shape == (160,)
    assert np.all(np.isfinite(out.astype(np.float64)))


@pytest.mark.parametrize("dtype", [np.float32, np.int16])
def test_resampler_takes_unpickled_chunks(dtype: type) -> None:
    x = _unpickled((np.ones(480) * (0.1 if dtype is np.float32 else 3000)).astype(dtype))
    y = voicecore.Resampler(48000, 16000).process(x)
    assert y.dtype == np.dtype(dtype)
    assert 0 < len(y) <= 160


def test_frame_vad_takes_unpickled_frames() -> None:
    x = _unpickled(np.zeros(160, np.float32))
    p = voicecore.FrameVad(16000, 10).process(x)
    assert 0.0 <= p <= 1.0
