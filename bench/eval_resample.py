"""Print the resampler's measured quality and speed tables (a report, not a test).

    python bench/eval_resample.py [--seconds 20] [--reps 5] [--skip-timing]

Quality (per preset): 0.01 dB passband edge and stopband attenuation of the filter actually
built, THD+N of a 1 kHz sine at -6 dBFS (worst over the voice rate pairs), alias rejection of
tones above the output Nyquist (worst of 9 kHz at 48k->16k and 44.1k->16k, 10 kHz at
22.05k->16k), latency. soxr HQ/VHQ and libsamplerate go through the same THD+N/alias
measurement for reference.

Speed: per rate pair, batch (``--seconds`` of audio in one call) and streamed 10 ms chunks
(microseconds per chunk), every implementation measured interleaved in the same loop and
the best of ``--reps`` kept; ratios are soxr HQ time / implementation time (> 1 = faster
than soxr HQ).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "resample"))
sys.path.insert(0, str(ROOT / "bench"))

import resample_metrics as m  # noqa: E402

import bench_resample as br  # noqa: E402
from voicecore import Resampler  # noqa: E402

PRESETS = ["quick", "medium", "high", "very_high"]
THD_PAIRS = [(48000, 16000), (16000, 48000), (44100, 16000), (44100, 48000), (22050, 16000), (24000, 48000)]
ALIAS_CASES = [(48000, 16000, 9000.0), (44100, 16000, 9000.0), (22050, 16000, 10000.0)]


def _peer_fn(name: str, in_rate: int, out_rate: int) -> Callable[[np.ndarray], np.ndarray]:
    return br.batch_fn(name, in_rate, out_rate)


def _thd_fn(fn: Callable[[np.ndarray], np.ndarray], in_rate: int, out_rate: int) -> float:
    x = m.tone(in_rate, 1000.0, 0.5).astype(np.float32)
    y = np.asarray(fn(x))
    skip = out_rate // 20
    amp, resid = m.fit_tone(m.steady(y, skip), out_rate, 1000.0)
    return 10 * math.log10(max(float(np.mean(resid**2)), 1e-30) / (amp * amp / 2))


def _alias_fn(fn: Callable[[np.ndarray], np.ndarray], in_rate: int, out_rate: int, f: float) -> float:
    x = m.tone(in_rate, f, 0.5).astype(np.float32)
    y = np.asarray(fn(x), dtype=np.float64)
    skip = out_rate // 20
    return 10 * math.log10(max(float(np.mean(m.steady(y, skip) ** 2)), 1e-30) / (0.5 * 0.5 / 2))


def quality_row(preset: str) -> dict[str, float]:
    r16 = Resampler(48000, 16000, quality=preset)
    edges = [m.passband_edge(Resampler(a, b, quality=preset)) for a, b in THD_PAIRS]
    stops = [m.stopband_attenuation_db(Resampler(a, b, quality=preset)) for a, b in THD_PAIRS]
    thd = max(m.thd_n_db(a, b, preset, seconds=0.5) for a, b in THD_PAIRS)
    alias = max(m.alias_rejection_db(a, b, preset, f) for a, b, f in ALIAS_CASES)
    return {
        "passband_edge": min(edges),
        "stopband_db": min(stops),
        "thd_n_db": thd,
        "alias_db": alias,
        "latency_ms_16k": r16.latency_ms,
        "latency_ms_8k": Resampler(16000, 8000, quality=preset).latency_ms,
        "latency_ms_44k_48k": Resampler(44100, 48000, quality=preset).latency_ms,
    }


def print_quality() -> None:
    print("## Quality (measured; edges as fraction of the lower Nyquist)\n")
    print(
        "| preset | 0.01 dB passband edge | stopband atten. | THD+N 1 kHz (worst pair) | "
        "alias rejection (worst) | latency 48k->16k | latency 16k->8k | latency 44.1k->48k |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for preset in PRESETS:
        q = quality_row(preset)
        print(
            f"| {preset} | {q['passband_edge']:.4f} | {q['stopband_db']:.1f} dB | "
            f"{q['thd_n_db']:.1f} dB | {q['alias_db']:.1f} dB | {q['latency_ms_16k']:.2f} ms | "
            f"{q['latency_ms_8k']:.2f} ms | {q['latency_ms_44k_48k']:.2f} ms |"
        )
    print("\nPeers through the same THD+N / alias measurement:\n")
    print("| implementation | THD+N 1 kHz (worst pair) | alias rejection (worst) |")
    print("|---|---|---|")
    for name in [
        "soxr-HQ",
        "soxr-VHQ",
        "samplerate-sinc_best",
        "samplerate-sinc_medium",
        "scipy-resample_poly",
    ]:
        thd = max(_thd_fn(_peer_fn(name, a, b), a, b) for a, b in THD_PAIRS)
        alias = max(_alias_fn(_peer_fn(name, a, b), a, b, f) for a, b, f in ALIAS_CASES)
        print(f"| {name} | {thd:.1f} dB | {alias:.1f} dB |")
    print()


# Wall clock by default; --clock cpu uses this thread's CPU time, which a busy shared machine
# disturbs far less (every implementation here is single-threaded).
CLOCK = time.perf_counter


def _time_batch(name: str, in_rate: int, out_rate: int, x: np.ndarray) -> float:
    fn = br.batch_fn(name, in_rate, out_rate)
    t0 = CLOCK()
    fn(x)
    return CLOCK() - t0


def _time_stream(name: str, in_rate: int, out_rate: int, chunks: list[np.ndarray]) -> float:
    process, finish = br.stream_factory(name, in_rate, out_rate)()
    t0 = CLOCK()
    for c in chunks:
        process(c)
    finish()
    return (CLOCK() - t0) / len(chunks)


def print_timing(seconds: float, reps: int) -> None:
    clock = "wall clock" if CLOCK is time.perf_counter else "thread CPU time"
    print(
        f"## Speed ({clock}; batch: {seconds:g} s of audio, ms; stream: us per 10 ms chunk; "
        f"best of {reps}; x = soxr HQ time / this time)\n"
    )
    names = list(br.IMPLS)
    for in_rate, out_rate in br.PAIRS:
        x = br._signal(in_rate, seconds)
        hop = in_rate // 100
        xs = br._signal(in_rate, min(seconds, 5.0))
        chunks = [xs[i : i + hop] for i in range(0, len(xs), hop)]
        batch = dict.fromkeys(names, math.inf)
        stream = dict.fromkeys(br.STREAMING, math.inf)
        for rep in range(reps):
            for n in names:
                if "sinc_best" in n and rep > 0:
                    continue  # ~5 s per 60 s of audio: once is enough
                batch[n] = min(batch[n], _time_batch(n, in_rate, out_rate, x))
            for n in br.STREAMING:
                if "sinc_best" in n and rep > 0:
                    continue
                stream[n] = min(stream[n], _time_stream(n, in_rate, out_rate, chunks))
        print(f"### {in_rate} -> {out_rate}\n")
        print("| implementation | batch ms | x vs soxr HQ | stream us/10 ms | x vs soxr HQ |")
        print("|---|---|---|---|---|")
        for n in names:
            b = batch[n] * 1e3
            bx = batch["soxr-HQ"] / batch[n]
            if n in stream:
                s = f"{stream[n] * 1e6:.2f} | {stream['soxr-HQ'] / stream[n]:.2f}"
            else:
                s = "- | -"
            print(f"| {n} | {b:.1f} | {bx:.2f} | {s} |")
        print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="batch signal length")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall: time.perf_counter; cpu: time.thread_time",
    )
    args = ap.parse_args(argv)
    global CLOCK
    CLOCK = time.perf_counter if args.clock == "wall" else time.thread_time
    r = Resampler(48000, 16000)
    print(f"voicecore Resampler kernel path: {r.isa_path}\n")
    if not args.skip_quality:
        print_quality()
    if not args.skip_timing:
        print_timing(args.seconds, args.reps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
