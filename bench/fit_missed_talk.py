"""Offline fit of the echo canceller's missed-talk model (reproduces csrc/voicecore/aec/missed_talk_model.h).

    python bench/fit_missed_talk.py [--corpus-seeds 700-739] [--seeds 9500-9559] [--jobs 2] [--write]

The residual suppressor suppresses a block neither double-talk detector takes for talk as single talk:
where a talker sits under the echo (SER -5 dB) that removes him almost whole. After a talker has been
confirmed in the call, every such block (far end active, no talk state, no echo-path alarm) is a
*candidate*, and a small model decides from 25 features of the block (the suppressor's own statistics,
see ResidualSuppressor::Process) whether to treat it like double talk instead (over a score of 0.999 by
default, 0.98 with ``EchoCanceller(favour_talker=True)``; until session 40 a hand-set rule decided by
default and the model only ran with favour_talker).

Training rooms: the corpus generator's rooms (``make_corpus.py`` seeds 700..739) and our recipes
(``eval_aec.extra_cases`` seeds 9500..9559), never the seeds of the evaluation sets or the tests. Each room
runs through the kernel itself (``EchoCanceller._missed_talk_fit``) with every candidate block treated
as single talk (neither the rule nor the model), and, if it has candidates, again with every candidate
treated like double talk; the recorded per-bin gains give, per block, what the double-talk treatment
keeps of the talker and lets out of the echo. The two are made comparable per room, in the units the
evaluation reads: the talker's share as dB of near-end loss (the output's projection on the clean near
end, summed over the room's far-active blocks) and the echo's as dB of single-talk ERLE (the echo after
the gains over the room's single-talk blocks, after the first second), each weighted up to 10x in rooms
near the evaluation's lines (ERLE near AEC3's - 3 dB, from AEC3 run on the same room; near loss near 3
dB). A block is a positive where what it keeps of the talker outweighs lam times what it lets out of the
echo (lam makes the two totals ``--balance`` apart), weighted by the difference (the usual reduction of
a cost-sensitive decision to weighted classification). Blocks the kernel never asks the model about (its
guards: an echo onset, an unsteady echo estimate, an echo louder than its estimate) are left out. The
model is a 25-8-1 tanh MLP on standardised features trained with L-BFGS on the weighted cross-entropy.
With ``--unsteady`` the same is fit on the blocks the first model's guards leave out (an echo onset, an
unsteady echo estimate; not an echo louder than its estimate), and only where the call's talker sits under
the echo and no clip level is adopted (missed_talk_unsteady_model.h, kMissedTalkUnsteadyDouble; the kernel
does not ask it where the estimate is over 3x its average, kMissedTalkUnsteadyRise, but the fit keeps those
blocks: fit without them the model did worse, docs/aec_experiments.md session 43);
the kernel takes a block for a missed talker where the model's probability exceeds its thresholds
(kMissedTalkDouble and kMissedTalkLone, kMissedTalkUnsteadyDouble and kMissedTalkUnsteadyLone in
residual_suppressor.cc, chosen on the evaluation sets' counts, not here). Measured trade:
docs/aec_experiments.md, sessions 35 and 43.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_aec import EchoCase, eval_dir, extra_cases, make_aec3, regenerated_cases  # noqa: E402
from tanh_mlp import c_floats, initial, loss_grad, predict, unpack  # noqa: E402
from voicecore import EchoCanceller  # noqa: E402
from voicecore.dsp.aec_eval import evaluate_output  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
MODEL_H = REPO / "csrc" / "voicecore" / "aec" / "missed_talk_model.h"
UNSTEADY_H = REPO / "csrc" / "voicecore" / "aec" / "missed_talk_unsteady_model.h"
HIDDEN = 8
L2 = 1e-3
BLOCK = 64
NUM_FEATURES = 25
FEATURE_NAMES = (
    "recent incoherent/coherent, log10",
    "incoherent/coherent, log10",
    "error/leakage residual, log10",
    "error/nonlinear residual, log10",
    "error/filter-free echo, log10",
    "error/echo estimate, log10",
    "echo estimate/its ~100 ms average, log10",
    "echo estimate/lower of its two blocks before, log10",
    "mic share over 1.5x the predicted echo",
    "mic share over the talk threshold",
    "error/noise floor, log10",
    "coherent share",
    "log(1 + blocks since talk)",
    "log(1 + blocks since confirmed talk)",
    "confirmed talk's incoherent/coherent, log10",
    "mic/echo estimate, log10",
    "coherence detector",
    "energy detector (with hangover)",
    "energy detector (this block)",
    "error unexplained",
    "echo onset guard",
    "log(1 + blocks since a confirmed delay change)",
    "clip level adopted",
    "talker under the echo (confirmed talk)",
    "loudest confirmed talk over its echo, log10",
)


def parse_seeds(spec: str) -> list[int]:
    out: list[int] = []
    for part in filter(None, spec.split(",")):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def run(case: EchoCase, force: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``EchoCanceller._missed_talk_fit`` (one per 4 ms block) for one treatment, and the output."""
    ec = EchoCanceller(case.fs, 10, 500, 250)
    ec._impl._missed_talk_fit(force, True)
    far = case.far.astype(np.float32)
    mic = case.mic.astype(np.float32)
    hop = case.fs // 100
    out = np.zeros(len(mic))
    for i in range(0, len(mic) // hop * hop, hop):
        ec.push_far(far[i : i + hop])
        out[i : i + hop] = ec.process_near(mic[i : i + hop])
    return np.asarray(ec._impl._missed_talk_rows(), np.float64), out


def block_power(x: np.ndarray, blocks: int) -> np.ndarray:
    """|X|^2 per bin of the suppressor's analysis frames (sqrt-Hann over two blocks, block b ending
    where the suppressor's block b ends)."""
    w = np.sin(np.pi * (np.arange(2 * BLOCK) + 0.5) / (2 * BLOCK))
    xp = np.concatenate([np.zeros(BLOCK), x, np.zeros(max(0, (blocks + 2) * BLOCK - len(x)))])
    frames = np.lib.stride_tricks.sliding_window_view(xp, 2 * BLOCK)[::BLOCK][:blocks]
    return np.abs(np.fft.rfft(frames * w, axis=1)) ** 2


def room_blocks(case: EchoCase) -> dict[str, np.ndarray] | None:
    """Per candidate block: features, and the talker / echo terms of both treatments (None: no candidates)."""
    base, out = run(case, 0)
    cand = base[:, 1] > 0
    if not cand.any():
        return None
    dt, _ = run(case, 2)
    nb = min(len(base), len(dt))
    base, dt, cand = base[:nb], dt[:nb], cand[:nb]
    g0 = base[:, 2 + NUM_FEATURES :]
    g2 = dt[:, 2 + NUM_FEATURES :]
    near = block_power(case.nearend.astype(np.float64), nb)
    echo = block_power((case.mic - case.nearend).astype(np.float64), nb)
    pn = near.sum(1)
    pe = echo.sum(1)
    far_on = pe > 1e-7 * max(pe.max(), 1e-30)
    # Single talk as the evaluation reads it: echo present, the near end 50 dB under its peak; after 1 s.
    single = far_on & (pn < 1e-5 * max(pn.max(), 1e-30))
    single[: case.fs // BLOCK] = False
    talk_amp = (near * g0).sum(1)
    talk_total = talk_amp[far_on].sum() + 1e-30
    echo_total = (echo * g0**2).sum(1)[single].sum() + 1e-30
    keep_db = 8.686 * ((near * g2).sum(1) - talk_amp) / talk_total
    leak = np.maximum(0.0, (echo * g2**2).sum(1) - (echo * g0**2).sum(1))
    leak_db = np.where(single, 4.343 * np.log1p(leak / echo_total), 0.0)
    ours = evaluate_output(case, out)
    aec3 = make_aec3()
    peer = evaluate_output(case, aec3(case)[0]) if aec3 is not None else {}
    return {
        "x": base[cand, 2 : 2 + NUM_FEATURES],
        "keep_db": keep_db[cand],
        "leak_db": leak_db[cand],
        # The room's figures without the model: ERLE over AEC3's - 3 dB, and near loss.
        "margin_db": np.array(ours.get("erle_db", np.nan) - peer.get("erle_db", np.nan) + 3.0),
        "near_loss_db": np.array(ours.get("near_loss_db", np.nan)),
    }


def _job(job: tuple[str, int, int]) -> tuple[str, dict[str, np.ndarray] | None]:
    kind, seed, index = job
    root = eval_dir()
    if kind == "corpus":
        case = regenerated_cases(root, seed, Path("/tmp/voicecore-regenerated-corpus"))[index]
    else:
        case = extra_cases(root, seed)[index]
        case.name = f"s{seed}_{case.name}"
    return case.name, room_blocks(case)


def asked(x: np.ndarray, unsteady: bool = False) -> np.ndarray:
    """The candidate blocks ResidualSuppressor asks the model about (its guards, kMissedTalkDouble), or
    with ``unsteady`` those it asks the unsteady model about (kMissedTalkUnsteadyDouble)."""
    steady = (x[:, 20] == 0) & (x[:, 6] <= np.log10(1.5)) & (x[:, 6] >= np.log10(0.5))
    louder = (x[:, 15] > 0.2) & (x[:, 16] == 0)
    if unsteady:
        return np.asarray(~steady & ~louder & (x[:, 23] > 0) & (x[:, 22] == 0))
    return np.asarray(steady & ~louder)


def write_header(mean: np.ndarray, inv_std: np.ndarray, theta: np.ndarray, info: str, unsteady: bool) -> Path:
    nf = len(mean)
    w1, b1, w2, b2 = unpack(theta, nf, HIDDEN)
    names = "".join(f"//   {i:2d} {name}\n" for i, name in enumerate(FEATURE_NAMES))
    path, space, what = (
        (UNSTEADY_H, "missed_talk_unsteady_model", "missed-talk model for unsteady blocks")
        if unsteady
        else (MODEL_H, "missed_talk_model", "missed-talk model")
    )
    path.write_text(
        f"// Weights of the echo canceller's {what}: a {nf}-{HIDDEN}-1 tanh MLP on standardised\n"
        "// features. GENERATED by bench/fit_missed_talk.py; do not edit by hand. How it was fit:\n"
        f"// {info}\n"
        "// Features (ResidualSuppressor::Process computes them in this order):\n"
        f"{names}"
        "#pragma once\n\n"
        f"namespace voicecore::aec::{space} {{\n\n"
        f"inline constexpr int kNumFeatures = {nf};\n"
        f"inline constexpr int kHidden = {HIDDEN};\n"
        f"inline constexpr float kFeatureMean[kNumFeatures] = {{{c_floats(mean)}}};\n"
        f"inline constexpr float kFeatureInvStd[kNumFeatures] = {{{c_floats(inv_std)}}};\n"
        f"inline constexpr float kHiddenWeights[kHidden * kNumFeatures] = {{{c_floats(w1)}}};\n"
        f"inline constexpr float kHiddenBias[kHidden] = {{{c_floats(b1)}}};\n"
        f"inline constexpr float kOutputWeights[kHidden] = {{{c_floats(w2)}}};\n"
        f"inline constexpr float kOutputBias = {c_floats(np.array([b2]))};\n\n"
        f"}}  // namespace voicecore::aec::{space}\n"
    )
    return path


def collect(corpus_seeds: list[int], seeds: list[int], jobs: int, cache: Path) -> list[dict[str, np.ndarray]]:
    todo = [("corpus", s, i) for s in corpus_seeds for i in range(13)]
    todo += [("recipe", s, i) for s in seeds for i in range(6)]
    rooms: list[dict[str, np.ndarray]] = []
    missing = []
    for kind, seed, index in todo:
        path = cache / f"{kind}{seed}_{index}.npz"
        if path.exists():
            d = np.load(path)
            if len(d.files):
                rooms.append({k: d[k] for k in d.files})
        else:
            missing.append((kind, seed, index))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for (kind, seed, index), (_name, blocks) in zip(missing, pool.map(_job, missing), strict=True):
            path = cache / f"{kind}{seed}_{index}.npz"
            if blocks is None:
                np.savez(path)
            else:
                np.savez_compressed(path, **blocks)
                rooms.append(blocks)
    return rooms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus-seeds", default="700-739")
    ap.add_argument("--seeds", default="9500-9559")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--balance",
        type=float,
        default=1.0,
        help="total weight of the echo let out against the total of the talker kept (1: equal)",
    )
    ap.add_argument("--iters", type=int, default=400)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/voicecore-missed-talk-fit"))
    ap.add_argument(
        "--unsteady",
        action="store_true",
        help="fit the model for unsteady blocks under a talker under the echo (missed_talk_unsteady_model.h)",
    )
    ap.add_argument("--write", action="store_true", help="rewrite the model's header")
    args = ap.parse_args()
    t0 = time.time()
    args.cache.mkdir(parents=True, exist_ok=True)
    rooms = collect(parse_seeds(args.corpus_seeds), parse_seeds(args.seeds), args.jobs, args.cache)
    # The kernel never asks the model about a block its guards exclude (an echo onset, an echo
    # estimate over 1.5x or under 0.5x its ~100 ms average, an echo louder than its estimate):
    # the model learns only the blocks it will see.
    for r in rooms:
        keep = asked(r["x"], args.unsteady)
        for k in ("x", "keep_db", "leak_db"):
            r[k] = r[k][keep]
    rooms = [r for r in rooms if len(r["x"])]
    x = np.concatenate([r["x"] for r in rooms])

    # What the evaluation counts: rooms within a few dB of AEC3's ERLE - 3 dB, and rooms near 3 dB of
    # near loss. Their blocks weigh up to ten times more (nan: no such figure, weight 1).
    def near_line(distance: np.ndarray) -> np.ndarray:
        return np.asarray(
            np.where(np.isfinite(distance), 1.0 + 9.0 * np.exp(-np.clip(distance, 0.0, None) / 3.0), 1.0)
        )

    keep = np.concatenate(
        [r["keep_db"] * near_line(np.float64(3.0 - r["near_loss_db"]) * 2.0) for r in rooms]
    )
    leak = np.concatenate([r["leak_db"] * near_line(np.float64(r["margin_db"])) for r in rooms])
    # The two totals differ by orders of magnitude (one block of echo let through a room at 50 dB of
    # ERLE costs dB, one block of a talker kept a hundredth of one): lam makes them `balance` apart.
    lam = args.balance * keep.clip(min=0).sum() / max(leak.sum(), 1e-30)
    benefit = keep - lam * leak
    y = (benefit > 0).astype(np.float64)
    w = np.abs(benefit) + 1e-6
    print(
        f"{len(rooms)} rooms with candidate blocks, {len(y)} blocks ({y.mean():.2f} positive), "
        f"{time.time() - t0:.0f} s"
    )
    mean = x.mean(axis=0)
    std = x.std(axis=0) + 1e-6
    xs = (x - mean) / std
    nf = x.shape[1]
    rng = np.random.default_rng(700)
    theta0 = initial(rng, nf, HIDDEN)
    res = minimize(
        loss_grad,
        theta0,
        args=(xs, y, HIDDEN, L2, w),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": args.iters},
    )
    p = predict(res.x, xs, HIDDEN)
    bounds = np.cumsum([len(r["x"]) for r in rooms])[:-1]
    for t in (0.5, 0.8, 0.9, 0.95, 0.98, 0.99):
        kept, let_out = [], []
        for r, sel in zip(rooms, np.split(p > t, bounds), strict=True):
            kept.append(float(r["keep_db"][sel].sum()))
            let_out.append(4.343 * float(np.log1p(np.expm1(r["leak_db"][sel] / 4.343).sum())))
        lo = np.array(let_out)
        margin = np.array([float(r["margin_db"]) for r in rooms])
        loss = np.array([float(r["near_loss_db"]) for r in rooms])
        crossed = int(np.sum((margin > 0) & (lo > margin)))
        fixed = int(np.sum((loss > 3) & (loss - np.array(kept) <= 3)))
        print(
            f"  p > {t}: {np.mean(p > t):.1%} of the candidates; per room, talker kept "
            f"{np.mean(kept):.3f} dB (max {max(kept):.2f}), ERLE lost over 1 / 3 dB in {np.sum(lo > 1)} / "
            f"{np.sum(lo > 3)} rooms; rooms newly under AEC3 - 3 dB {crossed}, double-talk rooms brought "
            f"under 3 dB {fixed} of {np.sum(loss > 3)}"
        )
    info = (
        f"L-BFGS-B, {res.nit} iterations, weighted cross-entropy {res.fun:.4f} + L2 {L2:g}, lam {lam:.3g} "
        f"(balance {args.balance:g}), "
        f"on {len(y)} candidate blocks of {len(rooms)} rooms (corpus seeds {args.corpus_seeds}, "
        f"recipe seeds {args.seeds})."
    )
    print(info)
    if args.write:
        print(f"wrote {write_header(mean, 1.0 / std, res.x, info, args.unsteady)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
