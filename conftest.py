"""Fixtures shared by tests/ and bench/: the evaluation corpus beside the project (../shared/eval)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent


def find_eval_dir() -> Path | None:
    """The shared evaluation corpus: $VOICECORE_EVAL_DIR, else ../shared/eval beside the repo."""
    env = os.environ.get("VOICECORE_EVAL_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO_ROOT.parent / "shared" / "eval")
    for path in candidates:
        if path.is_dir():
            return path
    return None


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    path = find_eval_dir()
    if path is None:
        pytest.skip("eval corpus not found: set VOICECORE_EVAL_DIR or put shared/eval beside the repo")
    return path
