"""Per-frame cost of the agent's hot path: ``push_audio`` (echo canceller, SpeechDetector, STT feed)
plus ``pull_audio`` (playout, far reference) for one 10 ms frame while the agent is speaking.

There is no peer in this run: pipecat and livekit-agents cannot be imported without their heavy
dependency trees, which the test extra does not install. The per-turn time voicecore adds is measured
end to end by ``voicecore demo`` (the ``voicecore_overhead_ms`` column).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest

from voicecore.adapters.base import STT, TTS, STTStream
from voicecore.adapters.llm.rules import RulesLLM
from voicecore.agent.clock import SimClock
from voicecore.agent.kernels import make_speech_detector
from voicecore.agent.session import AgentSession, SessionOptions
from voicecore.audio import AudioFrame
from voicecore.errors import ConfigError
from voicecore.turn import TurnDetector


class _SilentSTT(STT):
    provider = "none"

    def stream(self) -> STTStream:
        class _S(STTStream):
            async def _run(self, inp: asyncio.Queue[object], out: asyncio.Queue[object]) -> None:
                while not self.is_end(await inp.get()):
                    pass

        return _S(self, self.conn)


class _ToneTTS(TTS):
    provider = "tone"
    sample_rate_hz = 16000

    async def _synthesize(self, text: str) -> AsyncIterator[AudioFrame]:
        yield AudioFrame(np.zeros(160, np.float32), 16000)


@pytest.mark.benchmark(group="agent-frame")
@pytest.mark.parametrize("echo_cancellation", [False, True])
def test_bench_session_frame_while_speaking(benchmark, echo_cancellation: bool) -> None:  # type: ignore[no-untyped-def]
    try:
        vad = make_speech_detector("frame", min_silence_ms=250)
    except ConfigError:
        pytest.skip("this build has no SpeechDetector")
    loop = asyncio.new_event_loop()
    rng = np.random.default_rng(3)
    agent_voice = (0.1 * np.sin(2 * np.pi * 220 * np.arange(16000 * 30) / 16000)).astype(np.float32)
    mic = (rng.standard_normal(160 * 4000) * 1e-3).astype(np.float32)

    async def setup() -> AgentSession:
        s = AgentSession(
            stt=_SilentSTT(),
            llm=RulesLLM(),
            tts=_ToneTTS(),
            vad=vad,
            clock=SimClock(),
            turn_detector=TurnDetector(),
            options=SessionOptions(echo_cancellation=echo_cancellation),
        )
        await s.start()
        return s

    s = loop.run_until_complete(setup())
    if echo_cancellation and s.aec is None:
        loop.run_until_complete(s.aclose())
        loop.close()
        pytest.skip("this build has no EchoCanceller")

    class _Owner:
        def on_played(self, segment_id: int, num_samples: int, now: float) -> None:
            pass

    pos = [0]

    owner = _Owner()

    def one_frame() -> float:
        if s.output.queued_samples() < 16000:  # keep the agent talking however many rounds run
            s.output.enqueue(owner, 0, agent_voice)
        out = s.pull_audio()
        i = pos[0] % 4000
        pos[0] += 1
        s.push_audio(AudioFrame(mic[i * 160 : (i + 1) * 160], 16000))
        return float(np.abs(out.samples).max())

    peak = benchmark(one_frame)
    assert peak > 0.05  # the agent's audio was played through the output path
    loop.run_until_complete(s.aclose())
    loop.close()
