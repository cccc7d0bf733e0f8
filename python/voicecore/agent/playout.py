"""The agent's output audio buffer: paced pulls by the audio device, with playout tracking.

The device (WebRTC track, the demo's simulated room, a test) calls :meth:`AudioOutput.pull` once
per output frame. Interrupting is :meth:`pause` / :meth:`clear`: the very next pull returns silence,
so outgoing audio stops within one frame of the decision.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from voicecore.audio import AudioFrame

__all__ = ["AudioOutput", "PlayoutListener"]


class PlayoutListener(Protocol):
    def on_played(self, segment_id: int, num_samples: int, now: float) -> None: ...


class AudioOutput:
    def __init__(
        self,
        sample_rate_hz: int,
        frame_ms: int,
        now: Callable[[], float],
        on_frame: Callable[[NDArray[np.float32]], None] | None = None,
    ) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.frame_samples = sample_rate_hz * frame_ms // 1000
        self._now = now
        self._on_frame = on_frame
        self._queue: deque[tuple[PlayoutListener, int, NDArray[np.float32]]] = deque()
        self._head = 0  # samples of the first queued chunk already played
        self._paused = False
        self.frames_pulled = 0
        self.last_pull_clock: float | None = None
        self.active_frames = 0  # pulled frames that carried agent audio

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    def queued_samples(self, owner: PlayoutListener | None = None) -> int:
        total = sum(c[2].size for c in self._queue if owner is None or c[0] is owner)
        if self._queue and (owner is None or self._queue[0][0] is owner):
            total -= self._head
        return total

    def has_audio(self, owner: PlayoutListener) -> bool:
        return any(c[0] is owner for c in self._queue)

    def enqueue(self, owner: PlayoutListener, segment_id: int, samples: NDArray[np.float32]) -> None:
        if samples.size:
            self._queue.append((owner, segment_id, samples))

    def clear(self, owner: PlayoutListener | None = None) -> int:
        """Drop queued audio (of ``owner`` only, if given); returns the samples dropped."""
        dropped = self.queued_samples(owner)
        if owner is None:
            self._queue.clear()
            self._head = 0
        else:
            keep = deque(c for c in self._queue if c[0] is not owner)
            if self._queue and self._queue[0][0] is owner:
                self._head = 0
            self._queue = keep
        return dropped

    def pull(self, num_samples: int | None = None) -> AudioFrame:
        """The next output frame (silence when paused or nothing is queued)."""
        n = num_samples or self.frame_samples
        now = self._now()
        out = np.zeros(n, np.float32)
        filled = 0
        if not self._paused:
            while filled < n and self._queue:
                owner, seg, chunk = self._queue[0]
                take = min(n - filled, chunk.size - self._head)
                out[filled : filled + take] = chunk[self._head : self._head + take]
                filled += take
                self._head += take
                if self._head >= chunk.size:
                    self._queue.popleft()
                    self._head = 0
                owner.on_played(seg, take, now)
        self.frames_pulled += 1
        if filled:
            self.active_frames += 1
        self.last_pull_clock = now
        if self._on_frame is not None:
            self._on_frame(out)
        return AudioFrame(out, self.sample_rate_hz, 1, now)
