"""The package skeleton: version, CLI, error hierarchy."""

from __future__ import annotations

import subprocess
import sys

import pytest

import voicecore
from voicecore import cli


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
