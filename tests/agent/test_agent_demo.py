"""`voicecore demo --json` smoke test: the whole offline pipeline on the shipped recordings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voicecore import cli

pytest.importorskip("pocketsphinx")
pytest.importorskip("piper")


def test_demo_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from voicecore.agent.kernels import make_echo_canceller, make_speech_detector

    try:
        make_speech_detector("frame")
    except Exception:  # noqa: BLE001
        pytest.skip("this build has no SpeechDetector kernel")
    has_aec = make_echo_canceller() is not None
    # With the canceller the room echo is on (the default); without it the demo turns the echo off.
    # The scripted user speaks at fixed times, so the reply lengths decide which turns overlap: pin
    # the deterministic built-in responder (the default picks SmolLM2 when llm-local is installed).
    config = tmp_path / "voicecore.toml"
    config.write_text('llm = "rules"\n')
    assert cli.main(["demo", "--json", "--config", str(config)]) == 0
    captured = capsys.readouterr()
    assert ("echo path is off" in captured.err) != has_aec
    out = json.loads(captured.out)
    assert set(out) == {"turns", "self_interruptions"}
    turns = out["turns"]
    assert 3 <= len(turns) <= 6
    keys = {
        "eou_delay_ms",
        "stt_delay_ms",
        "llm_ttft_ms",
        "tts_ttfb_ms",
        "e2e_latency_ms",
        "voicecore_overhead_ms",
    }
    for t in turns:
        assert set(t) == {"user_transcript", "agent_transcript", "interrupted", "metrics"}
        assert set(t["metrics"]) == keys
        assert t["user_transcript"]
        assert t["agent_transcript"]
    # The scripted barge-in (the third utterance) must interrupt the reply to the second one. Model
    # latencies are real, so the audio timing varies from run to run, and in about one run in fifteen
    # the last utterance (a list read with pauses) is split into two turns: the user then talks over
    # the reply to the first part, a real barge-in. Any interruption beyond the scripted one must come
    # with such a split turn (4 scripted utterances), never on its own.
    barged = [t for t in turns if "married" in t["user_transcript"] or "amiable" in t["user_transcript"]]
    assert any(t["interrupted"] for t in barged), turns
    splits = len(turns) - 4
    assert 1 <= sum(t["interrupted"] for t in turns) <= 1 + max(0, splits), turns
    assert "forward" in turns[0]["user_transcript"]
    # The strict zero-self-interruption check is tests/agent/test_agent_echo.py (fixed scenario). In
    # this full demo, one run in four had a single self-interruption before the canceller's call-start
    # fallback echo estimate; 0 of 25 runs had one with it (measured before the warm-up detector).
    # Keep one as slack: model latencies are real, so audio timing varies. Two or more means the echo
    # path is broken.
    assert out["self_interruptions"] <= 1


def test_demo_wav_errors_are_typed_and_reported(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from voicecore.demo import load_wav
    from voicecore.errors import AudioFormatError, ConfigError

    bad = tmp_path / "not.wav"
    bad.write_bytes(b"RIFF....nonsense")
    with pytest.raises(AudioFormatError, match="not a readable WAV"):
        load_wav(bad)
    with pytest.raises(ConfigError, match="no such file"):
        load_wav(tmp_path / "missing.wav")
    assert cli.main(["demo", "--wav", str(bad)]) == 1
    assert "not a readable WAV" in capsys.readouterr().err


def test_load_wav_resamples_and_downmixes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import wave

    import numpy as np

    from voicecore.demo import load_wav

    t = np.arange(48000) / 48000
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.5
    p = tmp_path / "s.wav"
    with wave.open(str(p), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes((stereo * 32767).astype("<i2").tobytes())
    x = load_wav(p)
    assert x.dtype == np.float32
    assert abs(x.size - 16000) <= 1
    peak_bin = int(np.argmax(np.abs(np.fft.rfft(x[:16000]))))
    assert abs(peak_bin - 440) <= 1
