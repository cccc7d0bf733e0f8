"""`voicecore demo --json` smoke test: the whole offline pipeline on the shipped recordings."""

from __future__ import annotations

import json

import pytest

from voicecore import cli

pytest.importorskip("pocketsphinx")
pytest.importorskip("piper")


def test_demo_json(capsys: pytest.CaptureFixture[str]) -> None:
    from voicecore.agent.kernels import make_echo_canceller, make_speech_detector

    try:
        make_speech_detector("frame")
    except Exception:  # noqa: BLE001
        pytest.skip("this build has no SpeechDetector kernel")
    assert cli.main(["demo", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
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
    assert sum(t["interrupted"] for t in turns) == 1  # the scripted barge-in
    assert "forward" in turns[0]["user_transcript"]
    if make_echo_canceller() is not None:
        assert out["self_interruptions"] == 0
