"""``voicecore demo``: an offline scripted conversation through the whole agent pipeline.

Real recordings (shipped in ``voicecore/data/demo``) play the user; the agent's voice comes back into
the microphone through a simulated room (delayed, low-pass filtered, attenuated), the echo canceller
removes it, and the third user utterance barges in while the agent is speaking. A simulated clock
skips idle time, so the demo runs faster than real time while model latencies are real.
"""

from __future__ import annotations

import asyncio
import json
import sys
import wave
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from voicecore.adapters.registry import build_adapters, load_config
from voicecore.agent.clock import SimClock
from voicecore.agent.context import FunctionTool
from voicecore.agent.kernels import make_echo_canceller, make_resampler
from voicecore.agent.session import AgentSession, SessionOptions, Tool
from voicecore.agent.simulate import ConversationResult, RoomSimulator, ScriptedUtterance, run_conversation
from voicecore.audio import int16_to_float32
from voicecore.errors import AudioFormatError, ConfigError

__all__ = ["DEMO_CLIPS", "format_table", "load_wav", "run_demo"]

DEMO_CLIPS = ("ps_goforward", "librivox_ss_0920", "ps_something", "ps_cards_005")
RATE = 16000
METRIC_KEYS = (
    "eou_delay_ms",
    "stt_delay_ms",
    "llm_ttft_ms",
    "tts_ttfb_ms",
    "e2e_latency_ms",
    "voicecore_overhead_ms",
)


def load_wav(path: str | Path, *, sample_rate_hz: int = RATE) -> NDArray[np.float32]:
    """Mono float32 at ``sample_rate_hz`` from a PCM16 WAV file (downmixed, resampled if needed)."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2:
                raise AudioFormatError(
                    f"{path}: only 16-bit PCM WAV is supported; convert it with sox or ffmpeg"
                )
            rate, channels = w.getframerate(), w.getnchannels()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(f"{path}: not a readable WAV file ({exc})") from exc
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file") from exc
    x = int16_to_float32(pcm.reshape(-1, channels).astype(np.int16)).reshape(-1, channels).mean(axis=1)
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.size == 0:
        raise AudioFormatError(f"{path}: the recording is empty")
    if rate != sample_rate_hz:
        r = make_resampler(rate, sample_rate_hz)
        x = np.concatenate([r.process(x), getattr(r, "flush", lambda: np.zeros(0, np.float32))()])
    return x.astype(np.float32, copy=False)


def demo_clip(name: str) -> NDArray[np.float32]:
    ref = resources.files("voicecore").joinpath(f"data/demo/{name}.wav")
    with resources.as_file(ref) as p:
        return load_wav(p)


def default_script() -> list[ScriptedUtterance]:
    a, b, c, d = (demo_clip(n) for n in DEMO_CLIPS)
    return [
        ScriptedUtterance(a, "after_agent", 0.5, "go forward ten meters"),
        ScriptedUtterance(b, "after_agent", 0.8, "had he married a more amiable woman ..."),
        ScriptedUtterance(c, "barge_in", 1.2, "go somewhere and do something (barge-in)"),
        ScriptedUtterance(d, "after_agent", 0.8, "eight of spades four of clubs seven of hearts"),
    ]


def _time_tool() -> Tool:
    return Tool(FunctionTool("get_time", "The current time of day."), lambda: "noon")


async def run_demo(
    *,
    wav: str | None = None,
    echo: bool = True,
    echo_canceller: bool = True,
    config: str | None = None,
    vad: Any = None,
    resampler_factory: Any = None,
) -> tuple[ConversationResult, AgentSession]:
    script = (
        [ScriptedUtterance(load_wav(wav), "after_agent", 0.5, Path(wav).name)] if wav else default_script()
    )
    stt, llm, tts = build_adapters(load_config(config))
    options = SessionOptions(echo_cancellation=echo_canceller, tools=[_time_tool()])
    try:
        session = AgentSession(
            stt=stt,
            llm=llm,
            tts=tts,
            vad=vad,
            clock=SimClock(),
            options=options,
            resampler_factory=resampler_factory,
        )
        async with session:
            result = await run_conversation(session, script, room=RoomSimulator(enabled=echo))
    finally:
        for a in (stt, llm, tts):
            await a.aclose()
    return result, session


def result_json(result: ConversationResult) -> dict[str, Any]:
    return {"turns": result.turns, "self_interruptions": result.self_interruptions}


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{float(v):.0f}"


def format_table(result: ConversationResult, session: AgentSession) -> str:
    lines = ["Transcript:"]
    for i, t in enumerate(result.turns, 1):
        lines.append(f"  [{i}] user : {t['user_transcript']}")
        flag = "  (interrupted: only the played words are kept)" if t["interrupted"] else ""
        lines.append(f"      agent: {t['agent_transcript']}{flag}")
    lines.append("")
    head = ["turn", "eou", "stt", "llm_ttft", "tts_ttfb", "e2e", "overhead", "interrupted"]
    lines.append(
        "Per-turn latency (ms): eou = end of user speech -> end-of-turn decision; e2e = end of user "
        "speech -> first agent audio; overhead = time voicecore added (no model time)"
    )
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for i, t in enumerate(result.turns, 1):
        m = t["metrics"]
        assert isinstance(m, dict)
        lines.append(
            "| "
            + " | ".join([str(i)] + [_fmt(m.get(k)) for k in METRIC_KEYS] + [str(t["interrupted"])])
            + " |"
        )
    stops = ", ".join(f"{v:.0f}" for v in result.stop_latencies_ms) or "-"
    overheads = [
        float(m["voicecore_overhead_ms"])
        for t in result.turns
        if isinstance(m := t["metrics"], dict) and m.get("voicecore_overhead_ms") is not None
    ]
    lines.append("")
    if overheads:
        lines.append(
            f"voicecore overhead per turn: median {np.median(overheads):.1f} ms, "
            f"p95 {np.percentile(overheads, 95):.1f} ms, max {max(overheads):.1f} ms (target <= 20 ms p95)"
        )
    lines.append(
        f"interruptions: {result.interruptions} (self-interruptions: {result.self_interruptions}); "
        f"barge-in stop time after the decision: {stops} ms; echo path: {result.echo}; echo canceller: "
        f"{'on' if session.aec is not None else 'off'}; providers: stt={session.stt.provider} "
        f"llm={session.llm.provider} tts={session.tts.provider}; "
        f"end-of-turn model: {session.turn_detector.name}"
    )
    lines.append(f"simulated {result.sim_s:.1f} s of conversation in {result.wall_s:.1f} s wall time")
    return "\n".join(lines)


def main_demo(args: Any) -> int:
    echo = not args.no_echo
    if echo and not args.no_aec and make_echo_canceller() is None:
        # Without a canceller the agent would talk over itself forever; --no-aec shows exactly that.
        print("voicecore demo: this build has no EchoCanceller; the room echo path is off", file=sys.stderr)
        echo = False
    result, session = asyncio.run(
        run_demo(wav=args.wav, echo=echo, echo_canceller=not args.no_aec, config=args.config)
    )
    if args.json:
        print(json.dumps(result_json(result)))
    else:
        print(format_table(result, session))
    return 0
