"""Per-room echo-canceller figures over many generated rooms, as CSV, and the comparison of two runs.

``bench/eval_aec.py`` prints tables; tuning a rule needs the figures of every room of hundreds of seeds
against AEC3's on the same room, and the rooms a change moved. This runs ours (and AEC3, through the
same peer cache as ``eval_aec.py``) on the corpus generator's rooms (``--corpus-seeds``) and on our own
recipes (``--seeds``), a seed per worker process, and writes a row per room:

    python bench/aec_rooms.py run --corpus-seeds 1-100,104-123 --jobs 2 --out k.csv
    python bench/aec_rooms.py run --seeds 13-15,40-47 --out x.csv
    python bench/aec_rooms.py compare before.csv after.csv [--show 10]

``compare`` counts, for each file, the rooms more than 3 dB below AEC3 in single-talk ERLE and the
double-talk rooms over 3 dB of near-end loss (the issue's per-room targets), the mean change of each
figure, and lists the rooms that moved most.

The eight sets ``docs/aec_experiments.md`` judges variants on (5,246 rooms) are named in ``SETS``:
``run --set k --out DIR/base_k.csv`` runs one of them, and ``sets DIR/variant [DIR/base]`` prints each
set's counts from ``DIR/variant_<set>.csv`` (with the mean changes against ``DIR/base_<set>.csv``):

    python bench/aec_rooms.py run --set k --out runs/base_k.csv
    python bench/aec_rooms.py sets runs/variant runs/base
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from eval_aec import _cached, _store, eval_dir, extra_cases, make_aec3, regenerated_cases, run_ours
from voicecore.dsp.aec_eval import EchoCase, evaluate_output

# The eight sets of docs/aec_experiments.md: (corpus generator seeds, recipe seeds). k and x are the
# tuning sets (the corpus generator's and our recipes'), the others held out; v and z were first run
# in session 31, w in session 32.
SETS: dict[str, tuple[str, str]] = {
    "k": ("1-100,104-123", ""),
    "u": ("200-239", ""),
    "n": ("300-329", ""),
    "v": ("400-439", ""),
    "x": ("", "13-15,40-47,60-69,80-89,100-159,5000-5029"),
    "y": ("", "160-199"),
    "z": ("", "8000-8099"),
    "w": ("500-529", "9000-9049"),
}
FIELDS = ["erle_db", "near_loss_db", "seg_snr_db", "t20_s", "recovery_s", "recovery_active_s"]
AEC3 = "AEC3 (livekit)"


def parse_seeds(spec: str) -> list[int]:
    """``"1-3,7"`` -> [1, 2, 3, 7]."""
    seeds: list[int] = []
    for part in (p for p in spec.split(",") if p):
        lo, _, hi = part.partition("-")
        seeds += range(int(lo), int(hi or lo) + 1)
    return seeds


def _rows(cases: list[EchoCase], peer_cache: Path | None, peers: bool) -> list[dict[str, object]]:
    aec3 = make_aec3() if peers else None
    rows: list[dict[str, object]] = []
    for case in cases:
        out, _ = run_ours(case)
        ours = evaluate_output(case, out)
        row: dict[str, object] = {
            "room": case.name,
            "kind": case.name.split("_", 1)[1][:3],
            "echo": int(bool(np.any(case.echo))),
            "near": int(bool(np.any(case.nearend))),
        }
        row.update({k: ours[k] for k in FIELDS})
        theirs = _cached(peer_cache, case, AEC3) if aec3 is not None else None
        if theirs is None and aec3 is not None:
            y, cost = aec3(case)
            theirs = evaluate_output(case, y)
            theirs["cost_us"] = cost
            _store(peer_cache, case, AEC3, theirs)
        row.update({f"aec3_{k}": (theirs or {}).get(k, math.nan) for k in FIELDS})
        rows.append(row)
    return rows


def _seed_rows(job: tuple[str, int, Path, Path | None, bool]) -> list[dict[str, object]]:
    kind, seed, corpus_cache, peer_cache, peers = job
    root = eval_dir()
    if kind == "k":
        cases = regenerated_cases(root, seed, corpus_cache)
    else:
        cases = extra_cases(root, seed)
        for c in cases:
            c.name = f"s{seed}_{c.name}"
    return _rows(cases, peer_cache, peers)


def run(a: argparse.Namespace) -> int:
    if a.set:
        a.corpus_seeds, a.seeds = SETS[a.set]
    jobs = [("k", s, a.corpus_cache, a.peer_cache, not a.no_peers) for s in parse_seeds(a.corpus_seeds)]
    jobs += [("s", s, a.corpus_cache, a.peer_cache, not a.no_peers) for s in parse_seeds(a.seeds)]
    rows: list[dict[str, object]] = []
    with ProcessPoolExecutor(a.jobs) as pool:
        for i, r in enumerate(pool.map(_seed_rows, jobs)):
            rows += r
            print(f"\r{i + 1}/{len(jobs)} seeds", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    summarize(a.out)
    return 0


def load(path: Path) -> dict[str, dict[str, float | str]]:
    with open(path, newline="") as f:
        return {
            r["room"]: {k: (v if k in ("room", "kind") else float(v)) for k, v in r.items()}
            for r in csv.DictReader(f)
        }


def misses(r: dict[str, float | str]) -> tuple[bool, bool]:
    """(single-talk ERLE more than 3 dB below AEC3's, double-talk near-end loss over 3 dB)."""
    below = bool(r["echo"]) and float(r["erle_db"]) < float(r["aec3_erle_db"]) - 3.0
    loss = bool(r["echo"]) and bool(r["near"]) and float(r["near_loss_db"]) > 3.0
    return below, loss


def missed(rows: dict[str, dict[str, float | str]]) -> tuple[list[str], list[str]]:
    """The rooms below AEC3 by over 3 dB and the double-talk rooms over 3 dB (see misses), sorted."""
    below = sorted(k for k, r in rows.items() if misses(r)[0])
    loss = sorted(k for k, r in rows.items() if misses(r)[1])
    return below, loss


def summarize(path: Path) -> None:
    rows = load(path)
    below, loss = missed(rows)
    print(f"{path}: {len(rows)} rooms; below AEC3 by > 3 dB: {len(below)}; DT near loss > 3 dB: {len(loss)}")
    print("  below:", " ".join(below))
    print("  DT>3: ", " ".join(loss))


def _mean(v: list[float]) -> float:
    v = [x for x in v if not math.isnan(x)]
    return float(np.mean(v)) if v else math.nan


def compare(a: argparse.Namespace) -> int:
    before, after = load(a.before), load(a.after)
    common = sorted(set(before) & set(after))
    for path in (a.before, a.after):
        summarize(path)
    print(f"{len(common)} rooms in both")
    for k in ("erle_db", "near_loss_db", "seg_snr_db"):
        print(f"  mean change {k}: {_mean(list(_changes(before, after, k).values())):+.3f}")
    # By room name, so that equal changes list in the same order from run to run.
    d_erle = dict(sorted(_changes(before, after, "erle_db").items()))
    print(
        f"  rooms ERLE > 5 dB better / worse: {sum(v > 5 for v in d_erle.values())} / "
        f"{sum(v < -5 for v in d_erle.values())}"
    )
    d_loss = dict(sorted(_changes(before, after, "near_loss_db").items()))
    print(
        f"  rooms near loss > 0.3 dB worse / better: {sum(v > 0.3 for v in d_loss.values())} / "
        f"{sum(v < -0.3 for v in d_loss.values())}"
    )
    for title, items in (
        ("ERLE worse", sorted(d_erle.items(), key=lambda kv: kv[1])[: a.show]),
        ("ERLE better", sorted(d_erle.items(), key=lambda kv: -kv[1])[: a.show]),
        ("near loss worse", sorted(d_loss.items(), key=lambda kv: -kv[1])[: a.show]),
    ):
        print(
            f"  {title}: "
            + ", ".join(
                f"{r} {float(before[r]['erle_db' if 'ERLE' in title else 'near_loss_db']):.1f}->"
                f"{float(after[r]['erle_db' if 'ERLE' in title else 'near_loss_db']):.1f}"
                for r, _ in items
            )
        )
    return 0


def _changes(
    before: dict[str, dict[str, float | str]], after: dict[str, dict[str, float | str]], key: str
) -> dict[str, float]:
    """after - before of one figure, per room in both where both are numbers."""
    d = {r: float(after[r][key]) - float(before[r][key]) for r in after if r in before}
    return {r: v for r, v in d.items() if not math.isnan(v)}


def sets(a: argparse.Namespace) -> int:
    """Per set: rooms below AEC3 / double-talk rooms over 3 dB, and against a base run the mean change
    of single-talk ERLE and near-end loss and the rooms more than 1 dB worse / better in ERLE."""
    total = [0, 0]
    for name in SETS:
        path = Path(f"{a.prefix}_{name}.csv")
        if not path.exists():
            print(f"{name}: -")
            continue
        rows = load(path)
        below, loss = (len(v) for v in missed(rows))
        total[0] += below
        total[1] += loss
        line = f"{name}: {below} / {loss} of {len(rows)} rooms"
        base_path = Path(f"{a.base}_{name}.csv") if a.base else None
        if base_path is not None and base_path.exists():
            base = load(base_path)
            d_erle = list(_changes(base, rows, "erle_db").values())
            d_loss = list(_changes(base, rows, "near_loss_db").values())
            line += (
                f"; ERLE {_mean(d_erle):+.2f} dB mean, near loss {_mean(d_loss):+.3f} dB mean, "
                f"rooms ERLE 1 dB worse / better {sum(v < -1 for v in d_erle)} / {sum(v > 1 for v in d_erle)}"
            )
        print(line)
    print(f"all sets: below AEC3 by > 3 dB {total[0]}, DT near loss > 3 dB {total[1]}")
    return 0


def main(argv: list[str] | None = None) -> int:
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--corpus-seeds", default="", help="make_corpus.py seeds, e.g. 1-100,104-123")
    r.add_argument("--seeds", default="", help="seeds of our recipes (x01-x06), e.g. 13-15,40-47")
    r.add_argument("--set", choices=sorted(SETS), help="one of the eight named sets (overrides the seeds)")
    r.add_argument("--jobs", type=int, default=2)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--no-peers", action="store_true")
    r.add_argument("--peer-cache", type=Path, default=Path(tempfile.gettempdir()) / "voicecore-aec-peers")
    r.add_argument(
        "--corpus-cache", type=Path, default=Path(tempfile.gettempdir()) / "voicecore-regenerated-corpus"
    )
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    c.add_argument("--show", type=int, default=8)
    t = sub.add_parser("sets")
    t.add_argument("prefix", help="runs are PREFIX_<set>.csv")
    t.add_argument("base", nargs="?", default="", help="base runs BASE_<set>.csv to compare with")
    a = ap.parse_args(argv)
    return {"run": run, "compare": compare, "sets": sets}[a.cmd](a)


if __name__ == "__main__":
    raise SystemExit(main())
