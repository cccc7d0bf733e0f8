"""Mutation checks: degenerate jitter buffers must fail the bounds the jitter tests assert.

Mutants: the oracle fixed buffer at the trace's p95 delay (bench/jitter_sim.run_fixed), the real
kernel with its target pinned (min_delay_ms == max_delay_ms: adaptation broken, a fixed margin over
the fastest path) and concealment replaced by silence. The bounds are restated from
test_jitter_traces.py, test_jitter_adaptation.py and test_jitter_concealment.py.

Finding documented here: a target pinned at 20 ms (pareto_jitter) or 40 ms (route_change) passes
test_trace_figures' late-loss and delay bounds on that trace (pinned at 40 ms the PESQ is 4.06 on
pareto_jitter and 3.94 on route_change, against ours 3.60 / 4.02); the spike test in
test_jitter_adaptation.py is what catches a target that does not adapt.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jitter_helpers  # noqa: F401  (puts bench/ on sys.path)
import numpy as np
import pytest
from test_jitter_adaptation import _run, _stall
from test_jitter_concealment import _segment_snr, _with_losses

import jitter_sim as js
import voicecore

SECONDS = 30.0


def _pinned(delay_ms: int) -> functools.partial[voicecore.JitterBuffer]:
    return functools.partial(voicecore.JitterBuffer, min_delay_ms=delay_ms, max_delay_ms=delay_ms)


@pytest.fixture(scope="module")
def speech(eval_dir: Path):  # noqa: ANN201
    return js.speech_signal(eval_dir, SECONDS, seed=1)


def _trace_ok(mo: dict[str, float], mf: dict[str, float], ma: dict[str, float] | None = None) -> bool:
    """test_trace_figures' late-loss and delay bounds (non-combined traces)."""
    ok = mo["late_loss"] <= 0.01 and mo["mean_delay"] <= mf["mean_delay"] + 20.0
    return bool(ok and (ma is None or mo["mean_delay"] <= ma["mean_delay"] / 3))


def _load(eval_dir: Path, name: str) -> js.Trace:
    return js.load_trace(eval_dir / "traces" / f"{name}.csv").head(int(SECONDS * 50))


@pytest.mark.parametrize("name", ["pareto_jitter", "route_change"])
def test_oracle_fixed_buffer_fails_late_loss(eval_dir: Path, speech, name: str) -> None:  # noqa: ANN001
    _, x48 = speech
    tr = _load(eval_dir, name)
    mf = js.run_fixed(tr, x48, float(np.percentile(tr.delays(), 95))).metrics()
    assert mf["late_loss"] > 0.04  # the 5 % of packets beyond p95
    assert not _trace_ok(mf, mf), mf


def test_generous_fixed_margin_fails_delay_bound(
    eval_dir: Path, speech, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    _, x48 = speech
    tr = _load(eval_dir, "pareto_jitter")
    mf = js.run_fixed(tr, x48, float(np.percentile(tr.delays(), 95))).metrics()
    monkeypatch.setattr(voicecore, "JitterBuffer", _pinned(80))
    mo = js.run_ours(tr, x48).metrics()
    assert mo["late_loss"] <= 0.01  # no late loss, but 115 ms mean delay against 44 + 20
    assert not _trace_ok(mo, mf), (mo, mf)


@pytest.mark.parametrize(("name", "pinned_ms"), [("pareto_jitter", 20), ("route_change", 40)])
def test_pinned_target_passes_one_trace(
    eval_dir: Path, speech, name: str, pinned_ms: int, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    """The hole: for each trace some non-adapting target meets test_trace_figures' delay bounds."""
    _, x48 = speech
    tr = _load(eval_dir, name)
    mf = js.run_fixed(tr, x48, float(np.percentile(tr.delays(), 95))).metrics()
    ma = js.run_aiortc(tr, x48).metrics()
    monkeypatch.setattr(voicecore, "JitterBuffer", _pinned(pinned_ms))
    assert _trace_ok(js.run_ours(tr, x48).metrics(), mf, ma)


def test_pinned_target_fails_spike_rise(monkeypatch: pytest.MonkeyPatch) -> None:
    """test_target_rises_at_once_and_drains_within_seconds_by_stretching on a non-adapting target."""
    monkeypatch.setattr(voicecore, "JitterBuffer", _pinned(20))
    _, trace = _run(_stall(500, at_ms=4000.0, stall_ms=400.0))
    tgt_before = max(g for t, _, _, g in trace if 3000 <= t < 3900)
    tgt_after = max(g for t, _, _, g in trace if 4400 <= t <= 4440)
    assert not tgt_after > tgt_before + 120.0, (tgt_before, tgt_after)


def test_silence_instead_of_concealment_fails_segment_snr() -> None:
    lost = set(range(20, 140, 12))  # test_single_losses_are_concealed_far_better_than_silence
    x, out, kinds, stamps, _ = _with_losses(lost)
    muted = out.copy()
    frame = 480
    for i, k in enumerate(kinds):
        if k == "expand":
            muted[i * frame : (i + 1) * frame] = 0.0
    assert _segment_snr(x, out, stamps, kinds) > 6.0
    assert _segment_snr(x, muted, stamps, kinds) < 1.0
