"""Target delay follows the network: quick rise on a spike, drain by time stretching, no ratchet."""

from __future__ import annotations

import numpy as np
from jitter_helpers import packetize, voiced

import voicecore

PKT = 960


def _run(delays: np.ndarray, seed: int = 0):
    """Constant 20 ms sending with the given one-way delays; per-get trace of the stats."""
    n = len(delays)
    x = voiced(n * PKT, seed=seed)
    pk = [(s, t, p, i * 20.0 + float(delays[i])) for i, (s, t, p) in enumerate(packetize(x, [PKT] * n))]
    pk.sort(key=lambda p: p[3])
    jb = voicecore.JitterBuffer()
    k = 0
    now = 0.0
    trace = []
    end = n * 20.0 + 200.0
    while now < end:
        while k < len(pk) and pk[k][3] <= now:
            jb.put(*pk[k])
            k += 1
        f = jb.get(now)
        st = jb.stats
        trace.append((now, f.kind, st.current_delay_ms, st.target_delay_ms))
        now += 10.0
    return jb, trace


def _stall(n: int, at_ms: float, stall_ms: float, base: float = 40.0, seed: int = 1) -> np.ndarray:
    """A link stall: packets whose arrival falls in the stall are held, then drain 1 per 2 ms."""
    rng = np.random.default_rng(seed)
    send = np.arange(n) * 20.0
    arr = send + base + np.abs(rng.normal(0, 2.0, n))
    free = -1e9
    for i in range(n):
        a = arr[i]
        if at_ms <= a < at_ms + stall_ms:
            a = at_ms + stall_ms
        if a >= at_ms:
            a = max(a, free + 2.0)
            free = a
        arr[i] = a
    return arr - send


def test_target_rises_at_once_and_drains_within_seconds_by_stretching() -> None:
    delays = _stall(500, at_ms=4000.0, stall_ms=400.0)
    jb, trace = _run(delays)
    before = np.mean([c for t, _, c, _ in trace if 3000 <= t < 3900])
    # rise: within two packets (40 ms) of the stall's end the target jumps by well over 100 ms
    # (the packets released together count as one event, so it does not climb the full 400 ms)
    tgt_before = max(g for t, _, _, g in trace if 3000 <= t < 3900)
    tgt_after = max(g for t, _, _, g in trace if 4400 <= t <= 4440)
    assert tgt_after > tgt_before + 120.0
    # drain: back within 20 ms of the pre-spike delay in under 3 s, through acceleration
    back = next(t for t, _, c, _ in trace if t > 4500 and c < before + 20.0)
    assert back - 4400 < 3000.0
    st = jb.stats
    assert st.accelerated_ms > 100.0
    # never by dropping packets: nothing late, nothing lost
    assert st.packets_late == 0
    assert st.packets_lost == 0


def test_no_ratchet_after_repeated_spikes() -> None:
    delays = _stall(1500, at_ms=5000.0, stall_ms=300.0)
    delays2 = _stall(1500, at_ms=15000.0, stall_ms=300.0, seed=2)
    delays = np.maximum(delays, delays2)
    jb, trace = _run(delays)
    base = np.mean([c for t, _, c, _ in trace if 3000 <= t < 4900])
    final = np.mean([c for t, _, c, _ in trace if 25000 <= t < 29000])
    assert final < base + 10.0
    assert jb.stats.packets_late == 0


def test_steady_jitter_keeps_late_loss_low_and_delay_near_quantile() -> None:
    rng = np.random.default_rng(7)
    delays = 30.0 + 6.0 * rng.pareto(2.5, 1500)  # Pareto jitter like the eval traces, another seed
    jb, trace = _run(delays)
    st = jb.stats
    assert st.packets_late / 1500 <= 0.015
    mean_cur = np.mean([c for t, _, c, _ in trace if t > 5000])
    p98 = np.percentile(delays, 98) - delays.min()
    assert mean_cur < p98 + 25.0
    # quality: at most 3 % of output is concealment (1.4 % late or lost is possible)
    assert st.concealed_ms / st.played_ms < 0.03
