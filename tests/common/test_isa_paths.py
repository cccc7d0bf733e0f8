"""The portable kernels, forced with VOICECORE_ISA=baseline, against the AVX2 ones on this CPU.

The dispatch is fixed per process, so the baseline side runs in a subprocess. Without this test the
portable AEC kernels would be compiled but never run on a machine that has AVX2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import voicecore
from voicecore import _core
from voicecore.dsp.aec_eval import EchoCase, evaluate_output

CASE = "c01_st_rt150_d20"


def _load(eval_dir: Path) -> EchoCase:
    d = eval_dir / "aec" / CASE
    far, mic, near, echo = (
        sf.read(str(d / f"{n}.wav"), dtype="float64")[0] for n in ("far", "mic", "nearend_clean", "echo")
    )
    return EchoCase(CASE, far, mic, near, echo, 16000, None, {})


def _cancel(case: EchoCase) -> np.ndarray:
    ec = voicecore.EchoCanceller(sample_rate_hz=16000, frame_ms=10)
    far, mic = case.far.astype(np.float32), case.mic.astype(np.float32)
    out = np.zeros(len(mic) // 160 * 160, np.float32)
    for i in range(0, len(out), 160):
        ec.push_far(far[i : i + 160])
        out[i : i + 160] = ec.process_near(mic[i : i + 160])
    return out.astype(np.float64)


def _resample_here() -> np.ndarray:
    x = np.random.default_rng(5).standard_normal(48000).astype(np.float32) * 0.1
    return np.asarray(voicecore.Resampler(48000, 16000).process(x))


# The child imports this very file, so both sides run the same code.
_CHILD = r"""
import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, sys.argv[4])
import test_isa_paths as t
from voicecore import _core

out_dir, eval_dir = Path(sys.argv[1]), Path(sys.argv[2])
(out_dir / "isa.txt").write_text(_core.build_info()["isa_paths"])
np.save(out_dir / "aec.npy", t._cancel(t._load(eval_dir)))
np.save(out_dir / "resample.npy", t._resample_here())
"""


def test_baseline_kernels_match_the_dispatched_ones(eval_dir: Path, tmp_path: Path) -> None:
    here_dir = Path(__file__).resolve().parent
    env = dict(os.environ, VOICECORE_ISA="baseline")
    subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path), str(eval_dir), CASE, str(here_dir)],
        env=env,
        check=True,
        timeout=300,
    )

    # The override must actually take effect, or the comparison below compares a path with itself.
    assert (tmp_path / "isa.txt").read_text() == "scalar"
    here_isa = _core.build_info()["isa_paths"]

    case = _load(eval_dir)
    base = np.load(tmp_path / "aec.npy")
    here = _cancel(case)
    erle_base = evaluate_output(case, base)["erle_db"]
    erle_here = evaluate_output(case, here)["erle_db"]
    # Both paths are the same algorithm; only summation order differs, which an adaptive filter
    # amplifies a little over time, so the quality figures must agree rather than the samples.
    assert erle_base > 30.0, f"baseline AEC kernels: ERLE {erle_base:.1f} dB"
    assert abs(erle_base - erle_here) < 0.5, (erle_base, erle_here, here_isa)
    head = 16000  # the first second, before rounding differences can accumulate
    err = np.sqrt(np.mean((base[:head] - here[:head]) ** 2) / np.mean(case.mic[:head] ** 2))
    assert err < 1e-4, f"first-second relative difference {err:.2e} ({here_isa} vs scalar)"

    rs_base = np.load(tmp_path / "resample.npy")
    rs_here = _resample_here()
    assert rs_base.shape == rs_here.shape
    np.testing.assert_allclose(rs_base, rs_here, atol=1e-6)


def test_unknown_isa_value_is_ignored(tmp_path: Path) -> None:
    if os.environ.get("VOICECORE_ISA"):
        pytest.skip("VOICECORE_ISA is set for the whole run")
    out = subprocess.run(
        [sys.executable, "-c", "from voicecore import _core; print(_core.build_info()['isa_paths'])"],
        env=dict(os.environ, VOICECORE_ISA="bogus"),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.strip() == _core.build_info()["isa_paths"]
