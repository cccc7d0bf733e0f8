"""Whisper's log-mel front end in numpy (written for voicecore from the published recipe).

Recipe (Whisper / the transformers feature extractor that Smart Turn was trained with): 16 kHz input,
optional zero-mean unit-variance normalisation of the whole window, centred 400-point periodic-Hann
STFT with reflect padding and hop 160, power spectrum, 80 Slaney-normalised mel filters over
0-8 kHz, ``log10(max(x, 1e-10))``, clamp to ``max - 8``, then ``(x + 4) / 4``. The last STFT frame
is dropped, so 8 s gives exactly 800 frames.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

__all__ = ["mel_filterbank", "whisper_log_mel"]

N_FFT = 400
HOP = 160
SAMPLE_RATE_HZ = 16000


def _hz_to_mel(f: NDArray[np.float64]) -> NDArray[np.float64]:
    # Slaney scale: linear below 1 kHz, logarithmic above.
    f_sp = 200.0 / 3.0
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-12) / min_log_hz) / logstep, mels)


def _mel_to_hz(m: NDArray[np.float64]) -> NDArray[np.float64]:
    f_sp = 200.0 / 3.0
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


@lru_cache(maxsize=4)
def mel_filterbank(
    num_mels: int = 80, n_fft: int = N_FFT, sample_rate_hz: int = SAMPLE_RATE_HZ
) -> NDArray[np.float64]:
    """``[num_mels, n_fft // 2 + 1]`` triangular filters with Slaney area normalisation."""
    fft_hz = np.linspace(0.0, sample_rate_hz / 2.0, n_fft // 2 + 1)
    mel_pts = np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(sample_rate_hz / 2.0)), num_mels + 2)
    hz_pts = _mel_to_hz(mel_pts)
    weights = np.zeros((num_mels, fft_hz.size))
    for i in range(num_mels):
        lo, centre, hi = hz_pts[i], hz_pts[i + 1], hz_pts[i + 2]
        rising = (fft_hz - lo) / (centre - lo)
        falling = (hi - fft_hz) / (hi - centre)
        weights[i] = np.maximum(0.0, np.minimum(rising, falling))
        weights[i] *= 2.0 / (hi - lo)
    return weights


def whisper_log_mel(
    audio: NDArray[np.float32], *, num_frames: int | None = None, normalize: bool = True
) -> NDArray[np.float32]:
    """Log-mel features ``[80, n]`` of 16 kHz mono ``audio`` (``n = len(audio) // 160``)."""
    x = np.asarray(audio, dtype=np.float32)
    if normalize:
        x = ((x - x.mean()) / np.sqrt(x.var() + 1e-7)).astype(np.float32)
    pad = N_FFT // 2
    padded = np.pad(x.astype(np.float64), (pad, pad), mode="reflect")
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    n = 1 + (padded.size - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    spec = np.fft.rfft(padded[idx] * window, axis=-1)
    power = (spec.real**2 + spec.imag**2)[:-1]  # drop the last frame, as Whisper does
    mel = mel_filterbank() @ power.T
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    out: NDArray[np.float32] = ((log_spec + 4.0) / 4.0).astype(np.float32)
    if num_frames is not None:
        out = out[:, :num_frames]
    return out
