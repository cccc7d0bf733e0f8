"""bench/eval_resample.py runs, and its key "high" figures meet the issue's targets."""

from __future__ import annotations

import importlib.util
from pathlib import Path

EVAL = Path(__file__).resolve().parents[2] / "bench" / "eval_resample.py"


def test_eval_quality_row_for_high() -> None:
    spec = importlib.util.spec_from_file_location("eval_resample", EVAL)
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    row = mod.quality_row("high")
    assert row["passband_edge"] >= 0.875
    assert row["stopband_db"] >= 120.0
    assert row["thd_n_db"] <= -120.0
    assert row["alias_db"] <= -120.0
    assert row["latency_ms_16k"] <= 5.0
