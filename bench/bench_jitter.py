"""Cost of the jitter buffer per 10 ms get(), side by side with aiortc's JitterBuffer.

pytest-benchmark: ``pytest bench/bench_jitter.py --benchmark-only`` (group "jitter"); each body
replays 2 s of a Pareto-jitter trace (100 packets of 20 ms L16 at 48 kHz). Units of work:

* ours-get: the 200 get() calls of those 2 s (packets put beforehand at their arrival times,
  interleaved exactly as a receiver would): the playout work per 10 ms;
* ours-put+get: the whole receive side (100 put + 200 get);
* aiortc-add: aiortc's add() for the same 100 packets (it has no playout side: frames go to its
  decoder thread and an unbounded queue).

``python bench/bench_jitter.py`` prints per-call costs and ratios measured in one run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jitter_sim as js  # noqa: E402
import voicecore  # noqa: E402
from voicecore.dsp.jitter import l16_payload  # noqa: E402

SECONDS = 2.0


def _workload() -> tuple[list[tuple[int, int, bytes, float]], list[float]]:
    tr = js.generate_trace("pareto_jitter", seed=77, duration_s=SECONDS)
    rng = np.random.default_rng(1)
    x = (0.1 * rng.standard_normal(int(SECONDS * 48000))).astype(np.float32)
    pk = []
    for i in range(tr.n):
        if tr.lost[i]:
            continue
        pk.append((i, i * 960, l16_payload(x[i * 960 : (i + 1) * 960]), float(tr.arrival_ms[i])))
    pk.sort(key=lambda p: p[3])
    ticks = [t * 10.0 for t in range(int(SECONDS * 100) + 10)]
    return pk, ticks


PACKETS, TICKS = _workload()


def _schedule() -> list[tuple[float, int]]:
    """(tick, number of packets to put before it) in arrival order."""
    out, k = [], 0
    for now in TICKS:
        start = k
        while k < len(PACKETS) and PACKETS[k][3] <= now:
            k += 1
        out.append((now, k - start))
    return out


SCHEDULE = _schedule()


def ours_receive(core: bool = False) -> list[str]:
    """put + get for the whole workload; returns the frame kinds."""
    jb: Any = voicecore.JitterBuffer()._impl if core else voicecore.JitterBuffer()
    kinds = []
    k = 0
    for now, n in SCHEDULE:
        for _ in range(n):
            p = PACKETS[k]
            jb.put(p[0], p[1], p[2], p[3])
            k += 1
        f = jb.get(now)
        kinds.append(f[0] if core else f.kind)
    return kinds


class _GetOnly:
    """Times only the get() calls: puts happen in between, untimed."""

    def __init__(self, core: bool) -> None:
        self.core = core

    def run(self) -> tuple[float, list[Any]]:
        jb: Any = voicecore.JitterBuffer()._impl if self.core else voicecore.JitterBuffer()
        spent = 0.0
        kinds = []
        k = 0
        for now, n in SCHEDULE:
            for _ in range(n):
                p = PACKETS[k]
                jb.put(p[0], p[1], p[2], p[3])
                k += 1
            t = time.perf_counter()
            f = jb.get(now)
            spent += time.perf_counter() - t
            kinds.append(f[0] if self.core else f.kind)
        return spent, kinds


def aiortc_receive() -> int:
    from aiortc.jitterbuffer import JitterBuffer
    from aiortc.rtp import RtpPacket

    jb = JitterBuffer(capacity=16, prefetch=4)
    frames = 0
    for seq, ts, payload, _ in PACKETS:
        pkt = RtpPacket(payload_type=96, sequence_number=seq, timestamp=ts, payload=payload)
        pkt._data = payload  # type: ignore[attr-defined]  # set by RTCRtpReceiver before add()
        _, frame = jb.add(pkt)
        frames += frame is not None
    return frames


@pytest.mark.benchmark(group="jitter")
def test_bench_ours_put_and_get(benchmark: Any) -> None:
    kinds = benchmark(ours_receive)
    assert (
        kinds.count("normal") + kinds.count("accelerate") + kinds.count("decelerate") > 0.8 * len(kinds) - 10
    )


@pytest.mark.benchmark(group="jitter")
def test_bench_ours_core_put_and_get(benchmark: Any) -> None:
    kinds = benchmark(ours_receive, True)
    assert kinds.count(0) > 0.7 * len(kinds)


@pytest.mark.benchmark(group="jitter")
def test_bench_aiortc_add(benchmark: Any) -> None:
    frames = benchmark(aiortc_receive)
    assert frames > 0.8 * len(PACKETS) - 16


def main() -> None:
    reps = 15

    def best(fn: Any) -> float:
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    n_get, n_pkt = len(SCHEDULE), len(PACKETS)
    get_py = min(_GetOnly(False).run()[0] for _ in range(reps)) / n_get * 1e6
    get_core = min(_GetOnly(True).run()[0] for _ in range(reps)) / n_get * 1e6
    ours = best(ours_receive) * 1e6
    ours_core = best(lambda: ours_receive(True)) * 1e6
    ai = best(aiortc_receive) * 1e6
    per20_ours = ours / n_pkt
    per20_core = ours_core / n_pkt
    per20_ai = ai / n_pkt
    print(
        f"workload: {n_pkt} packets, {n_get} get() calls "
        f"({SECONDS:.0f} s of 20 ms L16 at 48 kHz), best of {reps}"
    )
    print("| measure | voicecore | aiortc | ratio (voicecore / aiortc) |")
    print("|---|---|---|---|")
    print(f"| get() per 10 ms, Python API (JitterFrame) | {get_py:.2f} us | (no playout side) | - |")
    print(f"| get() per 10 ms, _core binding | {get_core:.2f} us | (no playout side) | - |")
    print(
        f"| receive work per 20 ms packet (put + 2 get vs add) | {per20_ours:.2f} us | {per20_ai:.2f} us |"
        f" {per20_ours / per20_ai:.2f} |"
    )
    print(f"| same through _core | {per20_core:.2f} us | {per20_ai:.2f} us | {per20_core / per20_ai:.2f} |")


if __name__ == "__main__":
    main()
