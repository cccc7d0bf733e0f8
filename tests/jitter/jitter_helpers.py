"""Helpers for the jitter tests: synthetic packet streams driven on a simulated clock."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

import voicecore
from voicecore.dsp.jitter import l16_payload

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

RATE = 48000


def voiced(n: int, f0: float = 140.0, seed: int = 0) -> Any:
    """A pitch-periodic, speech-like test signal (harmonics with a slow vibrato), float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.01 * np.sin(2 * np.pi * 3 * t))) / RATE
    x = sum((0.3 / k) * np.sin(k * phase + rng.uniform(0, 6.28)) for k in range(1, 8))
    return (0.5 * x).astype(np.float32)


def play(
    jb: voicecore.JitterBuffer,
    packets: Iterable[tuple[int, int, bytes, float]],
    until_ms: float,
    step_ms: float = 10.0,
) -> tuple[Any, list[str], list[int], list[float]]:
    """Puts each (seq, ts, payload, arrival_ms) at its arrival time and gets every 10 ms.

    Returns (audio from the first non-silence frame, kinds, frame timestamps, frame times).
    """
    pk = sorted(packets, key=lambda p: p[3])
    out: list[Any] = []
    kinds: list[str] = []
    stamps: list[int] = []
    times: list[float] = []
    k = 0
    now = 0.0
    while now <= until_ms:
        while k < len(pk) and pk[k][3] <= now:
            jb.put(pk[k][0], pk[k][1], pk[k][2], pk[k][3])
            k += 1
        f = jb.get(now)
        if f.kind != "silence" or out:
            out.append(f.samples)
            kinds.append(f.kind)
            stamps.append(f.timestamp)
            times.append(now)
        now += step_ms
    audio = np.concatenate(out) if out else np.zeros(0, np.float32)
    return audio, kinds, stamps, times


def packetize(x: Any, sizes: Iterable[int], seq0: int = 0, ts0: int = 0) -> list[tuple[int, int, bytes]]:
    """Cuts x into L16 packets of the given sizes (samples): (seq, ts, payload)."""
    out = []
    pos = 0
    for i, n in enumerate(sizes):
        out.append(((seq0 + i) % 65536, (ts0 + pos) % 2**32, l16_payload(x[pos : pos + n])))
        pos += n
    return out


def aligned_snr_db(
    ref: Any, out: Any, stamps: list[int], ts0: int, kinds: list[str], only: tuple[str, ...] = ("normal",)
) -> float:
    """SNR of output frames of the given kinds against ref at their media position."""
    frame = RATE // 100
    sig = err = 0.0
    for i, (ts, kind) in enumerate(zip(stamps, kinds, strict=False)):
        if kind not in only:
            continue
        pos = (ts - ts0) % 2**32
        if pos + frame > len(ref):
            continue
        r = ref[pos : pos + frame]
        y = out[i * frame : (i + 1) * frame]
        sig += float(np.sum(r.astype(np.float64) ** 2))
        err += float(np.sum((y - r).astype(np.float64) ** 2))
    return 10 * np.log10(sig / max(err, 1e-20))
