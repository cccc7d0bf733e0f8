"""AgentSession: scripted conversations through the real pipeline (VAD kernel, playout, turn-taking).

User speech is real recordings; the STT/LLM/TTS adapters are scripted local fakes so that turn
boundaries, barge-in, context truncation, false-interruption resume and fallback are deterministic.
The offline default providers are exercised for real in test_agent_offline.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
from agent_fakes import FakeLLM, FakeSTT, FakeTTS, clip, make_vad, resampler_factory, trim

from voicecore.adapters.fallback import FallbackLLM, FallbackSTT, FallbackTTS
from voicecore.adapters.llm.rules import RulesLLM
from voicecore.agent import (
    AgentTranscript,
    Interrupted,
    SessionOptions,
    UserSpeechStarted,
)
from voicecore.agent.clock import SimClock
from voicecore.agent.context import FunctionTool
from voicecore.agent.session import AgentSession, InterruptionOptions, Tool
from voicecore.agent.simulate import ConversationResult, RoomSimulator, ScriptedUtterance, run_conversation
from voicecore.audio import AudioFrame
from voicecore.errors import AudioFormatError
from voicecore.turn import EndpointingOptions, TextHeuristicModel, TurnDetector, VadOnlyModel

RATE = 16000


def session_with(
    stt: Any, llm: Any, tts: Any, *, options: SessionOptions | None = None, **kw: Any
) -> AgentSession:
    kw.setdefault("turn_detector", TurnDetector(VadOnlyModel()))  # deterministic endpointing for logic tests
    return AgentSession(
        stt=stt,
        llm=llm,
        tts=tts,
        vad=make_vad(),
        clock=SimClock(),
        options=options or SessionOptions(echo_cancellation=False, instructions="test"),
        resampler_factory=resampler_factory(),
        **kw,
    )


async def converse(
    session: AgentSession, script: list[ScriptedUtterance], room: RoomSimulator | None = None
) -> ConversationResult:
    async with session:
        return await run_conversation(
            session, script, room=room or RoomSimulator(enabled=False), max_sim_s=60
        )


def events_of(r: ConversationResult, cls: type) -> list[Any]:
    return [e for e in r.events if isinstance(e, cls)]


def with_gap(a: np.ndarray, gap_s: float, b: np.ndarray) -> np.ndarray:
    return np.concatenate([a, np.zeros(int(gap_s * RATE), np.float32), b]).astype(np.float32)


A = trim(clip("ps_goforward"))
B = trim(clip("librivox_ss_0920"))
C = trim(clip("ps_something"))


# ------------------------------------------------------------------------------- turn taking


async def test_two_turns_are_endpointed_after_min_endpointing_and_answered() -> None:
    stt = FakeSTT(["go forward ten meters", "had he married a more amiable woman"])
    llm = FakeLLM(["Okay, going.", "Noted."])
    s = session_with(stt, llm, FakeTTS())
    r = await converse(s, [ScriptedUtterance(A, delay_s=0.3), ScriptedUtterance(B, delay_s=0.6)])
    assert [(t["user_transcript"], t["agent_transcript"]) for t in r.turns] == [
        ("go forward ten meters", "Okay, going."),
        ("had he married a more amiable woman", "Noted."),
    ]
    for t in r.turns:
        m = t["metrics"]
        assert isinstance(m, dict)
        # VAD-only endpointing: the turn ends min_endpointing_ms after the last speech (frame-quantised).
        assert 500 <= m["eou_delay_ms"] < 620
        assert m["e2e_latency_ms"] >= m["eou_delay_ms"]
    # The LLM saw the conversation so far (system, user, [assistant, user]).
    assert [m.role for m in llm.calls[-1].messages] == ["system", "user", "assistant", "user"]
    assert s.transcript()[-1] == ("assistant", "Noted.")
    assert r.self_interruptions == 0


async def test_text_model_keeps_an_unfinished_turn_open_where_vad_only_splits_it() -> None:
    audio = with_gap(A, 0.9, C)  # one user turn with a 900 ms thinking pause
    texts = ["i would like to go to the", "station please"]

    s_vad = session_with(
        FakeSTT(texts), FakeLLM(["Sure."]), FakeTTS(), turn_detector=TurnDetector(VadOnlyModel())
    )
    r_vad = await converse(s_vad, [ScriptedUtterance(audio, delay_s=0.3)])
    assert [t["user_transcript"] for t in r_vad.turns][:1] == [
        "i would like to go to the"
    ]  # split: false end

    detector = TurnDetector(
        TextHeuristicModel(), EndpointingOptions(min_endpointing_ms=500, max_endpointing_ms=3000)
    )
    llm = FakeLLM(["Sure."])
    s_txt = session_with(FakeSTT(texts), llm, FakeTTS(), turn_detector=detector)
    r_txt = await converse(s_txt, [ScriptedUtterance(audio, delay_s=0.3)])
    assert [t["user_transcript"] for t in r_txt.turns] == ["i would like to go to the station please"]
    assert [m.content for m in s_txt.chat_ctx.messages if m.role == "user"] == [
        "i would like to go to the station please"
    ]
    # Preemptive generation: the LLM started on the first final transcript, before endpointing
    # finished; the user kept talking, so that reply was discarded and never played.
    asked = [c.messages[-1].content for c in llm.calls]
    assert asked == ["i would like to go to the", "i would like to go to the station please"]
    assert [t["agent_transcript"] for t in r_txt.turns] == ["Sure."]
    metrics = r_txt.turns[0]["metrics"]
    assert isinstance(metrics, dict)
    assert metrics["eou_delay_ms"] < 600  # "please" completes the turn: min_endpointing_ms


# ------------------------------------------------------------------------------- interruptions


def _decision_tick(r: ConversationResult, s: AgentSession) -> int:
    c = float(s.interruptions[0]["clock"])
    return int(np.searchsorted(r.tick_clock, c, side="right"))


async def test_barge_in_stops_audio_within_one_frame_and_keeps_only_played_words() -> None:
    words = " ".join(f"word{i}" for i in range(30))  # 30 words * 0.3 s = 9 s of agent speech
    stt = FakeSTT(["tell me a story", "stop please"], interim_after_frames=0)
    tts = FakeTTS(seconds_per_word=0.3)
    s = session_with(stt, FakeLLM([words, "Stopped."]), tts)
    r = await converse(s, [ScriptedUtterance(A, delay_s=0.3), ScriptedUtterance(C, "barge_in", 1.5)])

    assert len(s.interruptions) == 1
    assert r.self_interruptions == 0
    assert s.stop_latencies_ms == [10.0]  # the very next output frame was silent
    k = _decision_tick(r, s)
    frames = r.played.reshape(-1, 160)
    assert np.any(frames[k - 5 : k]), "the agent was speaking before the decision"
    next_reply = next(i for i in range(k + 1, len(frames)) if np.any(frames[i]))
    assert not np.any(frames[k : next_reply - 1][1:]), "no agent audio between the stop and the next reply"
    # The decision came after min_interruption_ms of voiced speech from the onset (VAD start edge);
    # unvoiced hops inside the speech are not counted, so it may come a little later.
    assert 0.5 - 1e-6 <= float(s.interruptions[0]["after_onset_s"]) < 0.8
    assert len(events_of(r, UserSpeechStarted)) >= 2

    interrupted = [m for m in s.chat_ctx.messages if m.interrupted]
    assert len(interrupted) == 1
    kept = interrupted[0].content.split()
    assert 0 < len(kept) < 30
    assert kept == words.split()[: len(kept)]
    played_s = float(s.interruptions[0]["played_samples"]) / RATE
    assert abs(len(kept) - played_s / 0.3) <= 1.0
    ev = events_of(r, AgentTranscript)[0]
    assert ev.interrupted
    assert ev.full_text == words
    assert r.turns[1]["user_transcript"] == "stop please"
    assert r.turns[1]["agent_transcript"] == "Stopped."


async def test_false_interruption_resumes_the_paused_speech() -> None:
    words = " ".join(f"w{i}" for i in range(20))  # 6 s of agent speech
    # The second user segment (a cough/mumble) gets no transcript at all.
    stt = FakeSTT(["tell me more", ""], interim_after_frames=0)
    tts = FakeTTS(seconds_per_word=0.3)
    opts = SessionOptions(
        echo_cancellation=False,
        instructions="test",
        interruption=InterruptionOptions(min_interruption_ms=500, false_interruption_timeout_ms=800),
    )
    s = session_with(stt, FakeLLM([words]), tts, options=opts)
    r = await converse(
        s, [ScriptedUtterance(A, delay_s=0.3), ScriptedUtterance(B[: int(0.9 * RATE)], "barge_in", 1.0)]
    )

    ints = events_of(r, Interrupted)
    assert [i.resumed for i in ints] == [False, True]
    final = events_of(r, AgentTranscript)
    assert len(final) == 1
    assert not final[0].interrupted
    assert final[0].text == words
    # Nothing was dropped: every synthesized sample was played, only later.
    assert (
        int(np.count_nonzero(np.any(r.played.reshape(-1, 160), axis=1))) * 160 >= tts.samples_for(words) - 160
    )
    assert [m.content for m in s.chat_ctx.messages if m.role == "user"] == ["tell me more"]
    assert [m.content for m in s.chat_ctx.messages if m.role == "assistant"] == [words]


async def test_short_user_noise_below_min_interruption_does_not_stop_the_agent() -> None:
    words = " ".join(f"w{i}" for i in range(15))
    s = session_with(FakeSTT(["hi", "mm"]), FakeLLM([words]), FakeTTS())
    r = await converse(
        s, [ScriptedUtterance(A, delay_s=0.3), ScriptedUtterance(C[: int(0.25 * RATE)], "barge_in", 1.0)]
    )
    assert s.interruptions == []
    assert [t["agent_transcript"] for t in r.turns] == [words]


# ------------------------------------------------------------------------------- fallback, tools


async def test_adapter_failures_fall_back_and_the_turn_completes() -> None:
    stt = FallbackSTT([FakeSTT([], fail=True), FakeSTT(["go forward ten meters"])])
    llm = FallbackLLM([FakeLLM(["never"], fail=True), FakeLLM(["Backup reply."])])
    tts = FallbackTTS([FakeTTS(fail=True), FakeTTS()])
    s = session_with(stt, llm, tts)
    r = await converse(s, [ScriptedUtterance(A, delay_s=0.3)])
    assert [(t["user_transcript"], t["agent_transcript"]) for t in r.turns] == [
        ("go forward ten meters", "Backup reply.")
    ]
    assert (stt.failovers, llm.failovers, tts.failovers) == (1, 1, 1)
    assert np.any(r.played), "the fallback TTS was heard"


async def test_tool_call_round_trip_with_the_rules_responder() -> None:
    tool = Tool(FunctionTool("get_time", "current time"), lambda: "noon")
    opts = SessionOptions(echo_cancellation=False, instructions="test", tools=[tool])
    s = session_with(FakeSTT(["what time is it"]), RulesLLM(), FakeTTS(), options=opts)
    r = await converse(s, [ScriptedUtterance(A, delay_s=0.3)])
    assert r.turns[0]["agent_transcript"] == "It is noon."
    roles = [(m.role, m.content, [c.name for c in m.tool_calls]) for m in s.chat_ctx.messages[1:]]
    assert roles == [
        ("user", "what time is it", []),
        ("assistant", "", ["get_time"]),
        ("tool", "noon", []),
        ("assistant", "It is noon.", []),
    ]


# ------------------------------------------------------------------------------- lifecycle, input checks


async def test_no_tasks_left_after_aclose_mid_reply() -> None:
    words = " ".join(f"w{i}" for i in range(40))
    s = session_with(FakeSTT(["hello"]), FakeLLM([words], token_delay_s=0.01), FakeTTS())
    await s.start()
    audio = np.concatenate([np.zeros(RATE // 2, np.float32), A, np.zeros(RATE, np.float32)])
    clock = s.clock
    assert isinstance(clock, SimClock)
    for i in range(0, audio.size - 159, 160):
        s.pull_audio()
        s.push_audio(AudioFrame(audio[i : i + 160], RATE))
        await asyncio.sleep(0)
        clock.jump_to(clock.now() + 0.01)
    for _ in range(200):
        if s.state == "speaking":
            break
        s.pull_audio()
        await asyncio.sleep(0.005)
        clock.jump_to(clock.now() + 0.01)
    assert s.state in ("thinking", "speaking")
    await s.aclose()
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_bad_mic_audio_is_rejected_with_typed_errors() -> None:
    s = session_with(FakeSTT([]), FakeLLM(["x"]), FakeTTS())
    async with s:
        with pytest.raises(AudioFormatError, match="float32"):
            s.push_audio(np.zeros(160, np.float64))  # type: ignore[arg-type]
        with pytest.raises(AudioFormatError, match="NaN"):
            s.push_audio(np.full(160, np.nan, np.float32))
        with pytest.raises(AudioFormatError, match="48000 Hz"):
            s.push_audio(AudioFrame(np.zeros(480, np.float32), 48000))
        with pytest.raises(AudioFormatError, match="1-D"):
            s.push_audio(np.zeros((160, 2), np.float32))


async def test_stt_stream_failure_is_reported_and_the_session_keeps_listening() -> None:
    class FlakySTT(FakeSTT):
        def __init__(self) -> None:
            super().__init__(["go forward ten meters"])
            self.opened = 0

        def stream(self):  # type: ignore[no-untyped-def]
            self.opened += 1
            self.fail = self.opened == 1  # the first stream breaks on its first frame
            return super().stream()

    stt = FlakySTT()
    s = session_with(stt, FakeLLM(["Fine."]), FakeTTS())
    r = await converse(s, [ScriptedUtterance(A, delay_s=1.0)])
    errors = [e for e in r.events if type(e).__name__ == "ErrorEvent"]
    assert len(errors) == 1
    assert errors[0].source == "stt"
    assert stt.opened == 2
    turns = [(t["user_transcript"], t["agent_transcript"]) for t in r.turns]
    assert turns == [("go forward ten meters", "Fine.")]
