"""Smoke benchmark of the package itself: importing and querying build info."""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from voicecore import _core


@pytest.mark.benchmark(group="package")
def test_build_info(benchmark: BenchmarkFixture) -> None:
    info = benchmark(_core.build_info)
    assert "scalar" in info["isa_paths"]
