"""Where does single-talk echo leak? Per case: ERLE, the share of the leaked energy that passed while
the canceller claimed double talk, and the frames that dominate the leak.

The single-talk ERLE is an energy sum over frames, so a few frames of leaked echo decide it; this
script names them and the canceller's double-talk state at each (``dt``: the suppressor's decision,
``edt``: the energy detector alone). Same cases and naming as ``bench/eval_aec.py``.

    python bench/aec_leaks.py --seeds 13,43,46 [--only s13_x04] [--top 10]
    python bench/aec_leaks.py --seeds "" --corpus-seeds 73 --only k73_c06
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from eval_aec import FRAME, FS, eval_dir, regenerated_cases, select_cases
from voicecore.dsp import aec_eval
from voicecore.dsp.aec import EchoCanceller
from voicecore.dsp.aec_eval import EchoCase


def run_with_state(case: EchoCase) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Our output, and per 10 ms frame the suppressor's and the energy detector's double-talk flags."""
    ec = EchoCanceller(FS, 10, 500, 250)
    far, mic = case.far.astype(np.float32), case.mic.astype(np.float32)
    n = len(mic) // FRAME * FRAME
    out = np.zeros(len(mic))
    dt = np.zeros(len(mic) // FRAME + 1, bool)
    edt = np.zeros_like(dt)
    for f, i in enumerate(range(0, n, FRAME)):
        ec.push_far(far[i : i + FRAME])
        out[i : i + FRAME] = ec.process_near(mic[i : i + FRAME])
        s = ec.stats
        dt[f], edt[f] = bool(s["double_talk"]), bool(s["energy_double_talk"])
    return out, dt, edt


def report(case: EchoCase, top: int) -> None:
    out, dt, edt = run_with_state(case)
    hop = FS // 100
    lag = aec_eval._align(out, case.mic - case.echo, FS)
    o = out[lag:]
    n = len(o)
    pm = aec_eval._frame_power(case.mic[:n], hop)
    po = aec_eval._frame_power(o, hop)
    pe = aec_eval._frame_power(case.echo[:n], hop)
    pn = aec_eval._frame_power(case.nearend[:n], hop)
    # The single-talk frames of evaluate_output (echo on, near end 50 dB under its peak, after 1 s).
    st = aec_eval._active(pe, 30.0, 1e-7) & ~aec_eval._active(pn, 50.0, 1e-10)
    st[:100] = False
    if st.sum() < 10:
        print(f"{case.name}: no single talk")
        return
    m = min(len(st), len(dt))
    st, po, pm, dt, edt = st[:m], po[:m], pm[:m], dt[:m], edt[:m]
    leak = float(po[st].sum())
    in_dt = float(po[st & dt].sum())
    erle = aec_eval._db(float(pm[st].sum()), leak)
    erle_wo = aec_eval._db(float(pm[st & ~dt].sum()), float(po[st & ~dt].sum()))
    share_frames = 100 * (st & dt).sum() / st.sum()
    print(
        f"{case.name}: ERLE {erle:.2f} dB; {100 * in_dt / leak:.0f} % of the leak in frames flagged double "
        f"talk ({share_frames:.0f} % of the frames); ERLE without them {erle_wo:.2f} dB"
    )
    idx = np.nonzero(st)[0]
    for f in idx[np.argsort(-po[idx])][:top]:
        print(
            f"  t={f / 100:5.2f} s  out/mic {aec_eval._db(float(po[f]), float(pm[f])):6.1f} dB  "
            f"share {100 * po[f] / leak:5.1f} %  dt={int(dt[f])} edt={int(edt[f])}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", default="4242")
    ap.add_argument("--only", default="", help="comma-separated case name prefixes")
    ap.add_argument("--corpus", action="store_true", help="include the shared corpus cases")
    ap.add_argument("--corpus-seeds", default="", help="make_corpus.py seeds, as in eval_aec.py (73,111)")
    ap.add_argument("--top", type=int, default=8)
    a = ap.parse_args(argv)
    cases = select_cases(eval_dir(), corpus=a.corpus, seeds=a.seeds, only=a.only)
    cache = Path(tempfile.gettempdir()) / "voicecore-regenerated-corpus"
    for seed in (int(v) for v in a.corpus_seeds.split(",") if v):
        found = regenerated_cases(eval_dir(), seed, cache)
        cases += [c for c in found if not a.only or any(c.name.startswith(p) for p in a.only.split(","))]
    for c in cases:
        if np.any(c.echo):
            report(c, a.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
