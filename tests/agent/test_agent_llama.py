"""The local LLM default (SmolLM2-135M through llama.cpp), when the llm-local extra is installed.

CI does not compile llama-cpp-python (several minutes on 2 cores), so there this module is skipped
and the session falls back to the `rules` responder; the fallback itself is covered in
test_agent_offline.py.
"""

from __future__ import annotations

import pytest

pytest.importorskip("llama_cpp", reason="llm-local extra not installed")

from voicecore.adapters import registry  # noqa: E402
from voicecore.adapters.llm.llama_cpp import LlamaCppLLM, find_smollm2_model  # noqa: E402
from voicecore.agent.context import ChatContext  # noqa: E402


async def test_smollm2_answers_a_factual_question() -> None:
    assert find_smollm2_model() is not None
    async with LlamaCppLLM(temperature=0.0) as llm:
        ctx = ChatContext()
        ctx.add("system", "You are a helpful voice assistant. Answer in one short sentence.")
        ctx.add("user", "What is the capital of France?")
        text = ""
        async with llm.chat(ctx) as stream:
            async for chunk in stream:
                text += chunk.text
    assert "paris" in text.lower()


def test_default_llm_prefers_smollm2_when_installed() -> None:
    assert registry.DEFAULTS["llm"][0] == "llama_cpp"
