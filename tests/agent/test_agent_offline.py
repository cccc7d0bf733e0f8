"""The offline default providers for real (pocketsphinx, Piper, espeak-ng, the rules responder), and
provider selection by configuration: swapping providers changes no agent code."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from agent_fakes import clip, make_vad, resampler_factory, trim

from voicecore.adapters import registry
from voicecore.adapters.base import LLM, STT, TTS
from voicecore.adapters.fallback import FallbackTTS
from voicecore.adapters.llm.rules import RulesLLM
from voicecore.agent.clock import SimClock
from voicecore.agent.session import AgentSession, SessionOptions
from voicecore.agent.simulate import RoomSimulator, ScriptedUtterance, run_conversation
from voicecore.audio import AudioFrame
from voicecore.errors import ConfigError

pytest.importorskip("pocketsphinx")

GRAMMAR = textwrap.dedent("""\
    #JSGF V1.0;
    grammar commands;
    public <command> = go forward ten meters | go somewhere and do something | stop | hello;
""")


async def run_agent(
    stt: STT, llm: LLM, tts: TTS, script: list[ScriptedUtterance]
) -> tuple[Any, AgentSession]:
    """The agent code under test: identical whichever providers the configuration picked."""
    session = AgentSession(
        stt=stt,
        llm=llm,
        tts=tts,
        vad=make_vad(),
        clock=SimClock(),
        options=SessionOptions(echo_cancellation=False),
        resampler_factory=resampler_factory(),
    )
    async with session:
        result = await run_conversation(session, script, room=RoomSimulator(enabled=False), max_sim_s=40)
    return result, session


async def test_pocketsphinx_grammar_transcribes_real_speech_in_a_stream() -> None:
    from voicecore.adapters.stt.pocketsphinx import PocketsphinxSTT

    async with PocketsphinxSTT(grammar=GRAMMAR) as stt:
        stream = stt.stream()
        for x in (clip("ps_goforward"), clip("ps_something")):
            for i in range(0, x.size - 159, 160):
                stream.push_frame(AudioFrame(x[i : i + 160], 16000))
            stream.flush()
        stream.end_input()
        finals = [ev.text async for ev in stream if ev.is_final]
        await stream.aclose()
    assert finals == ["go forward ten meters", "go somewhere and do something"]


async def test_open_vocabulary_pocketsphinx_word_error_rate_on_real_speech() -> None:
    from voicecore.adapters.stt.pocketsphinx import PocketsphinxSTT

    refs = {
        "ps_goforward": "go forward ten meters",
        "librivox_ss_0920": (
            "had he married a more amiable woman he might have been made still more respectable than he was"
        ),
    }
    errors = words = 0
    async with PocketsphinxSTT() as stt:
        for name, ref in refs.items():
            stream = stt.stream()
            x = clip(name)
            stream.push_frame(AudioFrame(x, 16000))
            stream.flush()
            stream.end_input()
            hyp = [ev.text async for ev in stream if ev.is_final][0]
            await stream.aclose()
            errors += _edit_distance(ref.split(), hyp.split())
            words += len(ref.split())
    assert errors / words <= 0.35  # measured ~0.17 here (pocketsphinx ~29 % on the whole corpus)


def _edit_distance(a: list[str], b: list[str]) -> int:
    d = list(range(len(b) + 1))
    for i, wa in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, wb in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (wa != wb))
    return d[-1]


async def test_offline_defaults_hold_a_real_conversation(tmp_path: Path) -> None:
    pytest.importorskip("piper")
    cfg = tmp_path / "voicecore.toml"
    cfg.write_text(
        f'llm = "rules"\ntts = ["piper", "espeak"]\n[stt]\nprovider = "pocketsphinx"\n'
        f"grammar = '''{GRAMMAR}'''\n"
    )
    stt, llm, tts = registry.build_adapters(registry.load_config(cfg, env={}))
    assert (stt.provider, llm.provider) == ("pocketsphinx", "rules")
    result, session = await run_agent(
        stt, llm, tts, [ScriptedUtterance(trim(clip("ps_goforward")), delay_s=0.3)]
    )
    await tts.aclose()
    assert result.turns[0]["user_transcript"] == "go forward ten meters"
    assert result.turns[0]["agent_transcript"] == "Understood, moving forward. Tell me when to stop."
    frames = result.played.reshape(-1, 160)
    voiced = np.sqrt(np.mean(frames**2, axis=1)) > 0.01
    assert voiced.sum() * 0.01 > 1.5  # Piper spoke the sentence (~2.5 s of audio) through the session
    assert tts.provider.startswith("fallback(piper")


async def test_espeak_fallback_synthesizes_speech() -> None:
    from voicecore.adapters.tts.espeak import EspeakTTS

    try:
        tts = EspeakTTS()
    except ConfigError:
        pytest.skip("espeak-ng not installed (scripts/system-packages.txt installs it)")
    frames = [f async for f in tts.synthesize("Hello from the fallback voice.")]
    audio = np.concatenate([f.samples for f in frames])
    assert frames[0].sample_rate_hz == 22050
    assert audio.size > 22050
    assert float(np.sqrt(np.mean(audio**2))) > 0.02


async def test_swapping_the_llm_by_configuration_changes_no_agent_code(tmp_path: Path) -> None:
    aiohttp = pytest.importorskip("aiohttp")
    from aiohttp import web

    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        assert body["messages"][-1]["content"] == "hello"
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for w in ["Hi", " from", " the", " server."]:
            await resp.write(f"data: {json.dumps({'choices': [{'delta': {'content': w}}]})}\n\n".encode())
        await resp.write(b"data: [DONE]\n\n")
        return resp

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        replies = {}
        from agent_fakes import FakeSTT, FakeTTS

        registry.register_provider("stt", "scripted", lambda **_: FakeSTT(["hello"]))
        registry.register_provider("tts", "scripted", lambda **_: FakeTTS())
        for name, env in {
            "rules": {"VOICECORE_LLM": "rules"},
            "openai": {
                "VOICECORE_LLM": "openai",
                "VOICECORE_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1",
                "VOICECORE_LLM_MODEL": "local-model",
            },
        }.items():
            cfg = registry.load_config(
                None, env={"VOICECORE_STT": "scripted", "VOICECORE_TTS": "scripted", **env}
            )
            stt, llm, tts = registry.build_adapters(cfg)
            result, _ = await run_agent(
                stt, llm, tts, [ScriptedUtterance(trim(clip("ps_goforward")), delay_s=0.3)]
            )
            await llm.aclose()
            replies[name] = result.turns[0]["agent_transcript"]
        assert replies == {"rules": RulesLLM().reply_for(_ctx("hello")), "openai": "Hi from the server."}
    finally:
        await runner.cleanup()
        _ = aiohttp


def _ctx(text: str) -> Any:
    from voicecore.agent.context import ChatContext

    c = ChatContext()
    c.add("user", text)
    return c


def test_config_file_env_overrides_fallback_lists_and_errors(tmp_path: Path) -> None:
    cfg = tmp_path / "agent.toml"
    cfg.write_text(
        'stt = "pocketsphinx"\ntts = "espeak"\n[llm]\nprovider = "openai"\n'
        'base_url = "http://127.0.0.1:9/v1"\nmodel = "m"\nfallback = "rules"\n'
    )
    c = registry.load_config(cfg, env={})
    assert [(s.name, s.options) for s in c.llm] == [
        ("openai", {"base_url": "http://127.0.0.1:9/v1", "model": "m"}),
        ("rules", {}),
    ]
    c2 = registry.load_config(cfg, env={"VOICECORE_TTS": "piper,espeak", "VOICECORE_LLM_MODEL": "other"})
    assert [s.name for s in c2.tts] == ["piper", "espeak"]
    assert c2.llm[0].options["model"] == "other"
    with pytest.raises(ConfigError, match="unknown llm provider 'nope'"):
        registry.build_llm(registry.load_config(None, env={"VOICECORE_LLM": "nope"}))
    bad = tmp_path / "bad.toml"
    bad.write_text("llm = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        registry.load_config(bad, env={})
    with pytest.raises(ConfigError, match="not found"):
        registry.load_config(tmp_path / "missing.toml", env={})


def test_third_party_provider_via_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A minimal installed distribution: a dist-info with an entry point in group voicecore.adapters.
    pkg = tmp_path / "vc_thirdparty"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from voicecore.adapters.llm.rules import RulesLLM\n"
        "class ShoutLLM(RulesLLM):\n    provider = 'shout'\n"
        "    def reply_for(self, ctx):\n        return super().reply_for(ctx).upper()\n"
    )
    dist = tmp_path / "vc_thirdparty-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: vc-thirdparty\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[voicecore.adapters]\nllm.shout = vc_thirdparty:ShoutLLM\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "shout" in registry.available_providers("llm")
    llm = registry.build_llm(registry.load_config(None, env={"VOICECORE_LLM": "shout"}))
    assert llm.provider == "shout"
    assert llm.reply_for(_ctx("hello")).startswith("HELLO!")  # type: ignore[attr-defined]
    sys.modules.pop("vc_thirdparty", None)


def test_missing_optional_provider_is_skipped_in_a_fallback_list() -> None:
    cfg = registry.load_config(None, env={"VOICECORE_LLM": "llama_cpp,rules"})
    llm = registry.build_llm(cfg)
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        assert llm.provider == "rules"  # llama-cpp-python absent: the honest built-in responder
    else:
        assert llm.provider.startswith("fallback(llama_cpp")
    _ = FallbackTTS
