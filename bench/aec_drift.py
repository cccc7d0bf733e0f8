"""A long call whose echo path runs on a clock that drifts against the reference: ERLE per 15 s, ours and
WebRTC AEC3 (livekit) side by side, and our delay estimate against the true delay.

Two devices (a USB microphone and laptop speakers, a Bluetooth headset) drift by tens to a hundred or so
ppm; the echo's delay then slides by 0.1 ms per second at 100 ppm. The linear filter has to re-learn the
moving path all the time, and the delay estimate has to follow the direct path once it leaves the
filter's margin. The corpus rooms hold still, so this scene is measured here:

    python bench/aec_drift.py --ppm 0,50,100,-100,200 [--seconds 150] [--seed 1] [--trace]

The far end is the corpus's agent voice with pauses at -24 dBFS, the echo path a 0.3 s RT60 room 80 ms
late, no near talker, sensor noise at -65 dBFS. ERLE is the microphone's over the output's energy per
15 s segment (the first includes convergence).
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.signal import resample_poly

from eval_aec import FRAME, FS, eval_dir, make_aec3, run_ours, speech_pools
from voicecore.dsp.aec import EchoCanceller
from voicecore.dsp.aec_eval import EchoCase, _concat, exp_decay_rir

DELAY_MS = 80.0
SEGMENT_S = 15


def drifting_case(ppm: float, seconds: int, seed: int) -> EchoCase:
    """The echo path plays sample k of the far end at k * (1 + ppm 1e-6): a delay that shrinks by ppm
    microseconds per second (grows for negative ppm). Linear interpolation on a 4x upsampled far end."""
    rng = np.random.default_rng(seed)
    far_pool, _ = speech_pools(eval_dir())
    n = seconds * FS
    far = _concat(rng, far_pool, n, FS, (0.3, 1.5))
    far = far / np.sqrt(np.mean(far**2)) * 10 ** (-24 / 20)
    far4 = resample_poly(far, 4, 1)
    played = np.interp(np.arange(n) * (1 + ppm * 1e-6) * 4, np.arange(len(far4)), far4, right=0.0)
    d = int(DELAY_MS * FS / 1000)
    echo = 0.5 * np.concatenate([np.zeros(d), np.convolve(played, exp_decay_rir(rng, FS, 0.3))[: n - d]])
    mic = echo + rng.standard_normal(n) * 10 ** (-65 / 20)
    return EchoCase(f"drift_{ppm:+g}ppm", far, mic, np.zeros(n), echo, FS)


def segment_erle(mic: np.ndarray, out: np.ndarray) -> list[float]:
    seg = SEGMENT_S * FS
    return [
        float(10 * np.log10(np.sum(mic[s : s + seg] ** 2) / max(float(np.sum(out[s : s + seg] ** 2)), 1e-20)))
        for s in range(0, len(mic) - seg + 1, seg)
    ]


def delay_trace(case: EchoCase, ppm: float, every_s: int = 10) -> str:
    """Our delay estimate / the true delay (ms) and the linear filter's ERLE estimate every ``every_s``."""
    ec = EchoCanceller(FS, 10, 500, 250)
    far, mic = case.far.astype(np.float32), case.mic.astype(np.float32)
    parts = []
    for i in range(0, len(mic) // FRAME * FRAME, FRAME):
        ec.push_far(far[i : i + FRAME])
        ec.process_near(mic[i : i + FRAME])
        if i % (every_s * FS) == 0 and i:
            s = ec.stats
            true_ms = DELAY_MS - ppm * 1e-6 * i / FS * 1000
            parts.append(f"{i // FS}s {s['delay_ms']:.0f}/{true_ms:.0f} lin {s['linear_erle_db']:.0f}")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ppm", default="0,50,100,-100,200")
    ap.add_argument("--seconds", type=int, default=150)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--trace", action="store_true", help="print our delay estimate against the true delay")
    args = ap.parse_args(argv)
    aec3 = make_aec3()
    for ppm in (float(p) for p in args.ppm.split(",") if p):
        case = drifting_case(ppm, args.seconds, args.seed)
        print(f"{case.name}: ERLE per {SEGMENT_S} s, dB")
        print("  ours ", " ".join(f"{v:5.1f}" for v in segment_erle(case.mic, run_ours(case)[0])))
        if aec3 is not None:
            print("  AEC3 ", " ".join(f"{v:5.1f}" for v in segment_erle(case.mic, aec3(case)[0])))
        if args.trace:
            print("  delay estimate / true (ms):", delay_trace(case, ppm))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
