"""Streaming behaviour: chunk invariance, exact output length, flush/reset, int16 rounding."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import resample_metrics as m

from voicecore import Resampler

CHUNKS = [1, 7, 160, 480, 4801]


def _signal(rate: int, seconds: float, channels: int, dtype: type, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = round(rate * seconds)
    x = 0.3 * rng.standard_normal((n, channels)) + 0.2 * np.sin(
        2 * np.pi * 440.0 * np.arange(n)[:, None] / rate + np.arange(channels)
    )
    if dtype == np.int16:
        x = np.clip(np.round(x * 32767), -32768, 32767)
    x = x.astype(dtype)
    return x[:, 0].copy() if channels == 1 else x


def _chunked(r: Resampler, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    out = []
    i = 0
    k = 0
    while i < len(x):
        n = sizes[k % len(sizes)]
        out.append(r.process(x[i : i + n]))
        i += n
        k += 1
    out.append(r.flush())
    return np.concatenate(out)


@pytest.mark.parametrize(
    ("in_rate", "out_rate", "quality"),
    [
        (48000, 16000, "high"),
        (16000, 48000, "high"),
        (44100, 16000, "very_high"),
        (22050, 48000, "quick"),
        (48000, 44101, "medium"),
        (16000, 44100, "very_high"),
        # 1:2 two-rows-by-four-windows kernel; half-band in front of a 320-phase table.
        (24000, 48000, "high"),
        (44100, 16000, "high"),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.int16])
@pytest.mark.parametrize("channels", [1, 2])
def test_chunk_invariance_is_bit_exact(
    in_rate: int, out_rate: int, quality: str, dtype: type, channels: int
) -> None:
    x = _signal(in_rate, 0.25, channels, dtype, seed=in_rate + channels)
    ref = m.run(Resampler(in_rate, out_rate, channels, quality), x)
    assert ref.dtype == dtype
    assert len(ref) == math.ceil(len(x) * out_rate / in_rate)
    for size in CHUNKS:
        got = _chunked(Resampler(in_rate, out_rate, channels, quality), x, [size])
        assert got.dtype == dtype
        assert got.shape == ref.shape
        assert got.tobytes() == ref.tobytes(), f"chunk size {size} differs"
    # Irregular chunking, reusing one instance after flush (flush resets the stream).
    r = Resampler(in_rate, out_rate, channels, quality)
    for seed in (1, 2):
        sizes = list(np.random.default_rng(seed).integers(0, 1500, size=64))
        assert _chunked(r, x, [int(s) for s in sizes]).tobytes() == ref.tobytes()


def test_stereo_channels_are_independent_and_match_mono() -> None:
    x = _signal(44100, 0.2, 2, np.float32, seed=3)
    both = m.run(Resampler(44100, 16000, 2), x)
    for c in range(2):
        mono = m.run(Resampler(44100, 16000, 1), np.ascontiguousarray(x[:, c]))
        np.testing.assert_array_equal(both[:, c], mono)


def _ready_outputs(r: Resampler, n_in: int) -> int:
    """Outputs whose whole input window has arrived after n_in frames (per stage)."""
    half_k = r.num_taps // 2
    if r.halfband_stage == "pre":
        # 2:1 half-band first: half-rate frame j needs input up to 2j + D.
        d = (r.halfband_taps - 1) // 2
        n_mid = max(0, (n_in - 1 - d) // 2 + 1)
        return max(0, math.ceil(Fraction(n_mid - half_k) * r.out_rate_hz / r.filter_rate_hz))
    if r.halfband_stage == "post":
        # 1:2 half-band last: output pair j needs half-rate frame j + Q.
        q = (r.halfband_taps + 1) // 4
        n_mid = max(0, math.ceil(Fraction(n_in - half_k) * (r.out_rate_hz // 2) / r.in_rate_hz))
        return 2 * max(0, n_mid - q)
    return max(0, math.ceil(Fraction(n_in - half_k) * r.out_rate_hz / r.in_rate_hz))


@pytest.mark.parametrize(
    ("in_rate", "out_rate"), [(8000, 11025), (44100, 16000), (48000, 8000), (16000, 44100), (8000, 48000)]
)
def test_exact_length_over_a_long_stream(in_rate: int, out_rate: int) -> None:
    # Lengths follow the integer phase arithmetic exactly after every call: no drift.
    r = Resampler(in_rate, out_rate, quality="quick")
    lat = r.latency_frames
    chunk = np.random.default_rng(0).standard_normal(in_rate * 7 + 3).astype(np.float32) * 0.1
    n_in = 0
    n_out = 0
    for _ in range(40):
        n_out += len(r.process(chunk))
        n_in += len(chunk)
        assert n_out == _ready_outputs(r, n_in)
        # Never more than the lookahead behind the ideal length.
        assert 0 <= n_in * out_rate / in_rate - n_out <= lat * out_rate / in_rate + 1
    n_out += len(r.flush())
    assert n_out == math.ceil(n_in * out_rate / in_rate)


def test_one_hour_stream_has_exact_length() -> None:
    # 1 hour at 8 kHz -> 11.025 kHz (L/M = 441/320) in 60 s chunks, "quick".
    in_rate, out_rate = 8000, 11025
    r = Resampler(in_rate, out_rate, quality="quick")
    chunk = (np.random.default_rng(1).standard_normal(in_rate * 60) * 0.1).astype(np.float32)
    n_out = sum(len(r.process(chunk)) for _ in range(60))
    n_out += len(r.flush())
    n_in = 60 * len(chunk)
    assert n_out == math.ceil(n_in * out_rate / in_rate) == 39_690_000


def test_flush_reset_and_empty_inputs() -> None:
    r = Resampler(48000, 16000, 2)
    empty = r.flush()
    assert empty.dtype == np.float32
    assert empty.shape == (0, 2)
    e16 = r.process(np.zeros((0, 2), np.int16))
    assert e16.dtype == np.int16
    assert e16.shape == (0, 2)
    x = _signal(48000, 0.05, 2, np.int16, seed=5)
    a = m.run(r, x)
    assert a.dtype == np.int16
    assert a.shape == (800, 2)
    # After flush the stream restarts from silence: the same input gives the same output.
    b = m.run(r, x)
    assert a.tobytes() == b.tobytes()
    # reset() mid-stream also forgets everything (and lets the dtype change).
    r.process(x[:100])
    r.reset()
    f = r.process(x.astype(np.float32))
    assert f.dtype == np.float32
    mono = Resampler(16000, 48000)
    assert mono.flush().shape == (0,)
    one = mono.process(np.ones(1, np.float32))
    assert one.shape == (0,)
    tail = mono.flush()
    assert tail.shape == (3,)
    assert tail.dtype == np.float32
    col = Resampler(16000, 48000).process(np.ones((500, 1), np.float32))
    assert col.ndim == 2
    assert col.shape[1] == 1


def test_int16_rounds_and_saturates_like_the_float_path() -> None:
    # A full-scale square wave overshoots (Gibbs) after filtering: int16 output must clip at
    # the rails, and otherwise equal the float path rounded half-to-even.
    n = 4800
    sq = np.where((np.arange(n) // 40) % 2 == 0, 32767, -32768).astype(np.int16)
    yi = m.run(Resampler(48000, 16000, quality="high"), sq)
    yf = m.run(Resampler(48000, 16000, quality="high"), sq.astype(np.float32))
    assert yf.max() > 32767.5
    assert yf.min() < -32768.5
    expect = np.clip(np.rint(yf.astype(np.float64)), -32768, 32767).astype(np.int16)
    np.testing.assert_array_equal(yi, expect)
    assert yi.max() == 32767
    assert yi.min() == -32768


def test_dc_and_silence() -> None:
    for quality in ("quick", "high", "very_high"):
        r = Resampler(44100, 16000, quality=quality)
        y = m.run(r, np.full(44100, 0.25, np.float32))
        skip = 200
        assert np.max(np.abs(y[skip:-skip] - 0.25)) < 1e-6
        assert not np.any(m.run(r, np.zeros(1000, np.float32)))


@pytest.mark.parametrize("quality", ["quick", "high", "very_high"])
@pytest.mark.parametrize(("in_rate", "out_rate"), [(44100, 16000), (16000, 48000), (22050, 48000)])
def test_baseline_isa_path(quality: str, in_rate: int, out_rate: int) -> None:
    # The portable kernels (what a CPU without AVX2+FMA runs) are chunk invariant too,
    # and agree with the dispatched path to float rounding.
    from voicecore import _core

    x = _signal(in_rate, 0.2, 2, np.float32, seed=11)
    ref_r = _core.Resampler(in_rate, out_rate, 2, quality, _allow_simd=False)
    assert ref_r.isa_path == "baseline"
    ref = m.run(ref_r, x)  # type: ignore[arg-type]
    for size in (1, 7, 480):
        base = _core.Resampler(in_rate, out_rate, 2, quality, _allow_simd=False)
        got = _chunked(base, x, [size])  # type: ignore[arg-type]
        assert got.tobytes() == ref.tobytes()
    fast = m.run(Resampler(in_rate, out_rate, 2, quality), x)
    assert np.max(np.abs(fast.astype(np.float64) - ref)) < 1e-5
    mono = _core.Resampler(in_rate, out_rate, 1, quality, _allow_simd=False)
    y = m.run(mono, m.tone(in_rate, 1000.0, 0.3).astype(np.float32))  # type: ignore[arg-type]
    amp, resid = m.fit_tone(m.steady(y, out_rate // 50), out_rate, 1000.0)
    limit = {"quick": -85.0, "high": -120.0, "very_high": -150.0}[quality]
    assert 10 * np.log10(np.mean(resid**2) / (amp * amp / 2)) <= limit
