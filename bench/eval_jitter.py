"""Trace-driven evaluation of voicecore.JitterBuffer against aiortc and an oracle fixed buffer.

Run: ``python bench/eval_jitter.py`` (about 2 minutes on one core; ``--quick`` for 20 s traces).

Replays the shared packet traces (../shared/eval/traces/*.csv, 20 ms packets) and traces
generated here from the same models with other seeds, carrying 60 s of real speech from
../shared/eval/sources/speech. The 16 kHz sources are upsampled to 48 kHz with
scipy.signal.resample_poly; everything runs at 48 kHz, and the played-out audio is brought back
to 16 kHz for wide-band PESQ against the original. Systems (same trace, same speech):

* ours-l16: voicecore.JitterBuffer, raw L16 payloads, voicecore's own concealment;
* ours-opus-generic / ours-opus-plc: the speech Opus-coded (libopus, 24 kb/s, in-band FEC, 10 %
  expected loss), decoded without / with libopus PLC + FEC (voicecore.OpusDecoder);
* aiortc: aiortc's JitterBuffer(capacity=16, prefetch=4) with its own RtpPacket objects and a
  real-time 20 ms sink (see jitter_sim.py);
* fixed-p95: the oracle fixed playout point at the trace's p95 one-way delay (late = silence).

Columns: network loss, late loss (arrived, never played), concealment ratio (output that is
concealment/silence fill), mean and p95 end-to-end playout delay of media frames (ms), share of
time-stretched output, mean wide-band PESQ over 10 s chunks.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jitter_sim as js  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = ["gilbert_elliott_bursty", "pareto_jitter", "delay_spike", "route_change", "combined_mobile"]
GENERATED = [("pareto_jitter", 11), ("route_change", 11), ("combined_mobile", 11), ("delay_spike", 11)]


def evaluate(eval_dir: Path, duration_s: float, with_pesq: bool = True) -> list[dict[str, object]]:
    x16, x48 = js.speech_signal(eval_dir, duration_s)
    n = int(duration_s * 1000 / js.PTIME_MS)
    traces = [js.load_trace(eval_dir / "traces" / f"{name}.csv").head(n) for name in SHARED]
    traces += [js.generate_trace(model, seed, duration_s) for model, seed in GENERATED]
    rows: list[dict[str, object]] = []
    for tr in traces:
        p95 = float(np.percentile(tr.delays(), 95))
        l16 = js._wire(x48, tr.n, "l16")
        opus = js._wire(x48, tr.n, "opus")
        runs = [
            js.run_ours(tr, x48, "l16", payloads=l16),
            js.run_ours(tr, x48, "opus", plc=False, payloads=opus),
            js.run_ours(tr, x48, "opus", plc=True, payloads=opus),
            js.run_aiortc(tr, x48, payloads=l16),
            js.run_fixed(tr, x48, p95),
        ]
        for r in runs:
            row: dict[str, object] = {"trace": tr.name, "system": r.system, **r.metrics()}
            row["pesq"] = js.pesq_chunks(x16, r) if with_pesq else float("nan")
            rows.append(row)
    return rows


def print_table(rows: list[dict[str, object]]) -> None:
    head = (
        f"| {'trace':28s} | {'system':17s} | net loss | late loss | conceal | mean delay | p95 delay |"
        f" stretched | PESQ-WB |"
    )
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for r in rows:
        print(
            f"| {r['trace']!s:28s} | {r['system']!s:17s} | {100 * float(r['net_loss']):7.2f}% |"  # type: ignore[arg-type]
            f" {100 * float(r['late_loss']):8.2f}% | {100 * float(r['conceal']):6.2f}% |"  # type: ignore[arg-type]
            f" {float(r['mean_delay']):7.1f} ms | {float(r['p95_delay']):6.1f} ms |"  # type: ignore[arg-type]
            f" {100 * float(r['stretched']):8.2f}% | {float(r['pesq']):7.3f} |"
        )  # type: ignore[arg-type]


def check_targets(rows: list[dict[str, object]]) -> list[str]:
    """The issue's targets, per trace: a list of 'MET'/'MISSED' lines."""
    out = []
    by_trace: dict[str, dict[str, dict[str, object]]] = {}
    for r in rows:
        by_trace.setdefault(str(r["trace"]), {})[str(r["system"])] = r
    for trace, s in by_trace.items():
        ours, ai, fx = s["ours-l16"], s["aiortc"], s["fixed-p95"]
        g, p = s["ours-opus-generic"], s["ours-opus-plc"]
        f = {
            k: {m: float(v) for m, v in d.items() if m not in ("trace", "system")}
            for k, d in (("o", ours), ("a", ai), ("x", fx), ("g", g), ("p", p))  # type: ignore[arg-type]
        }
        checks = [
            (
                "mean delay <= aiortc/3",
                f["o"]["mean_delay"] <= f["a"]["mean_delay"] / 3,
                f"{f['o']['mean_delay']:.1f} vs {f['a']['mean_delay'] / 3:.1f}",
            ),
            (
                "mean delay <= oracle + 20 ms",
                f["o"]["mean_delay"] <= f["x"]["mean_delay"] + 20,
                f"{f['o']['mean_delay']:.1f} vs {f['x']['mean_delay'] + 20:.1f}",
            ),
            (
                "conceal <= net loss + 0.5%",
                f["o"]["conceal"] <= f["o"]["net_loss"] + 0.005,
                f"{100 * f['o']['conceal']:.2f}% vs {100 * (f['o']['net_loss'] + 0.005):.2f}%",
            ),
            (
                "PESQ > aiortc",
                f["o"]["pesq"] > f["a"]["pesq"],
                f"{f['o']['pesq']:.3f} vs {f['a']['pesq']:.3f}",
            ),
            (
                "PESQ > oracle fixed",
                f["o"]["pesq"] > f["x"]["pesq"],
                f"{f['o']['pesq']:.3f} vs {f['x']['pesq']:.3f}",
            ),
            (
                "Opus PLC/FEC PESQ > generic",
                f["p"]["pesq"] > f["g"]["pesq"],
                f"{f['p']['pesq']:.3f} vs {f['g']['pesq']:.3f}",
            ),
        ]
        if trace.startswith(("pareto_jitter", "route_change")):
            checks.append(
                ("late loss <= 1%", f["o"]["late_loss"] <= 0.01, f"{100 * f['o']['late_loss']:.2f}%")
            )
        for name, ok, detail in checks:
            out.append(f"{'MET   ' if ok else 'MISSED'} {trace:28s} {name:30s} {detail}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_dir = Path(os.environ.get("VOICECORE_EVAL_DIR", REPO.parent / "shared" / "eval"))
    ap.add_argument(
        "--eval-dir", type=Path, default=default_dir, help="default: $VOICECORE_EVAL_DIR or ../shared/eval"
    )
    ap.add_argument("--quick", action="store_true", help="20 s of each trace instead of 60 s")
    ap.add_argument("--no-pesq", action="store_true")
    a = ap.parse_args()
    rows = evaluate(a.eval_dir, 20.0 if a.quick else 60.0, with_pesq=not a.no_pesq)
    print_table(rows)
    print()
    for line in check_targets(rows):
        print(line)


if __name__ == "__main__":
    main()
