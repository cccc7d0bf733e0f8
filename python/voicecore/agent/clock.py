"""Clocks: real time, and a simulated clock that skips idle time (demo and tests).

The simulated clock reads ``time.monotonic() + offset``. A driver that has nothing to wait for
(no model work in flight) *jumps* the offset forward instead of sleeping, so silence and playout of
already-synthesized audio cost no wall time, while model work is still timed in real seconds.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol

__all__ = ["Clock", "RealClock", "SimClock"]


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep_until(self, deadline: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep_until(self, deadline: float) -> None:
        await asyncio.sleep(max(0.0, deadline - self.now()))


class SimClock:
    """Monotonic time plus a skip offset; sleepers are woken by :meth:`wake_due` (the driver)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return time.monotonic() + self._offset

    def jump_to(self, t: float) -> None:
        """Advance to ``t`` immediately (no-op if ``t`` is in the past)."""
        ahead = t - self.now()
        if ahead > 0:
            self._offset += ahead
        self.wake_due()

    def next_deadline(self) -> float | None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    def wake_due(self) -> None:
        now = self.now()
        while self._sleepers and self._sleepers[0][0] <= now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)

    async def sleep_until(self, deadline: float) -> None:
        if deadline <= self.now():
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (deadline, next(self._seq), fut))
        await fut
