"""End-of-turn detection: the numpy Whisper log-mel front end, the text heuristic, Smart Turn v3.2,
and the evaluation on a subset of shared/eval/turns (bench/eval_turns.py prints the full table)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from voicecore.errors import ConfigError
from voicecore.turn import (
    EndpointingOptions,
    SmartTurnModel,
    TextHeuristicModel,
    TurnDetector,
    find_smart_turn_model,
    whisper_log_mel,
)
from voicecore.turn.mel import mel_filterbank

REPO = Path(__file__).resolve().parents[2]


def _eval_turns():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("eval_turns", REPO / "bench" / "eval_turns.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["eval_turns"] = mod  # dataclasses need the module registered
    spec.loader.exec_module(mod)
    return mod


def test_log_mel_shape_range_and_tone_lands_in_the_right_band() -> None:
    t = np.arange(128000) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    feats = whisper_log_mel(tone, num_frames=800)
    assert feats.shape == (80, 800)
    assert feats.dtype == np.float32
    # log10 clamped to max-8 then (x+4)/4: the dynamic range is exactly 2.0
    assert feats.max() - feats.min() == pytest.approx(2.0, abs=1e-5)
    fb = mel_filterbank()
    expected_band = int(np.argmax(fb[:, int(round(1000 / 40))]))  # 40 Hz bins with n_fft=400
    assert abs(int(np.argmax(feats[:, 400])) - expected_band) <= 1
    # Slaney-normalised triangles: the area-normalised filters get narrower peaks as they widen.
    assert fb.shape == (80, 201)
    assert np.all(fb >= 0)
    assert fb[0].max() > fb[-1].max()


def test_text_heuristic_flags_trailing_conjunctions_and_fillers() -> None:
    m = TextHeuristicModel()
    assert m.predict(np.zeros(0, np.float32), "i want to go to the") < 0.5
    assert m.predict(np.zeros(0, np.float32), "and then um") < 0.5
    assert m.predict(np.zeros(0, np.float32), "go forward ten meters") >= 0.5
    assert m.predict(np.zeros(0, np.float32), "Is it raining?") >= 0.5
    det = TurnDetector(m, EndpointingOptions(min_endpointing_ms=400, max_endpointing_ms=2500))
    assert det.endpoint_delay_ms(np.zeros(0, np.float32), "because")[0] == 2500.0
    assert det.endpoint_delay_ms(np.zeros(0, np.float32), "that is all")[0] == 400.0
    with pytest.raises(ConfigError):
        EndpointingOptions(min_endpointing_ms=900, max_endpointing_ms=500)


@pytest.mark.skipif(
    find_smart_turn_model() is None, reason="pipecat-ai wheel (Smart Turn ONNX) not installed"
)
def test_smart_turn_separates_finished_from_cut_sentences(eval_dir: Path) -> None:
    ev = _eval_turns()
    m = SmartTurnModel()
    audio = ev.read_wav(eval_dir / "turns" / "t00.wav")
    # t00 turn 0 ends at 4.10 s ("... in the conference."); 2.5 s is mid-sentence.
    done = m.predict(audio[: int(4.3 * 16000)])
    cut = m.predict(audio[: int(2.5 * 16000)])
    assert done > 0.5 > cut
    # Every agent session builds its own model; they share one onnxruntime session (the weights).
    other = SmartTurnModel()
    assert other._session is m._session
    assert other.predict(audio[: int(4.3 * 16000)]) == done


@pytest.mark.skipif(
    find_smart_turn_model() is None, reason="pipecat-ai wheel (Smart Turn ONNX) not installed"
)
def test_smart_turn_has_fewer_false_ends_than_vad_only_at_the_same_median_latency(eval_dir: Path) -> None:
    ev = _eval_turns()
    items = ["t02", "t05", "t08", "t11", "t14"]
    rows = ev.run(eval_dir, items, vad="labels", models=("vad-only", "smart-turn"))
    st = next(r for r in rows if r["method"] == "smart-turn" and r["setting"].startswith("min 500"))
    vad_at_same = ev.matched_vad_false_eot(rows, float(st["median_ms"]))
    assert st["internal"] >= 8
    assert st["false_eot"] < vad_at_same
    assert st["false_eot"] <= 0.6 * vad_at_same


@pytest.mark.skipif(
    find_smart_turn_model() is None, reason="pipecat-ai wheel (Smart Turn ONNX) not installed"
)
def test_smart_turn_advantage_holds_on_turn_items_built_with_another_seed(
    eval_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("soundfile")
    spec = importlib.util.spec_from_file_location("make_corpus", eval_dir / "make_corpus.py")
    assert spec is not None
    assert spec.loader is not None
    mc = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = mc
    spec.loader.exec_module(mc)
    mc.SEED = 4242  # not the corpus seed: items the detector was never looked at on
    mc.build_turns(mc.Sources(str(eval_dir / "sources")), str(tmp_path))
    ev = _eval_turns()
    rows = ev.run(
        tmp_path, ["t01", "t04", "t07", "t10", "t13"], vad="labels", models=("vad-only", "smart-turn")
    )
    st = next(r for r in rows if r["method"] == "smart-turn" and r["setting"].startswith("min 500"))
    assert st["internal"] >= 8
    assert st["false_eot"] < ev.matched_vad_false_eot(rows, float(st["median_ms"]))
