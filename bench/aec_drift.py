"""A long call whose echo path runs on a clock that drifts against the reference: ERLE per 15 s, ours and
WebRTC AEC3 (livekit) side by side, and our delay estimate against the true delay.

Two devices (a USB microphone and laptop speakers, a Bluetooth headset) drift by tens to a hundred or so
ppm; the echo's delay then slides by 0.1 ms per second at 100 ppm. The linear filter has to re-learn the
moving path all the time, and the delay estimate has to follow the direct path once it leaves the
filter's margin. The corpus rooms hold still, so this scene is measured here:

    python bench/aec_drift.py --ppm 0,50,100,-100,200 [--seconds 150] [--seed 1] [--trace]

The scene is ``voicecore.dsp.aec_eval.make_drifting_case``: the corpus's agent voice with pauses at
-24 dBFS, a 0.3 s RT60 room 80 ms late, no near talker (``--talker-db`` adds one in bursts: double
talk), sensor noise at -65 dBFS. ERLE is the microphone's over the output's energy per 15 s segment
(the first includes convergence); with a talker, the evaluation's single-talk ERLE, near-end loss
and segmental SNR over the whole call.
"""

from __future__ import annotations

import argparse

import numpy as np

from eval_aec import FRAME, FS, eval_dir, make_aec3, run_ours, speech_pools
from voicecore.dsp.aec import EchoCanceller
from voicecore.dsp.aec_eval import EchoCase, evaluate_output, make_drifting_case

DELAY_MS = 80.0
SEGMENT_S = 15


def drifting_case(ppm: float, seconds: int, seed: int, talker_db: float | None = None) -> EchoCase:
    far_pool, near_pool = speech_pools(eval_dir())
    rng = np.random.default_rng(seed)
    return make_drifting_case(
        far_pool, near_pool, rng, ppm=ppm, seconds=seconds, delay_ms=DELAY_MS, talker_db=talker_db
    )


def segment_erle(mic: np.ndarray, out: np.ndarray) -> list[float]:
    seg = SEGMENT_S * FS
    return [
        float(10 * np.log10(np.sum(mic[s : s + seg] ** 2) / max(float(np.sum(out[s : s + seg] ** 2)), 1e-20)))
        for s in range(0, len(mic) - seg + 1, seg)
    ]


def delay_trace(case: EchoCase, ppm: float, every_s: int = 10) -> str:
    """Our delay estimate / the true delay (ms), the linear filter's ERLE estimate and the drift the
    canceller follows (ppm) every ``every_s``."""
    ec = EchoCanceller(FS, 10, 500, 250)
    far, mic = case.far.astype(np.float32), case.mic.astype(np.float32)
    parts = []
    for i in range(0, len(mic) // FRAME * FRAME, FRAME):
        ec.push_far(far[i : i + FRAME])
        ec.process_near(mic[i : i + FRAME])
        if i % (every_s * FS) == 0 and i:
            s = ec.stats
            true_ms = DELAY_MS - ppm * 1e-6 * i / FS * 1000
            parts.append(
                f"{i // FS}s {s['delay_ms']:.0f}/{true_ms:.0f}"
                f" lin {s['linear_erle_db']:.0f} drift {s['drift_ppm']:.0f}"
            )
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ppm", default="0,50,100,-100,200")
    ap.add_argument("--seconds", type=int, default=150)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--talker-db", type=float, default=None, help="a near talker at this level against the echo"
    )
    ap.add_argument("--trace", action="store_true", help="print our delay estimate against the true delay")
    args = ap.parse_args(argv)
    aec3 = make_aec3()
    for ppm in (float(p) for p in args.ppm.split(",") if p):
        case = drifting_case(ppm, args.seconds, args.seed, args.talker_db)
        runs = [("ours", run_ours(case)[0])] + ([("AEC3", aec3(case)[0])] if aec3 is not None else [])
        print(f"{case.name}: ERLE per {SEGMENT_S} s, dB")
        for name, out in runs:
            print(f"  {name:5s}", " ".join(f"{v:5.1f}" for v in segment_erle(case.mic, out)))
        if args.talker_db is not None:
            for name, out in runs:
                m = evaluate_output(case, out)
                print(
                    f"  {name:5s} single-talk ERLE {m['erle_db']:.1f} dB,"
                    f" near loss {m['near_loss_db']:.2f} dB, segmental SNR {m['seg_snr_db']:.2f} dB"
                )
        if args.trace:
            print("  delay estimate / true (ms):", delay_trace(case, ppm))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
