"""Cascade-minus-Silero F1 over many generated scenes and Silero chunk alignments (tuning aid).

    python bench/cascade_sweep.py --set fresh [--set confirm ...] [--align 4] [--set-option k=v ...]

Sets of scenes (voicecore.vad.scenes, as bench/eval_vad.py builds them):

* ``dev``: regular and half-silence scenes of seed bases 9400-9800 (the cascade's tuning seeds);
* ``fresh``: regular scenes of seed bases 12000-16000 (checked after each change, 80 scenes);
* ``confirm``: regular scenes of seed bases 17000-19000 (48 scenes, looked at only to confirm);
* ``untuned``: regular scenes of seed bases 21000-23000 (48 scenes, added after the confirm set had
  been looked at many times; no setting was chosen on them);
* ``shared``: the 16 mixes of the shared corpus.

Each scene is scored with its first ``a`` hops dropped for a = 0 .. ``--align``-1: Silero's 512-sample
chunk grid then falls at another phase of the audio (0, 160, 320, 480 samples for 4), and a gate
decision that only works at one phase shows up as a spread. Silero-alone's probabilities do not
depend on the cascade's settings and are cached under ``--cache`` (delete it after changing Silero's
wrapper). F1 is at threshold 0.5 on StreamingVad's per-hop probabilities (what SpeechDetector sees).

It prints the scenes below -0.02 at alignment 0 and averaged over the alignments, the mean, the worst,
and the share of Silero chunks the cascade ran on the half-silence scenes (overall and per noise type).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from eval_vad import extra_cases, shared_cases
from voicecore.vad import StreamingVad
from voicecore.vad.metrics import f1_score
from voicecore.vad.scenes import NOISE_TYPES, SourceBank, find_eval_dir

HOP = 160
SETS = {
    "dev": [(s, half) for s in (9400, 9500, 9600, 9700, 9800) for half in (False, True)],
    "fresh": [(s, False) for s in (12000, 13000, 14000, 15000, 16000)],
    "confirm": [(s, False) for s in (17000, 18000, 19000)],
    "untuned": [(s, False) for s in (21000, 22000, 23000)],
}


def scenes(bank: SourceBank, seed0: int, half: bool) -> list[tuple[str, np.ndarray, np.ndarray]]:
    # eval_vad's generated scenes, named as this sweep's caches and notes name them (x_s12000_bike00).
    cases = extra_cases(bank, half, seed0)
    return [(name.replace("_snr", ""), audio, labels) for name, audio, labels in cases]


def shared(eval_dir: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    return [(f"shared_{name}", audio, labels) for name, audio, labels in shared_cases(eval_dir)]


def probs_of(vad: StreamingVad, audio: np.ndarray, n: int) -> np.ndarray:
    return vad.process_hops(np.ascontiguousarray(audio[: n * HOP]).reshape(n, HOP))


def parse_value(v: str) -> object:
    if v in ("True", "False"):
        return v == "True"
    if v == "None":
        return None
    try:
        return int(v)
    except ValueError:
        return float(v)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", action="append", choices=[*SETS, "shared"], required=True)
    ap.add_argument("--align", type=int, default=4)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/voicecore-silero-cache"))
    ap.add_argument("--set-option", action="append", default=[], help="StreamingVad keyword, k=v")
    ap.add_argument("--eval-dir", type=Path, default=find_eval_dir(Path(__file__)))
    ap.add_argument("--per-scene", action="store_true", help="print every scene's row")
    args = ap.parse_args()
    if args.eval_dir is None:
        print("eval corpus not found: pass --eval-dir or set VOICECORE_EVAL_DIR", file=sys.stderr)
        return 2
    options = {k: parse_value(v) for k, v in (o.split("=", 1) for o in args.set_option)}
    bank = SourceBank(args.eval_dir)
    args.cache.mkdir(parents=True, exist_ok=True)
    rows = []
    chunks_cascade = chunks_silero = 0
    by_noise: dict[str, list[int]] = {}
    for name in args.set:
        cases = (
            shared(args.eval_dir)
            if name == "shared"
            else [c for seed0, half in SETS[name] for c in scenes(bank, seed0, half)]
        )
        for case, audio, labels in cases:
            deltas = []
            for a in range(args.align):
                x = audio[a * HOP :]
                y = labels[a:]
                n = min(len(y), len(x) // HOP)
                cached = args.cache / f"{case}_a{a}.npy"
                if cached.exists():
                    ps = np.load(cached)
                else:
                    ps = probs_of(StreamingVad("silero"), x, n)
                    np.save(cached, ps)
                vad = StreamingVad("cascade", **options)  # type: ignore[arg-type]
                pc = probs_of(vad, x, n)
                deltas.append(f1_score(pc >= 0.5, y[:n]) - f1_score(ps >= 0.5, y[:n]))
                if case.startswith("half"):
                    chunks_cascade += vad.silero_chunks
                    chunks_silero += n * HOP // 512
                    noise = next((k for k in NOISE_TYPES if k in case), "clean")
                    tally = by_noise.setdefault(noise, [0, 0])
                    tally[0] += vad.silero_chunks
                    tally[1] += n * HOP // 512
            rows.append((case, deltas))
            if args.per_scene:
                print(f"{case:28s} " + " ".join(f"{d:+.3f}" for d in deltas), flush=True)
    d0 = np.array([r[1][0] for r in rows])
    dm = np.array([np.mean(r[1]) for r in rows])
    print(f"\nscenes {len(rows)}, alignments {args.align}, options {options}")
    for label, d in (("alignment 0", d0), ("averaged   ", dm)):
        print(f"{label}: mean {d.mean():+.4f}, worst {d.min():+.3f}, below -0.02: {int(np.sum(d < -0.02))}")
    for case, deltas in rows:
        if deltas[0] < -0.02 or np.mean(deltas) < -0.02:
            print(
                f"  {case:28s} a0 {deltas[0]:+.3f}  mean {np.mean(deltas):+.3f}  "
                + " ".join(f"{d:+.3f}" for d in deltas)
            )
    if chunks_silero:
        print(
            f"half-silence Silero chunks run by the cascade: {chunks_cascade / chunks_silero:.1%} ("
            + ", ".join(f"{k} {v[0] / v[1]:.1%}" for k, v in by_noise.items())
            + ")"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
