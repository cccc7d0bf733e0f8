"""bench/eval_vad.py on a small subset: the key figures of its table, asserted."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("webrtcvad")
pytest.importorskip("onnxruntime")

EVAL_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "eval_vad.py"


@pytest.fixture(scope="module")
def eval_vad():
    spec = importlib.util.spec_from_file_location("voicecore_bench_eval_vad", EVAL_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", ["white_snr10", "bike_snr05"])
def test_eval_table_row_on_shared_mix(eval_vad, shared_mix, case: str) -> None:
    audio, labels = shared_mix(case)
    n = 40 * 100  # the first 40 s
    res = eval_vad.evaluate(case, audio[: n * 160], labels[:n], quick=True)
    assert res.auc["frame"] >= res.auc["webrtc"] + 0.05
    assert res.auc["silero"] >= 0.93
    # Target: within 0.02 of Silero. On these 40 s the cascade is 0.010 (white) and 0.028 (bike)
    # below Silero (0.007 and 0.031 before held speech deferred to FrameVad's lean to silence, when
    # this bound was 0.035); on the full shared mixes all 16 are within 0.02 (bike_snr05 is 0.018
    # below: bench/eval_vad.py). FrameVad alone is 0.067 below on these 40 s.
    assert res.f1["cascade"] >= res.f1["silero"] - 0.03
    # The onset target (100 ms) is for 10 dB (test_event_timing_on_10db_cases). At 5 dB in bike
    # noise Silero alone takes 100 ms on these 40 s and the cascade 135 ms (Silero resumes after
    # a held rejection only once FrameVad has risen over the noise level): bound it against Silero.
    assert res.onset_ms["cascade"][0] <= max(100, res.onset_ms["silero"][0] + 40)
    assert res.onset_ms["frame"][0] <= 100
    assert res.silero_chunks["frame"] == 0
    assert 0 < res.silero_chunks["cascade"] <= res.silero_chunks["silero"]


def test_extra_seed_base_draws_other_scenes(eval_vad, source_bank) -> None:
    # --extra-seed0 exists to show the cascade figures are not a property of seeds 9100..: a run
    # on another base must really see other audio, and say so in its case names.
    default = eval_vad.extra_cases(source_bank)
    other = eval_vad.extra_cases(source_bank, seed0=12000)
    assert [name for name, _, _ in other] == [name.replace("x_", "x_s12000_", 1) for name, _, _ in default]
    assert len(other) == 16
    for (_, a, _), (_, b, _) in zip(default, other, strict=True):
        assert len(a) != len(b) or not (a == b).all()
