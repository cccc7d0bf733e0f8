"""The one place with cancellation code: :func:`cancel_and_wait` and a small task tracker.

Rule: a ``CancelledError`` raised because *our* task was cancelled always propagates; one raised by
the child we are cancelling is consumed here, and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["TaskSet", "cancel_and_wait"]

T = TypeVar("T")
_log = logging.getLogger("voicecore.aio")


async def cancel_and_wait(*futures: asyncio.Future[Any] | None) -> None:
    """Cancel ``futures`` and wait until they have all finished.

    If the *calling* task is cancelled while it waits, the children are still cancelled and the
    caller's ``CancelledError`` propagates (checked with ``Task.cancelling()``, as pipecat does).
    Exceptions of the children are retrieved (so asyncio does not log them) but not raised.
    """
    pending = [f for f in futures if f is not None and not f.done()]
    for f in pending:
        f.cancel()
    current = asyncio.current_task()
    baseline = current.cancelling() if current is not None else 0
    for f in pending:
        try:
            await f
        except asyncio.CancelledError:
            if current is not None and current.cancelling() > baseline:
                raise
        except Exception:  # noqa: BLE001 - the child's error is logged, not re-raised, on purpose
            _log.debug("task ended with an error while being cancelled", exc_info=True)
    for fut in futures:
        if fut is not None and fut.done() and not fut.cancelled():
            with contextlib.suppress(Exception):
                fut.exception()


class TaskSet:
    """Tracks child tasks (holds references, logs failures) and cancels them all on :meth:`aclose`."""

    def __init__(self, name: str = "voicecore") -> None:
        self._name = name
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str | None = None) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro, name=f"{self._name}:{name or 'task'}")
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("task %s failed", task.get_name(), exc_info=task.exception())

    @property
    def tasks(self) -> frozenset[asyncio.Task[Any]]:
        return frozenset(self._tasks)

    async def aclose(self) -> None:
        await cancel_and_wait(*list(self._tasks))
