"""Fixtures shared by tests/ and bench/: the evaluation corpus beside the project (../shared/eval)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent


def find_eval_dir() -> Path | None:
    """The shared evaluation corpus: $VOICECORE_EVAL_DIR, else shared/eval beside the repo (or above)."""
    from voicecore.vad.scenes import find_eval_dir as find

    return find(start=REPO_ROOT / "conftest.py")


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    path = find_eval_dir()
    if path is None:
        pytest.skip("eval corpus not found: set VOICECORE_EVAL_DIR or put shared/eval beside the repo")
    return path
