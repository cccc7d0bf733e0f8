"""The binding releases the GIL while the kernel runs (timing-free proofs)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from voicecore import ConfigError, Resampler


@pytest.fixture
def no_gil_preemption() -> Iterator[None]:
    # With a huge switch interval the interpreter never takes the GIL from a running
    # thread, so another thread can run only where the running one gives it up itself.
    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _order_of_events(work: object) -> list[str]:
    events: list[str] = []
    started = threading.Event()

    def worker() -> None:
        started.set()
        work()  # type: ignore[operator]
        events.append("worker done")

    t = threading.Thread(target=worker)
    t.start()
    started.wait()
    # The main thread can get here before the worker is done only if the worker gave up
    # the GIL somewhere (the switch interval never forces it to).
    events.append("main ran")
    t.join()
    return events


@pytest.mark.usefixtures("no_gil_preemption")
def test_process_releases_the_gil() -> None:
    r = Resampler(48000, 16000, quality="very_high")
    x = np.random.default_rng(0).standard_normal(12000).astype(np.float32) * 0.1

    def work() -> None:
        # 100 kernel calls with pure Python between them: the main thread has 100 chances
        # to run while a kernel is busy, so OS scheduling jitter cannot make this flaky.
        for _ in range(100):
            r.process(x)

    assert _order_of_events(work) == ["main ran", "worker done"]


@pytest.mark.usefixtures("no_gil_preemption")
def test_a_gil_holding_worker_is_detected() -> None:
    # Control: a worker that never releases the GIL (pure Python) finishes first, so the
    # check above really distinguishes the two cases.
    def work() -> None:
        total = 0
        for i in range(2_000_000):
            total += i

    events = _order_of_events(work)
    assert events == ["worker done", "main ran"]


def test_two_threads_on_one_instance_cannot_corrupt_it() -> None:
    # While a worker is inside process(), a second call on the same instance raises
    # instead of racing on the history.
    r = Resampler(48000, 16000, quality="very_high")
    x = np.zeros(12000, np.float32)
    errors: list[str] = []
    inside = threading.Event()

    def worker() -> None:
        inside.set()
        # With no preemption the main thread can only run while one of these calls is
        # inside the kernel (GIL released), i.e. exactly when it must be refused.
        for _ in range(100):
            r.process(x)

    t = threading.Thread(target=worker)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        t.start()
        inside.wait()
        try:
            r.process(np.zeros(480, np.float32))
        except ConfigError as e:
            errors.append(str(e))
    finally:
        t.join()
        sys.setswitchinterval(old)
    assert len(errors) == 1
    assert "already running in another thread" in errors[0]
    # The instance is usable again afterwards.
    assert len(r.process(np.zeros(4800, np.float32))) > 0
