"""End-of-turn evaluation on ``shared/eval/turns``: false end-of-turn decisions in internal pauses and
decision latency after the real turn end, for VAD-only endpointing, the text heuristic and Smart Turn.

Run: ``python bench/eval_turns.py [--eval-dir DIR] [--items t00,t01] [--vad frame|labels]``

Protocol. Speech segments come from voicecore's SpeechDetector (``--vad labels`` uses the corpus'
10 ms labels instead). Every pause after a segment is a decision point: the end-of-turn model is asked
at ``speech end + vad_hangover_ms`` (when the VAD reports the end), and the policy fires at
``speech end + delay``: ``delay`` is the VAD-only silence threshold, or ``min_endpointing_ms`` when the
model says complete and ``max_endpointing_ms`` when it says incomplete. A decision that fires inside a
pause labelled ``internal`` in ``pauses.csv`` (or inside any other gap within a turn) is a false end of
turn. For pauses at a real turn end the latency is ``fire time - turn_end_s`` (as if the user kept
silent); ``late`` counts real ends where the user had already started the next turn.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

RATE = 16000
FRAME = 160


@dataclass
class Pause:
    item: str
    start_s: float  # last speech sample (VAD segment end)
    end_s: float  # next speech start (or end of file)
    kind: str  # "internal" or "eot"
    turn_end_s: float | None  # real turn end, for "eot"
    turn_start_s: float  # start of the turn's first segment (as seen by the VAD)
    final: bool


def read_wav(path: Path) -> NDArray[np.float32]:
    with wave.open(str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return (pcm.astype(np.float32) / 32768.0).astype(np.float32)


def segments_from_labels(labels: NDArray[np.uint8]) -> list[tuple[float, float]]:
    speech = labels == 1
    segs: list[tuple[float, float]] = []
    start = None
    for i, s in enumerate(speech):
        if s and start is None:
            start = i
        elif not s and start is not None:
            segs.append((start * 0.01, i * 0.01))
            start = None
    if start is not None:
        segs.append((start * 0.01, len(speech) * 0.01))
    return segs


def segments_from_vad(
    audio: NDArray[np.float32], make_vad: Callable[[], object]
) -> list[tuple[float, float]]:
    from voicecore.agent.kernels import vad_edges

    vad = make_vad()
    segs: list[tuple[float, float]] = []
    start: float | None = None
    for i in range(0, audio.size - FRAME + 1, FRAME):
        for e in vad_edges(vad.push(np.ascontiguousarray(audio[i : i + FRAME]), RATE)):  # type: ignore[attr-defined]
            if e.kind == "start" and start is None:
                start = e.timestamp_s
            elif e.kind == "end" and start is not None:
                segs.append((start, e.timestamp_s))
                start = None
    if start is not None:
        segs.append((start, audio.size / RATE))
    return segs


def load_pauses(
    eval_dir: Path,
    items: Sequence[str],
    segs_of: dict[str, list[tuple[float, float]]],
    audio_len: dict[str, float],
) -> list[Pause]:
    turns: dict[str, list[dict[str, str]]] = {}
    with open(eval_dir / "turns" / "turns.csv") as f:
        for row in csv.DictReader(f):
            turns.setdefault(row["item"], []).append(row)
    out: list[Pause] = []
    for item in items:
        segs = segs_of[item]
        ends = [(float(r["turn_end_s"]), float(r["speech_start_s"])) for r in turns[item]]
        turn_start = segs[0][0] if segs else 0.0
        for k, (_s0, s1) in enumerate(segs):
            nxt = segs[k + 1][0] if k + 1 < len(segs) else audio_len[item]
            final = k + 1 == len(segs)
            # A pause is a real end of turn if a labelled turn ends within 300 ms of it.
            match = [te for te, _ in ends if abs(te - s1) <= 0.3 or (s1 <= te <= nxt and te - s1 < 0.3)]
            if match:
                out.append(Pause(item, s1, nxt, "eot", match[0], turn_start, final))
                turn_start = nxt
            else:
                out.append(Pause(item, s1, nxt, "internal", None, turn_start, final))
    return out


class Scorer:
    """Caches model probabilities per pause (they do not depend on the policy)."""

    def __init__(self, eval_dir: Path, audio: dict[str, NDArray[np.float32]], hangover_ms: int) -> None:
        self.eval_dir = eval_dir
        self.audio = audio
        self.hangover_s = hangover_ms / 1000
        self.cache: dict[tuple[str, int], float] = {}
        self._stt_decoder: object | None = None

    def _window(self, p: Pause) -> NDArray[np.float32]:
        a = self.audio[p.item]
        t = min(p.start_s + self.hangover_s, a.size / RATE)
        return a[int(p.turn_start_s * RATE) : int(t * RATE)]

    def transcript(self, p: Pause) -> str:
        from pocketsphinx import Decoder

        if self._stt_decoder is None:
            self._stt_decoder = Decoder(samprate=RATE, loglevel="FATAL")
        d = self._stt_decoder
        pcm = (np.clip(self._window(p), -1, 1) * 32767).astype("<i2").tobytes()
        d.start_utt()  # type: ignore[attr-defined]
        d.process_raw(pcm, False, True)  # type: ignore[attr-defined]
        d.end_utt()  # type: ignore[attr-defined]
        hyp = d.hyp()  # type: ignore[attr-defined]
        return hyp.hypstr if hyp is not None else ""

    def prob(self, name: str, model: object, p: Pause, idx: int) -> float:
        key = (name, idx)
        if key not in self.cache:
            text = self.transcript(p) if name == "text-heuristic" else ""
            self.cache[key] = float(model.predict(self._window(p), text))  # type: ignore[attr-defined]
        return self.cache[key]


def evaluate(pauses: list[Pause], delay_of: Callable[[int, Pause], float]) -> dict[str, float]:
    false_eot = 0
    internal = 0
    lat: list[float] = []
    late = 0
    for i, p in enumerate(pauses):
        delay = delay_of(i, p) / 1000
        fire = p.start_s + delay
        if p.kind == "internal":
            internal += 1
            if fire < p.end_s:
                false_eot += 1
        else:
            assert p.turn_end_s is not None
            lat.append((fire - p.turn_end_s) * 1000)
            if not p.final and fire >= p.end_s:
                late += 1
    arr = np.array(lat)
    return {
        "internal": internal,
        "false_eot": false_eot,
        "eot": len(lat),
        "late": late,
        "median_ms": float(np.median(arr)) if lat else float("nan"),
        "p90_ms": float(np.percentile(arr, 90)) if lat else float("nan"),
    }


def run(
    eval_dir: Path,
    items: Sequence[str] | None = None,
    *,
    vad: str = "frame",
    hangover_ms: int = 200,
    models: Sequence[str] = ("vad-only", "text-heuristic", "smart-turn"),
) -> list[dict[str, object]]:
    from voicecore.turn import SmartTurnModel, TextHeuristicModel, find_smart_turn_model

    tdir = eval_dir / "turns"
    items = list(items or sorted(p.stem for p in tdir.glob("t[0-9][0-9].wav")))
    audio = {it: read_wav(tdir / f"{it}.wav") for it in items}
    if vad == "labels":
        segs = {it: segments_from_labels(np.load(tdir / f"{it}_labels_10ms.npy")) for it in items}
    else:
        from voicecore.agent.kernels import make_speech_detector

        segs = {
            it: segments_from_vad(audio[it], lambda: make_speech_detector(vad, min_silence_ms=hangover_ms))
            for it in items
        }
    pauses = load_pauses(eval_dir, items, segs, {it: a.size / RATE for it, a in audio.items()})
    scorer = Scorer(eval_dir, audio, hangover_ms)
    rows: list[dict[str, object]] = []
    if "vad-only" in models:
        for x in (300, 400, 500, 600, 700, 800, 1000, 1200, 1500):
            rows.append(
                {
                    "method": "vad-only",
                    "setting": f"silence {x} ms",
                    **evaluate(pauses, lambda i, p, x=x: float(x)),
                }
            )
    candidates: list[tuple[str, object]] = []
    if "text-heuristic" in models:
        candidates.append(("text-heuristic", TextHeuristicModel()))
    if "smart-turn" in models and find_smart_turn_model() is not None:
        candidates.append(("smart-turn", SmartTurnModel()))
    for name, model in candidates:
        for lo in (300, 400, 500, 600):

            def delay(i: int, p: Pause, lo: int = lo, name: str = name, model: object = model) -> float:
                prob = scorer.prob(name, model, p, i)
                return float(lo) if prob >= 0.5 else 3000.0

            rows.append({"method": name, "setting": f"min {lo} / max 3000 ms", **evaluate(pauses, delay)})
    return rows


def matched_vad_false_eot(rows: list[dict[str, object]], median_ms: float) -> float:
    """VAD-only false end-of-turn count interpolated at ``median_ms`` median latency."""
    pts = sorted(
        (float(r["median_ms"]), float(r["false_eot"]))
        for r in rows  # type: ignore[arg-type]
        if r["method"] == "vad-only"
    )
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return float(np.interp(median_ms, xs, ys))


def format_rows(rows: list[dict[str, object]]) -> str:
    head = (
        "| method | setting | false EOT in internal pauses | median latency ms | p90 latency ms "
        "| real ends missed (user spoke first) |"
    )
    lines = [head, "|---|---|---|---|---|---|"]
    for r in rows:
        med, p90 = float(r["median_ms"]), float(r["p90_ms"])  # type: ignore[arg-type]
        lines.append(
            f"| {r['method']} | {r['setting']} | {r['false_eot']}/{r['internal']} | {med:.0f} | {p90:.0f} "
            f"| {r['late']}/{r['eot']} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parent.parent
    default = os.environ.get("VOICECORE_EVAL_DIR") or str(here.parent / "shared" / "eval")
    ap.add_argument("--eval-dir", type=Path, default=Path(default))
    ap.add_argument("--items", default="")
    ap.add_argument(
        "--vad", default="frame", help="SpeechDetector vad kind, or 'labels' for the corpus labels"
    )
    ap.add_argument("--models", default="vad-only,text-heuristic,smart-turn")
    args = ap.parse_args(argv)
    items = [s for s in args.items.split(",") if s] or None
    ap_models = args.models.split(",")
    rows = run(args.eval_dir, items, vad=args.vad, models=tuple(ap_models))
    print(format_rows(rows))
    for r in rows:
        if r["method"] != "vad-only":
            m = float(r["median_ms"])  # type: ignore[arg-type]
            print(
                f"{r['method']} {r['setting']}: {r['false_eot']} false EOT vs VAD-only "
                f"{matched_vad_false_eot(rows, m):.1f} at the same median latency ({m:.0f} ms)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
