"""Barge-in: the agent speaks, the user interrupts, the agent stops, the next reply must be cancelled.

Regression for the agent interrupting itself: while the far end was silent after a barge-in, the
near talker's speech dragged the delay estimate to the end of its search range, the converged filter
was shifted out of its window, and the start of the next reply leaked through for about a second.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aec_cases import FRAME, pools  # noqa: E402

from voicecore.dsp.aec import EchoCanceller  # noqa: E402
from voicecore.dsp.aec_eval import exp_decay_rir  # noqa: E402

FS = 16000
RESUME_S = 6.5  # next agent reply; the user talked 4.0-5.5 s, the agent stopped at 4.3 s


def _speech(rng: np.random.Generator, pool: list[np.ndarray], n: int) -> np.ndarray:
    out = np.zeros(0)
    while len(out) < n:
        x = pool[int(rng.integers(len(pool)))]
        out = np.concatenate([out, x / (np.max(np.abs(x)) + 1e-9), np.zeros(int(0.1 * FS))])
    return out[:n]


def _scenario(eval_dir: Path, seed: int) -> tuple[np.ndarray, ...]:
    far_pool, near_pool = pools(eval_dir)
    rng = np.random.default_rng([seed, 99])
    n = 8 * FS
    far = np.zeros(n)
    far[FS // 2 :] = _speech(rng, far_pool, n - FS // 2) * 0.3
    far[int(4.3 * FS) : int(RESUME_S * FS)] = 0.0
    h = exp_decay_rir(rng, FS, 0.3)
    echo = np.concatenate([np.zeros(60 * FS // 1000), np.convolve(far, h)[:n]])[:n]
    echo *= 10 ** (-30 / 20) / np.sqrt(np.mean(echo[np.abs(echo) > 1e-5] ** 2))
    dry = np.zeros(n)
    dry[4 * FS : int(5.5 * FS)] = _speech(rng, near_pool, int(1.5 * FS))
    near = np.convolve(dry, exp_decay_rir(rng, FS, 0.3, direct_gain=0.5))[:n]
    near *= np.sqrt(np.mean(echo[np.abs(echo) > 1e-5] ** 2) / np.mean(near[np.abs(near) > 1e-5] ** 2))
    mic = echo + near + rng.standard_normal(n) * 1e-4
    return far, mic, echo, near


def _frames(x: np.ndarray) -> np.ndarray:
    return np.asarray((x[: len(x) // FRAME * FRAME].reshape(-1, FRAME) ** 2).mean(1))


def _erle(
    mic: np.ndarray, out: np.ndarray, echo: np.ndarray, near: np.ndarray, t0: float, t1: float
) -> float:
    """Mic / output power over the window's frames where the echo is within 30 dB of its loud level and
    the near end (with its reverb) is 30 dB below the echo."""
    a, b = int(t0 * FS / FRAME), int(t1 * FS / FRAME)
    pe_all = _frames(echo)
    ref = float(np.percentile(pe_all[pe_all > 0], 95))
    pe, pn, pm, po = pe_all[a:b], _frames(near)[a:b], _frames(mic)[a:b], _frames(out)[a:b]
    sel = (pe > 1e-3 * ref) & (pn < 1e-3 * pe)
    assert sel.sum() >= 3, "scenario has no echo-only frames in the window"
    return float(10 * np.log10(pm[sel].sum() / po[sel].sum()))


def _reply_onset(echo: np.ndarray) -> float:
    """First frame of the next reply's echo within 20 dB of the echo's loud level."""
    pe = _frames(echo)
    ref = float(np.percentile(pe[pe > 0], 95))
    k = int(RESUME_S * FS / FRAME)
    return (k + int(np.argmax(pe[k:] > 1e-2 * ref))) * FRAME / FS


@pytest.mark.parametrize("seed", [1, 3, 6])
def test_next_reply_cancelled_after_barge_in(eval_dir: Path, seed: int) -> None:
    far, mic, echo, near = _scenario(eval_dir, seed)
    ec = EchoCanceller(FS, 10, 500, 250)
    out = np.zeros(len(mic), np.float32)
    f32, m32 = far.astype(np.float32), mic.astype(np.float32)
    delays = []
    for i in range(0, len(mic), FRAME):
        ec.push_far(f32[i : i + FRAME])
        out[i : i + FRAME] = ec.process_near(m32[i : i + FRAME])
        delays.append(ec.stats["delay_ms"])
    lat = ec.latency_samples
    res = np.concatenate([out[lat:], np.zeros(lat)]).astype(np.float64)
    before = _erle(mic, res, echo, near, 2.0, 4.0)
    t_on = _reply_onset(echo)
    first = _erle(mic, res, echo, near, t_on, t_on + 0.3)
    later = _erle(mic, res, echo, near, t_on + 0.3, t_on + 1.3)
    # The estimate stays at the echo path (60 ms + propagation) through the barge-in and the pause.
    jumps = max(delays[int(4.0 * FS / FRAME) : int(RESUME_S * FS / FRAME)]) - min(
        d for d in delays[int(2.0 * FS / FRAME) : int(4.0 * FS / FRAME)]
    )
    assert jumps <= 20.0, f"delay estimate moved by {jumps:.0f} ms while the agent was silent"
    assert before >= 20.0, f"single-talk ERLE before the barge-in {before:.1f} dB"
    assert first >= 20.0, f"ERLE in the first 300 ms of the next reply {first:.1f} dB (needs >= 20)"
    assert later >= 25.0, f"ERLE 0.3-1.3 s into the next reply {later:.1f} dB (needs >= 25)"
