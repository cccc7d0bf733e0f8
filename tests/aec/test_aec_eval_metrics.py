"""The evaluator's recovery figures on hand-built outputs with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voicecore.dsp.aec_eval import EchoCase, evaluate_output, regenerate_corpus
from voicecore.errors import ConfigError

FS = 16000


def _paused_case() -> EchoCase:
    """White far signal with a pause from 6.2 to 7.2 s; the echo path changes at 6 s."""
    rng = np.random.default_rng(5)
    n = 10 * FS
    far = 0.1 * rng.standard_normal(n)
    far[: FS // 2] = 0.0
    far[int(6.2 * FS) : int(7.2 * FS)] = 0.0
    h = 0.5 * np.exp(-np.arange(64) / 8.0)
    echo = np.convolve(far, h)[:n]
    noise = 1e-4 * rng.standard_normal(n)
    return EchoCase("paused", far, echo + noise, np.zeros(n), echo, FS, 6.0, {})


def _output(case: EchoCase, leak_until_s: float) -> np.ndarray:
    """A perfect canceller except that it passes the microphone from the change to ``leak_until_s``."""
    out = case.mic - case.echo
    a, b = int(6.0 * FS), int(leak_until_s * FS)
    out[a:b] = case.mic[a:b]
    return out


def test_recovery_active_time_leaves_out_a_far_pause() -> None:
    case = _paused_case()
    m = evaluate_output(case, _output(case, 6.2))
    # The first window that reaches 20 dB after the change ends after the pause...
    assert m["recovery_s"] >= 1.2, m
    # ...but the canceller had only the 200 ms before the pause to re-learn from.
    assert 0.2 <= m["recovery_active_s"] <= 0.4, m


def test_recovery_active_time_counts_a_slow_canceller() -> None:
    case = _paused_case()
    m = evaluate_output(case, _output(case, 9.0))
    assert m["recovery_active_s"] >= 1.8, m
    assert m["recovery_s"] >= 3.0, m


def test_regenerate_corpus_needs_the_generator(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no corpus generator"):
        regenerate_corpus(tmp_path, 1, tmp_path / "out")
    assert not (tmp_path / "out").exists()
