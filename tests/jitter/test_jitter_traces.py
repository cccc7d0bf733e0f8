"""Per-trace figures against aiortc and the oracle fixed buffer (a subset of bench/eval_jitter.py)."""

from __future__ import annotations

from pathlib import Path

import jitter_helpers  # noqa: F401  (puts bench/ on sys.path)
import numpy as np
import pytest

import jitter_sim as js

SECONDS = 30.0


@pytest.fixture(scope="module")
def speech(eval_dir: Path):  # noqa: ANN201
    return js.speech_signal(eval_dir, SECONDS, seed=1)


def _trace(eval_dir: Path, name: str) -> js.Trace:
    if "@" in name:
        model, seed = name.split("@")
        return js.generate_trace(model, int(seed), SECONDS)
    return js.load_trace(eval_dir / "traces" / f"{name}.csv").head(int(SECONDS * 50))


@pytest.mark.parametrize("name", ["pareto_jitter", "route_change", "route_change@41", "combined_mobile@41"])
def test_trace_figures(eval_dir: Path, speech, name: str) -> None:  # noqa: ANN001
    x16, x48 = speech
    tr = _trace(eval_dir, name)
    p95 = float(np.percentile(tr.delays(), 95))
    ours = js.run_ours(tr, x48)
    ai = js.run_aiortc(tr, x48)
    fixed = js.run_fixed(tr, x48, p95)
    mo, ma, mf = ours.metrics(), ai.metrics(), fixed.metrics()
    if not name.startswith("combined"):
        assert mo["late_loss"] <= 0.01, mo
        assert mo["mean_delay"] <= mf["mean_delay"] + 20.0, (mo, mf)
    assert mo["mean_delay"] <= ma["mean_delay"] / 3, (mo, ma)
    # concealment = lost + late packets, plus waiting out a link stall (400 ms in combined_mobile)
    stall = 0.4 / SECONDS if name.startswith("combined") else 0.0
    assert mo["conceal"] <= mo["net_loss"] + mo["late_loss"] + stall + 0.005, mo
    q_ours, q_ai, q_fixed = (js.pesq_chunks(x16, r) for r in (ours, ai, fixed))
    assert q_ours > q_ai, (q_ours, q_ai)
    assert q_ours > q_fixed, (q_ours, q_fixed)
    assert q_ours > 2.5
