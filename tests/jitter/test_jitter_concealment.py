"""Concealment quality: pitch repetition beats silence on voiced audio, merges without clicks."""

from __future__ import annotations

import numpy as np
from jitter_helpers import RATE, packetize, play, voiced

import voicecore

PKT = 960


def _with_losses(lost: set[int], n: int = 150, f0: float = 140.0):
    x = voiced(n * PKT, f0=f0)
    pk = [(s, t, p, i * 20.0 + 40.0) for i, (s, t, p) in enumerate(packetize(x, [PKT] * n)) if i not in lost]
    jb = voicecore.JitterBuffer()
    out, kinds, stamps, _ = play(jb, pk, until_ms=n * 20.0 + 20.0)
    return x, out, kinds, stamps, jb


def _segment_snr(x, out, stamps, kinds) -> float:
    """SNR of the expand frames against the original near their media position.

    Concealment may play a loss slightly shorter or longer than the packet (the playout point
    moves through holes at the rate the target delay allows), so each frame is compared at the
    best shift within +-5 ms. Silence in their place scores 0 dB at any shift.
    """
    frame = RATE // 100
    shift = RATE // 200
    sig = err = 0.0
    for i, (ts, k) in enumerate(zip(stamps, kinds, strict=False)):
        if k != "expand" or ts < shift or ts + frame + shift > len(x):
            continue
        y = out[i * frame : (i + 1) * frame].astype(np.float64)
        best = None
        for d in range(-shift, shift + 1, 4):
            r = x[ts + d : ts + d + frame].astype(np.float64)
            e = float(np.sum((y - r) ** 2))
            if best is None or e < best[1]:
                best = (float(np.sum(r * r)), e)
        assert best is not None
        sig += best[0]
        err += best[1]
    return 10 * np.log10(sig / err)


def test_single_losses_are_concealed_far_better_than_silence() -> None:
    lost = set(range(20, 140, 12))
    x, out, kinds, stamps, jb = _with_losses(lost)
    assert jb.stats.packets_lost == len(lost)
    snr = _segment_snr(x, out, stamps, kinds)
    assert snr > 6.0, snr  # silence would score 0 dB


def test_resume_after_concealment_has_no_click() -> None:
    lost = set(range(30, 140, 15))
    x, out, kinds, _, _ = _with_losses(lost)
    # the largest sample-to-sample step in the output stays near the signal's own
    d_out = np.max(np.abs(np.diff(out)))
    d_ref = np.max(np.abs(np.diff(x)))
    assert d_out < 1.5 * d_ref


def test_long_gap_fades_to_comfort_noise_not_a_buzz() -> None:
    n = 150
    rng = np.random.default_rng(5)
    x = voiced(n * PKT)
    x[20 * PKT : 35 * PKT] = rng.normal(0, 0.003, 15 * PKT).astype(np.float32)  # a pause: background
    pk = [
        (s, t, p, i * 20.0 + 40.0) for i, (s, t, p) in enumerate(packetize(x, [PKT] * n)) if not 60 <= i < 80
    ]  # then a 400 ms loss burst in voiced audio
    jb = voicecore.JitterBuffer()
    out, kinds, stamps, _ = play(jb, pk, until_ms=n * 20.0 + 20.0)
    frame = RATE // 100
    idx = [
        i
        for i, (k, ts) in enumerate(zip(kinds, stamps, strict=False))
        if k in ("expand", "comfort_noise") and ts >= 55 * PKT
    ]
    assert len(idx) >= 35
    start_rms = np.sqrt(np.mean(out[idx[0] * frame : (idx[0] + 2) * frame] ** 2))
    # the last concealed frame crossfades into the resumed audio: look just before it
    late_rms = np.sqrt(np.mean(out[idx[-6] * frame : idx[-1] * frame] ** 2))
    ref_rms = np.sqrt(np.mean(x[60 * PKT : 80 * PKT] ** 2))
    assert start_rms > 0.3 * ref_rms  # continues the voice at first
    assert late_rms < 0.1 * ref_rms  # then fades to the background level (0.003 RMS)
    assert late_rms > 0.0005  # comfort noise, not digital silence
