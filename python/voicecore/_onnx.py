"""Process-wide onnxruntime sessions, shared by every stream that runs the same model.

A session holds the model's weights and may run from several threads at once; what is per stream
(recurrent state, context, I/O bindings) lives in the caller. Silero VAD and Smart Turn build one
model object per agent session, and with a session each they held about 10 MiB apiece and, with
many streams stepped in turn, evicted one another's weights from the cache (see their modules).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

_SESSIONS: dict[Hashable, Any] = {}
_LOCK = threading.Lock()


def shared_session(key: Hashable, create: Callable[[], Any]) -> Any:
    """The session cached under ``key`` (the model file and whatever settings it was built with),
    made by ``create()`` the first time."""
    with _LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            session = _SESSIONS[key] = create()
        return session
