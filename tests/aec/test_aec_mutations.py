"""Mutation checks: deliberately broken echo cancellers must fail test_aec_quality.py's thresholds.

Each mutant stands in for a plausible kernel bug. Its output is scored with the same evaluator
(voicecore.dsp.aec_eval) and must miss at least one bound that test_aec_quality.py asserts for
that case. The predicates below restate those bounds; keep them in step with that file.

Findings these checks document (see the review report):
* a canceller that mutes the microphone passes every ERLE/t20 test; only the double-talk and
  near-end-only tests catch it;
* a half-duplex gate (mute while the far end is active) reaches 20.6 dB ERLE on
  c06_dt_ser0_rt250_d50, above that case's 15 dB single-talk bound; the double-talk test catches it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aec_cases import FRAME, corpus_case, run  # noqa: E402

from voicecore.dsp.aec import EchoCanceller  # noqa: E402
from voicecore.dsp.aec_eval import EchoCase, evaluate_output  # noqa: E402

LATENCY = 96  # samples: the canceller's processing delay at 16 kHz (EchoCanceller().latency_samples)


def _single_talk_ok(m: dict[str, float], min_erle: float) -> bool:
    """test_corpus_single_talk_erle's assertions (NaN compares False, so NaN fails)."""
    return bool(m["erle_db"] >= min_erle and m["t20_s"] <= 1.0)


def _double_talk_ok(m: dict[str, float]) -> bool:
    """test_double_talk_keeps_near_end's assertions."""
    return bool(m["near_loss_db"] <= 3.0 and m["seg_snr_db"] >= 3.5 and m["erle_db"] >= 12.0)


def _passthrough(case: EchoCase) -> np.ndarray:
    return np.concatenate([np.zeros(LATENCY), case.mic[:-LATENCY]])


def _mute(case: EchoCase) -> np.ndarray:
    return np.zeros_like(case.mic)


def _half_duplex(case: EchoCase) -> np.ndarray:
    """Mutes every 10 ms frame in which the far end carries signal (a suppressor with no filter)."""
    n = len(case.mic) // FRAME
    far_power = np.mean(case.far[: n * FRAME].reshape(n, FRAME) ** 2, axis=1)
    far_on = np.repeat(far_power > 1e-7, FRAME)
    out = case.mic.copy()
    out[: n * FRAME][far_on] = 0.0
    return np.concatenate([np.zeros(LATENCY), out[:-LATENCY]])


@pytest.mark.parametrize(
    ("name", "min_erle"),
    [("c01_st_rt150_d20", 30.0), ("c02_st_rt250_d80", 30.0), ("c06_dt_ser0_rt250_d50", 15.0)],
)
def test_passthrough_fails_single_talk_erle(eval_dir: Path, name: str, min_erle: float) -> None:
    case = corpus_case(eval_dir, name)
    m = evaluate_output(case, _passthrough(case))
    assert m["erle_db"] < 1.0, m
    assert not _single_talk_ok(m, min_erle), m


@pytest.mark.parametrize(
    "name", ["c06_dt_ser0_rt250_d50", "c08_dt_ser+5_rt200_d30", "c12_nl_hardclip_dt_ser-5_rt200_d150"]
)
@pytest.mark.parametrize("mutant", [_mute, _half_duplex, _passthrough])
def test_mutants_fail_double_talk(eval_dir: Path, name: str, mutant: object) -> None:
    case = corpus_case(eval_dir, name)
    m = evaluate_output(case, mutant(case))  # type: ignore[operator]
    assert not _double_talk_ok(m), m


def test_erle_alone_cannot_catch_gating_mutants(eval_dir: Path) -> None:
    """Muting and half-duplex gating pass ERLE bounds: the near-end tests are what catches them."""
    case = corpus_case(eval_dir, "c01_st_rt150_d20")
    m = evaluate_output(case, _mute(case))
    assert _single_talk_ok(m, 30.0), m
    dt = corpus_case(eval_dir, "c06_dt_ser0_rt250_d50")
    mh = evaluate_output(dt, _half_duplex(dt))
    assert _single_talk_ok(mh, 15.0), mh
    assert not _double_talk_ok(mh), mh
    quiet = corpus_case(eval_dir, "c13_nearend_only_rt300")
    mq = evaluate_output(quiet, _mute(quiet))
    assert not abs(mq["near_loss_db"]) < 0.3, mq


def test_delay_estimator_stuck_at_zero_fails_erle(eval_dir: Path) -> None:
    """The real kernel with its bulk delay pinned to 0 and a 32 ms filter: an 80 ms echo path is out
    of reach, as it would be for a delay estimator that never leaves 0."""
    case = corpus_case(eval_dir, "c02_st_rt250_d80")
    m = evaluate_output(case, run(case, max_delay_ms=0, tail_ms=32))
    assert m["erle_db"] < 10.0, m
    assert not _single_talk_ok(m, 30.0), m


def test_int16_path_equals_rounded_float_path() -> None:
    """test_aec_api.py::test_int16_in_int16_out checks only dtype and shape, which an int16 path
    returning zeros passes; here the int16 output must be the float path's output, rounded."""
    rng = np.random.default_rng(3)
    n = 16000
    far = (0.1 * rng.standard_normal(n) * (np.arange(n) % 4000 < 2500)).astype(np.float32)
    mic = (
        0.5 * np.concatenate([np.zeros(480, np.float32), far[:-480]]) + 1e-3 * rng.standard_normal(n)
    ).astype(np.float32)
    f16 = np.round(far * 32767).astype(np.int16)
    m16 = np.round(mic * 32767).astype(np.int16)
    a, b = EchoCanceller(), EchoCanceller()
    a.push_far(f16)
    y16 = a.process_near(m16)
    b.push_far(f16.astype(np.float32) / 32768)
    yf = b.process_near(m16.astype(np.float32) / 32768)
    assert y16.dtype == np.int16
    expect = np.clip(np.rint(yf.astype(np.float64) * 32768), -32768, 32767)
    assert np.max(np.abs(y16.astype(np.float64) - expect)) <= 1.0
    assert np.abs(y16).max() > 1000  # not silence
