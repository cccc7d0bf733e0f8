"""Resampler benchmarks, side by side with soxr, libsamplerate and scipy in one session.

For each rate pair (48k->16k, 16k->48k, 44.1k->16k, 24k->48k) and mode:

* ``batch``: 60 s of audio in one call (2 s in smoke mode, ``--benchmark-disable``);
* ``stream``: the same signal in 10 ms chunks, as a live pipeline feeds it (one fresh stream
  per round, built outside the timed region).

Every benchmark also checks its result: the output length, and the SNR of three in-band
tones (each fitted with its own amplitude and phase, so a peer's different delay does not
matter) against per-implementation floors a broken resampler would miss.
``python bench/eval_resample.py`` prints the same comparison as a table with ratios vs soxr HQ.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import samplerate
import scipy.signal
import soxr

from voicecore import Resampler

PAIRS = [(48000, 16000), (16000, 48000), (44100, 16000), (24000, 48000)]
TONES_HZ = (440.0, 1000.0, 3000.0)

# name -> minimum SNR (dB) of the in-band tones after resampling.
IMPLS = {
    "voicecore-quick": 80.0,
    "voicecore-medium": 110.0,
    "voicecore-high": 130.0,
    "voicecore-very_high": 145.0,
    "soxr-HQ": 125.0,
    "soxr-VHQ": 145.0,
    "samplerate-sinc_best": 140.0,
    "samplerate-sinc_medium": 115.0,
    "scipy-resample_poly": 60.0,
}
STREAMING = [name for name in IMPLS if not name.startswith("scipy")]


def _seconds(config: pytest.Config) -> float:
    return 2.0 if config.getoption("benchmark_disable") else 60.0


def _signal(rate: int, seconds: float) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    x = sum(0.2 * np.sin(2 * np.pi * f * t + i) for i, f in enumerate(TONES_HZ))
    return np.asarray(x, dtype=np.float32)


def tone_snr_db(y: np.ndarray, rate: int, skip: int) -> float:
    """SNR of the TONES_HZ mixture in y: least-squares fit of all tones, residual = noise."""
    yy = np.asarray(y[skip : len(y) - skip], dtype=np.float64)
    t = np.arange(len(yy)) / rate
    cols = [np.ones_like(t)]
    for f in TONES_HZ:
        cols += [np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)]
    basis = np.stack(cols, axis=1)
    coef, *_ = np.linalg.lstsq(basis, yy, rcond=None)
    fit = basis @ coef
    resid = yy - fit
    return 10 * math.log10(float(np.mean(fit**2)) / max(float(np.mean(resid**2)), 1e-30))


def batch_fn(name: str, in_rate: int, out_rate: int) -> Callable[[np.ndarray], np.ndarray]:
    family, _, variant = name.partition("-")
    g = math.gcd(in_rate, out_rate)
    if family == "voicecore":

        def run(x: np.ndarray) -> np.ndarray:
            r = Resampler(in_rate, out_rate, quality=variant)
            return np.concatenate([r.process(x), r.flush()])

        return run
    if family == "soxr":
        return lambda x: soxr.resample(x, in_rate, out_rate, quality=variant)
    if family == "samplerate":
        return lambda x: samplerate.resample(x, out_rate / in_rate, variant)
    return lambda x: scipy.signal.resample_poly(x, out_rate // g, in_rate // g)


def stream_factory(name: str, in_rate: int, out_rate: int) -> Callable[[], Callable[..., Any]]:
    """A function making a fresh stream: returns (process(chunk), finish())."""
    family, _, variant = name.partition("-")

    def make() -> Any:
        if family == "voicecore":
            r = Resampler(in_rate, out_rate, quality=variant)
            return r.process, r.flush
        if family == "soxr":
            s = soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality=variant)
            return s.resample_chunk, lambda: s.resample_chunk(np.zeros(0, np.float32), last=True)
        sr = samplerate.Resampler(variant, channels=1)
        ratio = out_rate / in_rate
        return (
            lambda c: sr.process(c, ratio, end_of_input=False),
            lambda: sr.process(np.zeros(0, np.float32), ratio, end_of_input=True),
        )

    return make


def _check(name: str, y: np.ndarray, n_in: int, in_rate: int, out_rate: int) -> None:
    expected = n_in * out_rate / in_rate
    if name.startswith("voicecore"):
        assert len(y) == math.ceil(expected)
    else:
        assert abs(len(y) - expected) <= 0.05 * out_rate  # peers: within 50 ms of the ideal
    snr = tone_snr_db(y, out_rate, skip=out_rate // 20)
    assert snr >= IMPLS[name], f"{name}: SNR {snr:.1f} dB"


@pytest.mark.parametrize("name", list(IMPLS))
@pytest.mark.parametrize(("in_rate", "out_rate"), PAIRS, ids=lambda v: str(v))
def test_batch(
    benchmark: Any, request: pytest.FixtureRequest, name: str, in_rate: int, out_rate: int
) -> None:
    benchmark.group = f"resample batch {in_rate}->{out_rate}"
    x = _signal(in_rate, _seconds(request.config))
    fn = batch_fn(name, in_rate, out_rate)
    rounds = 1 if "sinc_best" in name else 3
    y = benchmark.pedantic(fn, args=(x,), rounds=rounds, iterations=1, warmup_rounds=0)
    _check(name, np.asarray(y), len(x), in_rate, out_rate)


@pytest.mark.parametrize("name", STREAMING)
@pytest.mark.parametrize(("in_rate", "out_rate"), PAIRS, ids=lambda v: str(v))
def test_stream_10ms(
    benchmark: Any, request: pytest.FixtureRequest, name: str, in_rate: int, out_rate: int
) -> None:
    benchmark.group = f"resample stream-10ms {in_rate}->{out_rate}"
    seconds = min(_seconds(request.config), 5.0)
    x = _signal(in_rate, seconds)
    hop = in_rate // 100
    chunks = [x[i : i + hop] for i in range(0, len(x), hop)]
    make = stream_factory(name, in_rate, out_rate)

    def run(process: Callable[[np.ndarray], np.ndarray], finish: Callable[[], np.ndarray]) -> list[Any]:
        out = [process(c) for c in chunks]
        out.append(finish())
        return out

    rounds = 1 if "sinc_best" in name else 5
    out = benchmark.pedantic(run, setup=lambda: (make(), {}), rounds=rounds, iterations=1)
    _check(name, np.concatenate(out), len(x), in_rate, out_rate)
