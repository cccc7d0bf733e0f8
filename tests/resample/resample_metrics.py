"""Measurement helpers for the resampler tests, benchmarks and bench/eval_resample.py.

Everything is measured through the real streaming kernel on synthetic, seeded signals:

* gain and THD+N come from a least-squares fit of the known tone (sin, cos and DC) to the
  output after skipping the start-up and flush transients; the residual (all that is not the
  tone: noise, distortion, aliases, images) over the fitted tone power is THD+N;
* alias rejection is the output power of a tone above the output Nyquist over the power of
  the input tone (it should vanish: anything left is alias);
* passband edge and stopband attenuation come from the dense frequency response of the
  continuous prototype the kernel samples its tables from (``Resampler._prototype``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from voicecore import Resampler


def tone(
    rate_hz: int, freq_hz: float, seconds: float, amplitude: float = 0.5, phase: float = 0.3
) -> NDArray[np.float64]:
    t = np.arange(round(rate_hz * seconds)) / rate_hz
    return amplitude * np.sin(2 * np.pi * freq_hz * t + phase)


def run(r: Resampler, x: NDArray[np.generic]) -> NDArray[np.generic]:
    """One process() + flush() (the full, aligned output)."""
    return np.concatenate([r.process(x), r.flush()])


def fit_tone(y: NDArray[np.generic], rate_hz: int, freq_hz: float) -> tuple[float, NDArray[np.float64]]:
    """Amplitude of the tone at freq_hz in y, and the residual once tone and DC are removed."""
    yy = np.asarray(y, dtype=np.float64)
    t = np.arange(len(yy)) / rate_hz
    basis = np.stack(
        [np.sin(2 * np.pi * freq_hz * t), np.cos(2 * np.pi * freq_hz * t), np.ones_like(t)], axis=1
    )
    coef, *_ = np.linalg.lstsq(basis, yy, rcond=None)
    resid = yy - basis @ coef
    return float(math.hypot(coef[0], coef[1])), resid


def steady(y: NDArray[np.generic], skip: int) -> NDArray[np.generic]:
    return y[skip : len(y) - skip]


def _db(power_ratio: float) -> float:
    return 10 * math.log10(max(power_ratio, 1e-30))


def thd_n_db(
    in_rate: int,
    out_rate: int,
    quality: str,
    freq_hz: float = 1000.0,
    amplitude: float = 0.5,
    seconds: float = 0.5,
    dtype: type = np.float32,
) -> float:
    r = Resampler(in_rate, out_rate, quality=quality)
    scale = 32767.0 if dtype == np.int16 else 1.0
    x = (
        np.round(tone(in_rate, freq_hz, seconds, amplitude) * scale)
        if scale != 1.0
        else tone(in_rate, freq_hz, seconds, amplitude)
    )
    y = run(r, x.astype(dtype))
    skip = 2 * r.num_taps * out_rate // in_rate + 64
    amp, resid = fit_tone(steady(y, skip), out_rate, freq_hz)
    return _db(float(np.mean(steady(resid, 0) ** 2)) / (amp * amp / 2))


def gain_db(in_rate: int, out_rate: int, quality: str, freq_hz: float, seconds: float = 0.25) -> float:
    r = Resampler(in_rate, out_rate, quality=quality)
    amplitude = 0.5
    y = run(r, tone(in_rate, freq_hz, seconds, amplitude).astype(np.float32))
    skip = 2 * r.num_taps * out_rate // in_rate + 64
    amp, _ = fit_tone(steady(y, skip), out_rate, freq_hz)
    return 20 * math.log10(amp / amplitude)


def alias_rejection_db(
    in_rate: int, out_rate: int, quality: str, freq_hz: float, seconds: float = 0.25
) -> float:
    """Output power of an input tone at freq_hz > out_rate / 2, relative to the tone (dB)."""
    r = Resampler(in_rate, out_rate, quality=quality)
    amplitude = 0.5
    y = run(r, tone(in_rate, freq_hz, seconds, amplitude).astype(np.float32))
    skip = 2 * r.num_taps * out_rate // in_rate + 64
    ys = np.asarray(steady(y, skip), dtype=np.float64)
    return _db(float(np.mean(ys**2)) / (amplitude * amplitude / 2))


def prototype_response(r: Resampler) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(frequency in Hz up to 2x the lower Nyquist, gain in dB) of the filter prototype."""
    nyq_low = min(r.in_rate_hz, r.out_rate_hz) / 2
    half = r.num_taps / 2
    # 16 points per input sample: the spectrum repeats every 16 x in_rate, far above the
    # range read here, and the prototype is below -170 dB long before that.
    os = 16
    t = np.arange(-half * os, half * os + 1, dtype=np.float64) / os
    g = r._prototype(t)
    n_fft = 1 << 21
    spec = np.abs(np.fft.rfft(g, n_fft))
    # The polyphase stage runs at filter_rate_hz (in_rate_hz / 2 behind the half-band).
    freqs = np.arange(len(spec)) * (r.filter_rate_hz * os / n_fft)
    keep = freqs <= 2 * nyq_low
    return freqs[keep], 20 * np.log10(np.maximum(spec[keep] / spec[0], 1e-30))


def passband_edge(r: Resampler, tol_db: float = 0.01) -> float:
    """Highest frequency (fraction of the lower Nyquist) up to which |gain| stays within tol_db."""
    freqs, db = prototype_response(r)
    nyq_low = min(r.in_rate_hz, r.out_rate_hz) / 2
    bad = np.nonzero(np.abs(db) > tol_db)[0]
    edge = freqs[bad[0] - 1] if len(bad) else freqs[-1]
    return float(edge / nyq_low)


def stopband_attenuation_db(r: Resampler) -> float:
    """Worst (highest) prototype gain at or above the lower Nyquist, as a positive dB figure."""
    freqs, db = prototype_response(r)
    nyq_low = min(r.in_rate_hz, r.out_rate_hz) / 2
    return float(-np.max(db[freqs >= nyq_low]))
