"""The agent's own voice comes back through the room into the microphone.

Without echo cancellation it interrupts itself (this is the control that shows the test can fail);
with the EchoCanceller kernel on, it must not.
"""

from __future__ import annotations

import pytest
from agent_fakes import FakeLLM, FakeSTT, FakeTTS, clip, make_vad, resampler_factory, trim

from voicecore.agent.clock import SimClock
from voicecore.agent.kernels import make_echo_canceller
from voicecore.agent.session import AgentSession, SessionOptions
from voicecore.agent.simulate import RoomSimulator, ScriptedUtterance, run_conversation

WORDS = " ".join(f"w{i}" for i in range(20))  # 6 s of the agent speaking (a real voice recording)


async def _run(echo_cancellation: bool) -> tuple[int, int, AgentSession]:
    # The STT hears words in every segment, as a real recognizer does on echoed speech.
    stt = FakeSTT(["tell me something"] + ["echo words"] * 10)
    session = AgentSession(
        stt=stt,
        llm=FakeLLM([WORDS, "Okay."]),
        tts=FakeTTS(seconds_per_word=0.3, voice="librivox_ss_0920"),
        vad=make_vad(),
        clock=SimClock(),
        options=SessionOptions(echo_cancellation=echo_cancellation),
        resampler_factory=resampler_factory(),
    )
    room = RoomSimulator(delay_ms=40, gain_db=-6, cutoff_hz=3500)
    async with session:
        r = await run_conversation(
            session, [ScriptedUtterance(trim(clip("ps_goforward")), delay_s=0.3)], room=room, max_sim_s=20
        )
    return r.self_interruptions, len(r.turns), session


async def test_without_echo_cancellation_the_agent_interrupts_itself() -> None:
    self_interruptions, _, session = await _run(echo_cancellation=False)
    assert session.aec is None
    assert self_interruptions >= 1


async def test_with_echo_cancellation_the_agent_does_not_interrupt_itself() -> None:
    if make_echo_canceller() is None:
        pytest.skip("this build has no EchoCanceller kernel")
    self_interruptions, turns, session = await _run(echo_cancellation=True)
    assert session.aec is not None
    assert self_interruptions == 0
    assert turns == 1
