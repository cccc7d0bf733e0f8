"""Echo-canceller evaluation: ours vs WebRTC AEC3 (livekit) vs SpeexDSP, one table per case.

Runs every case in ``../shared/eval/aec/`` plus extra cases generated here with other seeds
(exponential-decay RIRs, speech from ``../shared/eval/sources``). Method: ``voicecore.dsp.aec_eval``
(the one in ``shared/eval/BASELINES.md``).

    python bench/eval_aec.py [--only c01,c05] [--no-extra] [--no-peers] [--seeds 4242,11,12]
                             [--peer-cache /tmp/aec-peers] [--corpus-seeds 1,2,3]

``--corpus-seeds`` adds the corpus's own 13 cases as its generator (``make_corpus.py``, which needs
pyroomacoustics) writes them with other seeds, named ``k<seed>_c01...``; the last table then counts,
per case type, the rooms that miss the issue's per-room targets.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from voicecore.dsp.aec import EchoCanceller
from voicecore.dsp.aec_eval import AEC_RECIPES, EchoCase, evaluate_output, make_echo_case, regenerate_corpus

REPO = Path(__file__).resolve().parent.parent
FS = 16000
FRAME = 160

Runner = Callable[[EchoCase], tuple[np.ndarray, float]]


def eval_dir() -> Path:
    from voicecore.vad.scenes import find_eval_dir

    found = find_eval_dir(start=REPO / "bench")
    if found is None:
        raise SystemExit("eval corpus not found: set VOICECORE_EVAL_DIR or put shared/eval beside the repo")
    return found


def _read(path: Path) -> np.ndarray:
    import soundfile as sf

    x, sr = sf.read(str(path), dtype="float64")
    assert sr == FS, path
    return np.asarray(x, np.float64)


def load_corpus_case(d: Path) -> EchoCase:
    import json

    meta = json.loads((d / "meta.json").read_text())
    return EchoCase(
        d.name,
        _read(d / "far.wav"),
        _read(d / "mic.wav"),
        _read(d / "nearend_clean.wav"),
        _read(d / "echo.wav"),
        FS,
        meta.get("echo_path_change_s"),
        meta,
    )


def speech_pools(root: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Far pool = Allison prompts (the agent voice); near pool = the other talkers (not alsa voice)."""
    far, near = [], []
    with open(root / "sources" / "manifest.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["kind"] != "speech" or float(row["duration_s"]) < 1.5:
                continue
            x = _read(root / "sources" / row["file"])
            if row["speaker"] == "allison":
                far.append(x)
            elif row["speaker"] != "alsa_voice":
                near.append(x)
    return far, near


def extra_cases(root: Path, seed: int = 4242) -> list[EchoCase]:
    far, near = speech_pools(root)
    return [
        make_echo_case(name, np.random.default_rng([seed, i]), far, near, **spec)  # type: ignore[arg-type]
        for i, (name, spec) in enumerate(AEC_RECIPES)
    ]


def corpus_cases(root: Path) -> list[EchoCase]:
    """The AEC cases of the corpus under ``root`` (the shared one, or one regenerate_corpus wrote)."""
    return [load_corpus_case(d) for d in sorted((root / "aec").glob("c*")) if d.is_dir()]


def select_cases(root: Path, corpus: bool, seeds: str, only: str) -> list[EchoCase]:
    """The shared corpus cases (if ``corpus``), then the extra cases of each comma-separated seed
    (named ``s<seed>_...`` except the default 4242), kept where a name starts with a prefix in ``only``."""
    cases = corpus_cases(root) if corpus else []
    for seed in (int(v) for v in seeds.split(",") if v):
        extra = extra_cases(root, seed)
        if seed != 4242:
            for c in extra:
                c.name = f"s{seed}_{c.name}"
        cases += extra
    if only:
        cases = [c for c in cases if any(c.name.startswith(p) for p in only.split(","))]
    return cases


def regenerated_cases(root: Path, seed: int, cache: Path) -> list[EchoCase]:
    """The corpus's AEC cases as ``make_corpus.py`` writes them with ``seed`` (kept under ``cache``)."""
    cases = corpus_cases(regenerate_corpus(root, seed, cache / f"seed{seed}"))
    for c in cases:
        c.name = f"k{seed}_{c.name}"
    return cases


def run_ours(case: EchoCase) -> tuple[np.ndarray, float]:
    ec = EchoCanceller(FS, 10, 500, 250)
    far = case.far.astype(np.float32)
    mic = case.mic.astype(np.float32)
    n = len(mic) // FRAME * FRAME
    out = np.zeros(len(mic), np.float32)
    t0 = time.perf_counter()
    for i in range(0, n, FRAME):
        ec.push_far(far[i : i + FRAME])
        out[i : i + FRAME] = ec.process_near(mic[i : i + FRAME])
    cost = (time.perf_counter() - t0) / (n // FRAME) * 1e6
    return out.astype(np.float64), cost


def _to_i16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def make_aec3() -> Runner | None:
    try:
        from livekit import rtc
    except ImportError:
        return None

    def run(case: EchoCase) -> tuple[np.ndarray, float]:
        apm = rtc.AudioProcessingModule(echo_cancellation=True)
        far, mic = _to_i16(case.far), _to_i16(case.mic)
        n = len(mic) // FRAME * FRAME
        out = np.zeros(len(mic), np.int16)
        t0 = time.perf_counter()
        for i in range(0, n, FRAME):
            rf = rtc.AudioFrame(far[i : i + FRAME].tobytes(), FS, 1, FRAME)
            apm.process_reverse_stream(rf)
            nf = rtc.AudioFrame(mic[i : i + FRAME].tobytes(), FS, 1, FRAME)
            apm.process_stream(nf)
            out[i : i + FRAME] = np.frombuffer(nf.data, np.int16)
        cost = (time.perf_counter() - t0) / (n // FRAME) * 1e6
        return out.astype(np.float64) / 32768.0, cost

    return run


def make_speex() -> Runner | None:
    try:
        from speexdsp import EchoCanceller as SpeexEc
    except ImportError:
        return None

    def run(case: EchoCase) -> tuple[np.ndarray, float]:
        ec = SpeexEc.create(FRAME, 4096, FS)
        far, mic = _to_i16(case.far), _to_i16(case.mic)
        n = len(mic) // FRAME * FRAME
        out = np.zeros(len(mic), np.int16)
        t0 = time.perf_counter()
        for i in range(0, n, FRAME):
            y = ec.process(mic[i : i + FRAME].tobytes(), far[i : i + FRAME].tobytes())
            out[i : i + FRAME] = np.frombuffer(y, np.int16)
        cost = (time.perf_counter() - t0) / (n // FRAME) * 1e6
        return out.astype(np.float64) / 32768.0, cost

    return run


def _cache_path(cache: Path, case: EchoCase, peer: str) -> Path:
    """One file per case and peer, keyed by a digest of the case's audio: a changed generator or corpus
    never reuses stale figures."""
    import hashlib

    h = hashlib.sha1(case.far.tobytes() + case.mic.tobytes() + case.nearend.tobytes()).hexdigest()[:16]
    return cache / f"{case.name}.{''.join(c for c in peer if c.isalnum())}.{h}.json"


def _cached(cache: Path | None, case: EchoCase, peer: str) -> dict[str, float] | None:
    import json

    if cache is None or not _cache_path(cache, case, peer).exists():
        return None
    m = {k: float(v) for k, v in json.loads(_cache_path(cache, case, peer).read_text()).items()}
    # Figures from before a column was added are measured again.
    return m if all(k in m for k, _ in COLUMNS) else None


def _store(cache: Path | None, case: EchoCase, peer: str, m: dict[str, float]) -> None:
    import json

    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        _cache_path(cache, case, peer).write_text(json.dumps(m))


COLUMNS = [
    ("erle_db", "ERLE dB"),
    ("ceiling_db", "ceiling dB"),
    ("t20_s", "t20 s"),
    ("recovery_s", "recovery s"),
    ("recovery_active_s", "recovery active s"),
    ("near_loss_db", "near loss dB"),
    ("seg_snr_db", "segSNR dB"),
    ("cost_us", "us/frame"),
]


def fmt(v: float) -> str:
    if v is None or math.isnan(v):
        return "—"
    return f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", default="", help="comma-separated case name prefixes")
    ap.add_argument("--no-extra", action="store_true")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--seeds", default="4242", help="seeds for the extra cases, comma-separated (4242,11,12)")
    ap.add_argument(
        "--peer-cache",
        type=Path,
        default=None,
        help="directory for the peers' figures per case, us/frame included (they do not change "
        "while ours is tuned)",
    )
    ap.add_argument("--corpus-seeds", default="", help="seeds for make_corpus.py's AEC cases (1,2,3)")
    ap.add_argument(
        "--corpus-cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "voicecore-regenerated-corpus",
        help="where the regenerated cases are written",
    )
    a = ap.parse_args(argv)
    cases = select_cases(eval_dir(), corpus=True, seeds="" if a.no_extra else a.seeds, only=a.only)
    for seed in (int(v) for v in a.corpus_seeds.split(",") if v):
        cases += [
            c
            for c in regenerated_cases(eval_dir(), seed, a.corpus_cache)
            if not a.only or any(c.name.split("_", 1)[1].startswith(p) for p in a.only.split(","))
        ]
    runners: list[tuple[str, Runner | None]] = [("voicecore", run_ours)]
    if not a.no_peers:
        runners += [("AEC3 (livekit)", make_aec3()), ("Speex (4096)", make_speex())]
    for name, r in runners:
        if r is None:
            print(f"[skip] {name}: peer package not installed (pip install '.[test]')", file=sys.stderr)
    summary: dict[str, list[dict[str, float]]] = {}
    for case in cases:
        print(f"\n### {case.name}")
        print("| canceller | " + " | ".join(h for _, h in COLUMNS) + " |")
        print("|---|" + "---|" * len(COLUMNS))
        for name, r in runners:
            if r is None:
                continue
            m = _cached(a.peer_cache, case, name) if name != "voicecore" else None
            if m is None:
                out, cost = r(case)
                m = evaluate_output(case, out)
                m["cost_us"] = cost
                if name != "voicecore":
                    _store(a.peer_cache, case, name, m)
            summary.setdefault(name, []).append(m)
            print(f"| {name} | " + " | ".join(fmt(m[k]) for k, _ in COLUMNS) + " |", flush=True)
    print("\n### summary (medians; single talk = cases without near-end speech, double talk = with both)")
    print(
        "| canceller | ERLE all echo cases dB | ERLE single-talk cases dB | near loss DT dB"
        " | worst near loss DT dB | segSNR DT dB | leakage near-only dB | us/frame |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, ms in summary.items():
        rows = list(zip(cases, ms, strict=True))
        echo_rows = [m for c, m in rows if np.any(c.echo)]
        st_rows = [m for c, m in rows if np.any(c.echo) and not np.any(c.nearend)]
        dt_rows = [m for c, m in rows if np.any(c.echo) and np.any(c.nearend)]
        ne_rows = [m for c, m in rows if not np.any(c.echo)]

        def med(k: str, sel: list[dict[str, float]]) -> float:
            v = [x[k] for x in sel if not math.isnan(x[k])]
            return float(np.median(v)) if v else float("nan")

        losses = [m["near_loss_db"] for m in dt_rows if not math.isnan(m["near_loss_db"])]
        worst = max(losses, default=float("nan"))
        print(
            f"| {name} | {fmt(med('erle_db', echo_rows))} | {fmt(med('erle_db', st_rows))} | "
            f"{fmt(med('near_loss_db', dt_rows))} | {fmt(worst)} | {fmt(med('seg_snr_db', dt_rows))} | "
            f"{fmt(med('near_loss_db', ne_rows))} | {fmt(med('cost_us', ms))} |"
        )
    if "AEC3 (livekit)" in summary:
        print_target_misses(cases, summary["voicecore"], summary["AEC3 (livekit)"])
    return 0


def print_target_misses(
    cases: list[EchoCase], ours: list[dict[str, float]], aec3: list[dict[str, float]]
) -> None:
    """Per case type (the name without its seed prefix): rooms whose single-talk ERLE is more than
    3 dB below AEC3's, and double-talk rooms with a near-end loss over 3 dB."""
    kinds: dict[str, list[int]] = {}
    for c, o, w in zip(cases, ours, aec3, strict=True):
        kind = c.name.split("_", 1)[1][:3] if c.name[0] in "sk" and c.name[1].isdigit() else c.name[:3]
        row = kinds.setdefault(kind, [0, 0, 0, 0])
        row[0] += 1
        row[1] += int(o["erle_db"] < w["erle_db"] - 3.0)
        if np.any(c.echo) and np.any(c.nearend):
            row[2] += 1
            row[3] += int(o["near_loss_db"] > 3.0)
    print("\n### per-room targets by case type (rooms missing them / rooms)")
    print("| type | ERLE > 3 dB below AEC3 | near loss over 3 dB |")
    print("|---|---|---|")
    for kind, (n, below, ndt, loss) in sorted(kinds.items()):
        print(f"| {kind} | {below} / {n} | {loss} / {ndt} |" if ndt else f"| {kind} | {below} / {n} | — |")


if __name__ == "__main__":
    raise SystemExit(main())
