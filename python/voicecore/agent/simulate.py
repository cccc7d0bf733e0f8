"""A simulated room and conversation driver: scripted user recordings in, agent audio out.

The driver plays the part of the audio device. Every ``frame_ms`` it pulls one output frame from the
session, passes it through the room (the agent's voice comes back into the microphone: delayed,
low-pass filtered, attenuated), adds the user's scripted speech and a little noise, and pushes the
mix as the microphone frame. With a :class:`~voicecore.agent.clock.SimClock` it skips wall time
whenever no model work is in flight, so a conversation runs faster than real time while model
latencies are still measured in real seconds.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from voicecore.agent.clock import SimClock
from voicecore.agent.events import AgentEvent, AgentTranscript, TurnMetrics
from voicecore.agent.session import AgentSession

__all__ = ["ConversationResult", "RoomSimulator", "ScriptedUtterance", "run_conversation"]


@dataclass
class ScriptedUtterance:
    """User speech. ``when="after_agent"``: ``delay_s`` after the agent finished (or from the start);
    ``when="barge_in"``: ``delay_s`` after the agent started speaking."""

    audio: NDArray[np.float32]
    when: Literal["after_agent", "barge_in"] = "after_agent"
    delay_s: float = 0.8
    label: str = ""


class RoomSimulator:
    """Echo path: ``gain_db`` attenuation, ``delay_ms`` bulk delay, one-pole low-pass at ``cutoff_hz``,
    plus white sensor noise at ``noise_dbfs``."""

    def __init__(
        self,
        *,
        sample_rate_hz: int = 16000,
        delay_ms: float = 40.0,
        gain_db: float = -10.0,
        cutoff_hz: float = 3000.0,
        noise_dbfs: float = -65.0,
        seed: int = 7,
        enabled: bool = True,
    ) -> None:
        self.enabled = enabled
        self.gain = 10 ** (gain_db / 20)
        self._delay = np.zeros(int(sample_rate_hz * delay_ms / 1000), np.float32)
        self._a = float(np.exp(-2 * np.pi * cutoff_hz / sample_rate_hz))
        self._lp = 0.0
        self._rng = np.random.default_rng(seed)
        self._noise = 10 ** (noise_dbfs / 20)

    def echo(self, played: NDArray[np.float32]) -> NDArray[np.float32]:
        buf = np.concatenate([self._delay, played])
        out, self._delay = buf[: played.size], buf[played.size :]
        y = np.empty_like(out)
        lp, a = self._lp, self._a
        for i, v in enumerate(out):  # 160 samples per call; simple and exact
            lp = (1 - a) * float(v) + a * lp
            y[i] = lp
        self._lp = lp
        noise = self._rng.standard_normal(played.size).astype(np.float32) * self._noise
        return (y * self.gain if self.enabled else np.zeros_like(y)) + noise


@dataclass
class ConversationResult:
    events: list[AgentEvent]
    turns: list[dict[str, object]]
    self_interruptions: int
    interruptions: int
    stop_latencies_ms: list[float]
    wall_s: float
    sim_s: float
    played: NDArray[np.float32]
    mic: NDArray[np.float32]
    user_intervals: list[tuple[float, float]] = field(default_factory=list)
    tick_clock: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))  # clock of each output frame
    echo: bool = True  # the room fed the agent's voice back into the microphone


async def run_conversation(
    session: AgentSession,
    script: list[ScriptedUtterance],
    *,
    room: RoomSimulator | None = None,
    tail_s: float = 1.5,
    max_sim_s: float = 120.0,
) -> ConversationResult:
    """Drive ``session`` through ``script``; the session must use a :class:`SimClock` (or RealClock)."""
    clock = session.clock
    sim = isinstance(clock, SimClock)
    o = session.options
    n = o.sample_rate_hz * o.frame_ms // 1000
    dt = o.frame_ms / 1000
    room = room or RoomSimulator(sample_rate_hz=o.sample_rate_hz)
    wall0 = time.monotonic()
    t0 = clock.now()
    tick = 0
    pending = list(script)
    active: NDArray[np.float32] | None = None
    pos = 0
    user_intervals: list[tuple[float, float]] = []
    agent_speaking_since: float | None = None
    agent_done_at: float | None = t0
    idle_since: float | None = None
    played_log: list[NDArray[np.float32]] = []
    tick_clock: list[float] = []
    mic_log: list[NDArray[np.float32]] = []
    while True:
        now = clock.now()
        if now - t0 > max_sim_s:
            break
        # scheduling of the next scripted utterance
        if session.state == "speaking":
            agent_speaking_since = agent_speaking_since or now
            agent_done_at = None
        elif session._reply is None and agent_done_at is None:
            agent_done_at = now
            agent_speaking_since = None
        if active is None and pending:
            nxt = pending[0]
            go = (
                nxt.when == "after_agent"
                and agent_done_at is not None
                and now - agent_done_at >= nxt.delay_s
                and session._reply is None
                and not session._in_speech
                and session._endpoint_task is None
            ) or (
                nxt.when == "barge_in"
                and agent_speaking_since is not None
                and now - agent_speaking_since >= nxt.delay_s
            )
            if go:
                active, pos = pending.pop(0).audio, 0
                user_intervals.append((now, now + active.size / o.sample_rate_hz))
        tick_clock.append(now)
        played = session.pull_audio().samples
        mic = room.echo(played)
        if active is not None:
            take = active[pos : pos + n]
            mic[: take.size] += take
            pos += n
            if pos >= active.size:
                active = None
        session.push_audio(mic)
        played_log.append(played)
        mic_log.append(mic)
        tick += 1
        # end: script done, agent quiet and nothing pending for tail_s
        quiet = (
            active is None
            and not pending
            and session._reply is None
            and session._preemptive is None
            and not session._in_speech
            and session._endpoint_task is None
            and not session.busy
        )
        if quiet:
            idle_since = idle_since or now
            if now - idle_since >= tail_s:
                break
        else:
            idle_since = None
        target = t0 + tick * dt
        for _ in range(3):
            await asyncio.sleep(0)
        if sim and not session.busy:
            assert isinstance(clock, SimClock)
            clock.jump_to(target)
        else:
            delay = target - clock.now()
            if delay > 0:
                await asyncio.sleep(delay)
            if sim:
                assert isinstance(clock, SimClock)
                clock.wake_due()
        await asyncio.sleep(0)
    turns = summarize_turns(session.events)
    self_int = 0
    win = o.interruption.min_interruption_ms / 1000
    for it in session.interruptions:
        c = float(it["clock"])
        if not any(a <= c and b >= c - win for a, b in user_intervals):
            self_int += 1
    return ConversationResult(
        events=list(session.events),
        turns=turns,
        self_interruptions=self_int,
        interruptions=len(session.interruptions),
        stop_latencies_ms=list(session.stop_latencies_ms),
        wall_s=time.monotonic() - wall0,
        sim_s=clock.now() - t0,
        played=np.concatenate(played_log) if played_log else np.zeros(0, np.float32),
        mic=np.concatenate(mic_log) if mic_log else np.zeros(0, np.float32),
        user_intervals=user_intervals,
        tick_clock=np.array(tick_clock),
        echo=room.enabled,
    )


def summarize_turns(events: list[AgentEvent]) -> list[dict[str, object]]:
    """One entry per agent reply: the user's words, the agent's (played) words, metrics."""
    turns: list[dict[str, object]] = []
    metrics: TurnMetrics | None = None
    for ev in events:
        if isinstance(ev, TurnMetrics):
            metrics = ev
        elif isinstance(ev, AgentTranscript):
            turns.append(
                {
                    "user_transcript": ev.in_reply_to,
                    "agent_transcript": ev.text,
                    "interrupted": ev.interrupted,
                    "metrics": metrics.as_metrics_dict() if metrics else {},
                }
            )
            metrics = None
    return turns
