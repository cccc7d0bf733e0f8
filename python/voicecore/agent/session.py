"""``AgentSession``: mic audio in, agent audio out, with turn-taking and interruptions.

Pipeline (one session)::

    push_audio() ─► EchoCanceller (once a far reference exists) ─► SpeechDetector ─► STT stream
        ─► TurnDetector (VAD silence + end-of-turn model) ─► LLM (preemptive on the final transcript)
        ─► TTS stream (sentence by sentence) ─► Resampler ─► AudioOutput ─► pull_audio() ─► device
                                                                  └─► far reference for the AEC

``push_audio`` and ``pull_audio`` are synchronous and cheap (the kernels run inline on 10 ms frames);
everything that waits on a model is a tracked task. The constructor is small: behaviour is set by
:class:`SessionOptions` and its option objects.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from voicecore.adapters.base import LLM, STT, TTS, STTStream
from voicecore.agent.clock import Clock, RealClock
from voicecore.agent.context import ChatContext, FunctionTool, ToolCall
from voicecore.agent.events import (
    AgentEvent,
    AgentState,
    AgentStateChanged,
    AgentTranscript,
    ErrorEvent,
    Interrupted,
    TurnMetrics,
    UserSpeechEnded,
    UserSpeechStarted,
    UserTranscript,
)
from voicecore.agent.kernels import (
    EchoCancellerLike,
    ResamplerLike,
    SpeechDetectorLike,
    make_echo_canceller,
    make_resampler,
    make_speech_detector,
    vad_edges,
)
from voicecore.agent.playout import AudioOutput
from voicecore.aio import TaskSet, cancel_and_wait
from voicecore.audio import AudioFrame, as_float32
from voicecore.errors import AdapterError, AudioFormatError, ConfigError
from voicecore.turn.detector import EndpointingOptions, TurnDetector

__all__ = ["AgentSession", "InterruptionOptions", "SessionOptions", "Tool"]

_log = logging.getLogger("voicecore.agent")


@dataclass(frozen=True, slots=True)
class InterruptionOptions:
    """Barge-in: user speech lasting ``min_interruption_ms`` while the agent speaks stops it.
    With ``resume_false_interruption`` the agent pauses first and resumes if no transcript arrives
    within ``false_interruption_timeout_ms`` after the user stops (a cough, a door)."""

    enabled: bool = True
    min_interruption_ms: int = 500
    false_interruption_timeout_ms: int = 1500
    resume_false_interruption: bool = True


@dataclass(slots=True)
class Tool:
    """A function the LLM may call: ``fn(**arguments)`` returns (or awaits) a string."""

    spec: FunctionTool
    fn: Callable[..., str | Awaitable[str]]


@dataclass(slots=True)
class SessionOptions:
    sample_rate_hz: int = 16000
    frame_ms: int = 10
    instructions: str = "You are a helpful voice assistant. Keep answers short."
    endpointing: EndpointingOptions = field(default_factory=EndpointingOptions)
    interruption: InterruptionOptions = field(default_factory=InterruptionOptions)
    preemptive_generation: bool = True
    echo_cancellation: bool = True
    prefix_padding_ms: int = 300
    max_tool_rounds: int = 3
    tools: list[Tool] = field(default_factory=list)
    vad: str = "auto"  # "cascade" (FrameVad gating Silero) when the Silero model is installed, else "frame"
    speech_floor_dbfs: float = -55.0  # quieter frames are silence for the VAD (echo residual, room noise)
    # The VAD only bridges short gaps; the turn detector decides the end of the turn.
    vad_min_silence_ms: int = 250


class _Reply:
    """One agent reply: LLM → TTS → output, with playout tracking for transcript truncation."""

    _ids = 0

    def __init__(self, session: AgentSession, user_text: str, ctx: ChatContext, preemptive: bool) -> None:
        _Reply._ids += 1
        self.id = _Reply._ids
        self.s = session
        self.user_text = user_text
        self.ctx = ctx
        self.preemptive = preemptive
        self.committed = False
        self.cancelled = False
        self.interrupted = False
        self.finished = False
        self.generating = True
        self.text_parts: list[str] = []
        self.extra_messages: list[Any] = []  # tool-call rounds to add to the chat context
        self.segments: dict[int, list[Any]] = {}  # id -> [text, total|None, played, received] samples
        self.pending: list[tuple[int, NDArray[np.float32]]] = []
        self.task: asyncio.Task[None] | None = None
        self.resampler: ResamplerLike | None = None
        self.resampler_rate: int | None = None
        # timestamps (session clock)
        self.llm_start: float | None = None
        self.llm_first_token: float | None = None
        self.first_segment_text: float | None = None
        self.tts_first_audio: float | None = None
        self.first_audio_enqueued: float | None = None
        self.first_play: float | None = None
        self.commit_clock: float | None = None
        self.played_samples = 0
        self.speech_end: float | None = None
        self.eou_delay_ms: float | None = None
        self.stt_delay_ms: float | None = None
        self.turn_index = 0

    # PlayoutListener
    def on_played(self, segment_id: int, num_samples: int, now: float) -> None:
        seg = self.segments.get(segment_id)
        if seg is not None:
            seg[2] += num_samples
        self.played_samples += num_samples
        if self.first_play is None:
            self.first_play = now
            self.s._on_first_play(self)

    def full_text(self) -> str:
        return "".join(self.text_parts).strip()

    def played_text(self) -> str:
        """The words actually played: whole segments, plus the played share of the current one."""
        words: list[str] = []
        for seg_id in sorted(self.segments):
            text, total, played, received = self.segments[seg_id]
            seg_words = text.split()
            if total is not None and played >= total:
                words += seg_words
                continue
            if played <= 0:
                break
            # Words are taken as evenly spread over the segment's audio (no word timings from TTS).
            frac = min(1.0, played / max(total if total is not None else received, 1))
            words += seg_words[: int(len(seg_words) * frac)]
            break
        return " ".join(words)


class AgentSession:
    """A voice conversation. ``async with AgentSession(stt=..., llm=..., tts=...) as s:`` then feed
    ``s.push_audio(frame)`` with mic frames and play ``s.pull_audio()`` every output frame."""

    def __init__(
        self,
        *,
        stt: STT,
        llm: LLM,
        tts: TTS,
        vad: SpeechDetectorLike | None = None,
        turn_detector: TurnDetector | None = None,
        echo_canceller: EchoCancellerLike | None = None,
        options: SessionOptions | None = None,
        clock: Clock | None = None,
        resampler_factory: Callable[[int, int], ResamplerLike] | None = None,
    ) -> None:
        self.options = o = options or SessionOptions()
        if o.frame_ms <= 0 or o.sample_rate_hz * o.frame_ms % 1000:
            raise ConfigError(f"frame_ms={o.frame_ms} does not give whole frames at {o.sample_rate_hz} Hz")
        if stt.sample_rate_hz != o.sample_rate_hz:
            raise ConfigError(
                f"STT {stt.provider} expects {stt.sample_rate_hz} Hz but the session runs at "
                f"{o.sample_rate_hz} Hz"
            )
        self.stt, self.llm, self.tts = stt, llm, tts
        self.clock: Clock = clock or RealClock()
        self.vad: SpeechDetectorLike = vad or make_speech_detector(
            o.vad, min_silence_ms=o.vad_min_silence_ms, prefix_padding_ms=o.prefix_padding_ms
        )
        self.turn_detector = turn_detector or TurnDetector.default(o.endpointing)
        self.aec = echo_canceller
        if self.aec is None and o.echo_cancellation:
            self.aec = make_echo_canceller(o.sample_rate_hz, 10)
        self._resampler_factory = resampler_factory or make_resampler
        self.chat_ctx = ChatContext()
        if o.instructions:
            self.chat_ctx.add("system", o.instructions)
        self._frame = o.sample_rate_hz * o.frame_ms // 1000
        self._aec_frame = o.sample_rate_hz // 100
        self._floor_power = 10.0 ** (o.speech_floor_dbfs / 10.0)
        self._zeros = np.zeros(self._frame, np.float32)
        self.output = AudioOutput(o.sample_rate_hz, o.frame_ms, self.clock.now, self._on_output_frame)
        self._tasks = TaskSet("agent")
        self._listeners: list[Callable[[AgentEvent], None]] = []
        self.events: list[AgentEvent] = []
        self.state: AgentState = "idle"
        self._stt_stream: STTStream | None = None
        self._stt_reader: asyncio.Task[None] | None = None
        # input side
        self._in_buf = np.zeros(0, np.float32)
        self._far_active = False
        self._stream_pos_s = 0.0
        self._preroll: deque[NDArray[np.float32]] = deque(maxlen=max(1, o.prefix_padding_ms // o.frame_ms))
        self._in_speech = False
        self._speech_start_clock = 0.0
        self._last_speech_end_clock: float | None = None
        self._turn_audio: deque[NDArray[np.float32]] = deque(maxlen=8000 // o.frame_ms)
        self._turn_texts: list[str] = []
        self._segment_flags: deque[bool] = deque()  # per flushed segment: does it count for a turn?
        self._finals_changed = asyncio.Event()
        self._last_final_clock: float | None = None
        self._endpoint_task: asyncio.Task[None] | None = None
        self._predicting = False
        # output side
        self._reply: _Reply | None = None  # the committed reply (thinking/speaking)
        self._preemptive: _Reply | None = None
        self._interrupt_pending = False
        self._interrupt_decision_clock: float | None = None
        self._false_timer: asyncio.Task[None] | None = None
        self._heard_since_interrupt = False
        self.turn_index = 0
        self.interruptions: list[dict[str, Any]] = []
        self.stop_latencies_ms: list[float] = []
        self._closed = False

    # ------------------------------------------------------------------ lifecycle and events

    async def start(self) -> None:
        for adapter in (self.stt, self.llm, self.tts):
            try:
                await adapter.warm_up()
            except Exception as exc:  # noqa: BLE001 - a failed warm-up shows up again on first use
                _log.warning("warm-up of %s failed: %s", adapter.provider, exc)
        self._stt_stream = self.stt.stream()
        self._stt_reader = self._tasks.spawn(self._read_stt(self._stt_stream), name="stt-reader")
        self._set_state("listening")

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await cancel_and_wait(self._endpoint_task, self._false_timer)
        for r in (self._reply, self._preemptive):
            if r is not None:
                await cancel_and_wait(r.task)
        if self._stt_stream is not None:
            await self._stt_stream.aclose()
        await self._tasks.aclose()
        self._set_state("idle")

    async def __aenter__(self) -> AgentSession:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def add_listener(self, cb: Callable[[AgentEvent], None]) -> None:
        self._listeners.append(cb)

    def _emit(self, ev: AgentEvent) -> None:
        self.events.append(ev)
        _log.debug("event %s", ev)
        for cb in self._listeners:
            cb(ev)

    def _set_state(self, new: AgentState) -> None:
        if new != self.state:
            old, self.state = self.state, new
            self._emit(AgentStateChanged(old, new, self.clock.now()))

    @property
    def busy(self) -> bool:
        """True while model work is in flight (drivers use it to decide whether idle time may be skipped)."""
        stt_busy = bool(getattr(self._stt_stream, "busy", False))
        gen = any(r is not None and r.generating for r in (self._reply, self._preemptive))
        return stt_busy or gen or self._predicting or (len(self._segment_flags) > 0)

    # ------------------------------------------------------------------ input path

    def push_audio(self, frame: AudioFrame | NDArray[np.float32]) -> None:
        """Feed microphone audio (mono float32 at the session rate; any length)."""
        if self._closed:
            raise ConfigError("session is closed")
        if isinstance(frame, AudioFrame):
            if frame.sample_rate_hz != self.options.sample_rate_hz:
                raise AudioFormatError(
                    f"mic audio is {frame.sample_rate_hz} Hz but the session runs at "
                    f"{self.options.sample_rate_hz} Hz; resample with voicecore.Resampler first"
                )
            x = as_float32(frame.mono(), what="mic audio")
        else:
            x = as_float32(frame, what="mic audio")
        self._in_buf = np.concatenate([self._in_buf, x]) if self._in_buf.size else x
        while self._in_buf.size >= self._frame:
            block, self._in_buf = self._in_buf[: self._frame], self._in_buf[self._frame :]
            self._process_block(block)

    def _process_block(self, x: NDArray[np.float32]) -> None:
        o = self.options
        if self.aec is not None and self._far_active:
            x = np.concatenate(
                [
                    self.aec.process_near(np.ascontiguousarray(x[i : i + self._aec_frame]))
                    for i in range(0, x.size, self._aec_frame)
                ]
            ).astype(np.float32, copy=False)
        now = self.clock.now()
        self._stream_pos_s += x.size / o.sample_rate_hz
        self._preroll.append(x)
        if self._in_speech or self._endpoint_task is not None:
            self._turn_audio.append(x)
        was = self._in_speech
        started = ended = False
        # Below the speech floor a frame is silence for the VAD, whatever its spectral shape: the
        # echo canceller's residual (and a quiet room) must not look like a talker.
        level = float(np.dot(x, x)) / max(x.size, 1)
        vad_in = x if level >= self._floor_power else self._zeros
        for edge in vad_edges(self.vad.push(vad_in, o.sample_rate_hz)):
            t = now - max(0.0, self._stream_pos_s - edge.timestamp_s)
            if edge.kind == "start" and not self._in_speech:
                started = True
                self._speech_start_stream_s = edge.timestamp_s
                self._on_speech_start(t)
            elif edge.kind == "end" and self._in_speech:
                ended = True
                self._on_speech_end(t)
        stream = self._stt_stream
        if stream is not None:
            if started and not was:
                for block in self._preroll:
                    stream.push_frame(AudioFrame(block, o.sample_rate_hz))
                if not self._turn_audio:
                    self._turn_audio.extend(self._preroll)
            elif was or self._in_speech:
                stream.push_frame(AudioFrame(x, o.sample_rate_hz))
            if ended:
                self._segment_flags.append(self._segment_counts)
                stream.flush()
        if self._in_speech:
            # Count voiced time only (the VAD's hangover is silence), when the detector exposes
            # its per-hop probability; otherwise the time since the onset.
            prob = getattr(self.vad, "probability", None)
            threshold = float(getattr(self.vad, "deactivation_threshold", 0.35))
            if isinstance(prob, float):
                if prob >= threshold and not started:  # the onset block is counted at the start edge
                    self._voiced_s += x.size / o.sample_rate_hz
            else:
                self._voiced_s = now - self._speech_start_clock
            self._check_interruption(now)

    def _on_speech_start(self, t: float) -> None:
        self._in_speech = True
        self._speech_start_clock = t
        self._voiced_s = max(0.0, self.clock.now() - t)  # the onset is detected min_speech_ms late
        self._emit(UserSpeechStarted(t))
        # The user goes on talking: the pending end of turn and any preemptive reply are void.
        if self._endpoint_task is not None:
            self._endpoint_task.cancel()
            self._endpoint_task = None
        self._discard_preemptive()
        # A segment counts for the next user turn unless the agent is speaking and it stays too
        # short to interrupt (a backchannel or noise); _check_interruption turns it on.
        self._segment_counts = self._reply is None or self._interrupt_pending
        if self._false_timer is not None:
            self._false_timer.cancel()
            self._false_timer = None

    def _on_speech_end(self, t: float) -> None:
        self._in_speech = False
        self._last_speech_end_clock = t
        self._emit(UserSpeechEnded(t, t - self._speech_start_clock))
        if self._interrupt_pending:
            self._false_timer = self._tasks.spawn(self._false_interruption_timer(), name="false-interruption")
        if self._segment_counts:
            self._endpoint_task = self._tasks.spawn(self._endpoint(t), name="endpoint")

    async def _read_stt(self, stream: STTStream) -> None:
        while True:
            await self._read_stt_once(stream)
            if self._closed:
                return
            # The stream died (error or provider closed it): open a new one so the session goes on
            # listening; the segments in flight are lost and their endpointing gets no text.
            old, stream = stream, self.stt.stream()
            self._stt_stream = stream
            await old.aclose()
            await asyncio.sleep(0.05)  # no hot loop if the provider fails at once

    async def _read_stt_once(self, stream: STTStream) -> None:
        try:
            async for ev in stream:
                now = self.clock.now()
                if ev.text and self._interrupt_pending:
                    self._heard_since_interrupt = True
                    self._commit_interruption()
                if not ev.is_final:
                    self._emit(UserTranscript(ev.text, False, now))
                    continue
                counts = self._segment_flags.popleft() if self._segment_flags else True
                self._last_final_clock = now
                if counts and ev.text:
                    self._turn_texts.append(ev.text)
                self._emit(UserTranscript(ev.text, True, now))
                self._finals_changed.set()
        except AdapterError as exc:
            self._emit(ErrorEvent("stt", str(exc), True, self.clock.now()))
            _log.warning("STT stream failed (%s); reopening it", exc)
        self._segment_flags.clear()
        self._finals_changed.set()

    # ------------------------------------------------------------------ turn taking

    async def _endpoint(self, speech_end: float) -> None:
        audio_model = self.turn_detector.model.name not in ("vad-only", "text-heuristic")
        prediction: asyncio.Future[tuple[float, float]] | None = None
        if audio_model:
            # An audio model does not need the transcript: run it while the STT finishes.
            audio = np.concatenate(list(self._turn_audio)) if self._turn_audio else np.zeros(0, np.float32)
            self._predicting = True
            prediction = asyncio.get_running_loop().run_in_executor(
                None, self.turn_detector.endpoint_delay_ms, audio, ""
            )
        try:
            while self._segment_flags:
                self._finals_changed.clear()
                await self._finals_changed.wait()
            text = " ".join(self._turn_texts).strip()
            if prediction is not None:
                delay_ms, _p = await prediction
            else:
                delay_ms, _p = self.turn_detector.endpoint_delay_ms(np.zeros(0, np.float32), text)
        finally:
            self._predicting = False
            if prediction is not None and not prediction.done():
                prediction.cancel()
        if text and self.options.preemptive_generation and self._reply is None:
            self._start_preemptive(text)
        await self.clock.sleep_until(speech_end + delay_ms / 1000.0)
        self._endpoint_task = None
        self._commit_turn(text, speech_end)

    def _commit_turn(self, text: str, speech_end: float) -> None:
        self._turn_texts = []
        self._turn_audio.clear()
        if not text:
            self._discard_preemptive()
            return
        now = self.clock.now()
        self.chat_ctx.add("user", text)
        reply = self._preemptive
        self._preemptive = None
        if reply is None or reply.user_text != text:
            if reply is not None:
                self._cancel_reply(reply)
            reply = self._new_reply(text, preemptive=False)
        reply.committed = True
        reply.commit_clock = now
        reply.eou_delay_ms = (now - speech_end) * 1000.0
        reply.stt_delay_ms = (
            (self._last_final_clock - speech_end) * 1000.0 if self._last_final_clock is not None else None
        )
        reply.speech_end = speech_end
        self._reply = reply
        self.turn_index += 1
        reply.turn_index = self.turn_index
        for seg_id, samples in reply.pending:
            self._enqueue(reply, seg_id, samples)
        reply.pending.clear()
        self._set_state("thinking")
        if not reply.generating:
            self._maybe_finish(reply)

    def _start_preemptive(self, text: str) -> None:
        if self._preemptive is not None and self._preemptive.user_text == text:
            return
        self._discard_preemptive()
        self._preemptive = self._new_reply(text, preemptive=True)

    def _discard_preemptive(self) -> None:
        if self._preemptive is not None:
            self._cancel_reply(self._preemptive)
            self._preemptive = None

    def _new_reply(self, text: str, *, preemptive: bool) -> _Reply:
        ctx = self.chat_ctx.copy()
        if preemptive:  # committed replies find the user message already in chat_ctx
            ctx.add("user", text)
        reply = _Reply(self, text, ctx, preemptive)
        reply.task = self._tasks.spawn(self._generate(reply), name=f"reply-{reply.id}")
        return reply

    def _cancel_reply(self, reply: _Reply) -> None:
        reply.cancelled = True
        reply.generating = False
        if reply.task is not None and not reply.task.done():
            reply.task.cancel()
        self.output.clear(reply)

    # ------------------------------------------------------------------ generation

    async def _generate(self, reply: _Reply) -> None:
        o = self.options
        specs = [t.spec for t in o.tools]
        tts_stream = self.tts.stream()
        reader = asyncio.get_running_loop().create_task(self._read_tts(reply, tts_stream))
        try:
            ctx = reply.ctx
            for _round in range(o.max_tool_rounds + 1):
                if reply.llm_start is None:
                    reply.llm_start = self.clock.now()
                calls: list[ToolCall] = []
                async with self.llm.chat(ctx, tools=specs) as stream:
                    async for chunk in stream:
                        if chunk.text:
                            if reply.llm_first_token is None:
                                reply.llm_first_token = self.clock.now()
                            reply.text_parts.append(chunk.text)
                            tts_stream.push_text(chunk.text)
                            if reply.first_segment_text is None and tts_stream.num_segments > 0:
                                reply.first_segment_text = self.clock.now()
                        calls.extend(chunk.tool_calls)
                if not calls:
                    break
                msg = ctx.add("assistant", "", tool_calls=list(calls))
                reply.extra_messages.append(msg)
                for call in calls:
                    result = await self._run_tool(call.name, call.parsed_arguments())
                    reply.extra_messages.append(ctx.add("tool", result, tool_call_id=call.id))
            tts_stream.end_input()
            if reply.first_segment_text is None and tts_stream.num_segments > 0:
                reply.first_segment_text = self.clock.now()
            await reader
        except AdapterError as exc:
            self._emit(ErrorEvent("llm/tts", str(exc), True, self.clock.now()))
            _log.warning("reply %d failed: %s", reply.id, exc)
        finally:
            await cancel_and_wait(reader)
            await tts_stream.aclose()
            reply.generating = False
        self._flush_resampler(reply)
        if reply.committed:
            self._maybe_finish(reply)

    async def _run_tool(self, name: str, args: dict[str, Any]) -> str:
        for t in self.options.tools:
            if t.spec.name == name:
                try:
                    result = t.fn(**args)
                    if inspect.isawaitable(result):
                        result = await result
                    return str(result)
                except Exception as exc:  # noqa: BLE001 - a tool error goes back to the model as text
                    return f"error: {exc}"
        return f"error: unknown tool {name}"

    async def _read_tts(self, reply: _Reply, stream: Any) -> None:
        async for item in stream:
            if reply.tts_first_audio is None and item.frame.num_samples:
                reply.tts_first_audio = self.clock.now()
            seg = reply.segments.setdefault(item.segment_id, [item.segment_text, None, 0, 0])
            samples = self._to_output_rate(reply, item.frame)
            seg[3] += samples.size
            if item.is_segment_end:
                seg[1] = seg[3]
            if samples.size and not reply.cancelled:
                if reply.committed:
                    self._enqueue(reply, item.segment_id, samples)
                else:
                    reply.pending.append((item.segment_id, samples))

    def _to_output_rate(self, reply: _Reply, frame: AudioFrame) -> NDArray[np.float32]:
        x = frame.mono()
        rate = self.options.sample_rate_hz
        if frame.sample_rate_hz == rate:
            return np.ascontiguousarray(x, dtype=np.float32)
        if reply.resampler is None or reply.resampler_rate != frame.sample_rate_hz:
            reply.resampler = self._resampler_factory(frame.sample_rate_hz, rate)
            reply.resampler_rate = frame.sample_rate_hz
        return np.asarray(
            reply.resampler.process(np.ascontiguousarray(x, dtype=np.float32)), dtype=np.float32
        )

    def _flush_resampler(self, reply: _Reply) -> None:
        flush = getattr(reply.resampler, "flush", None)
        if flush is None or not reply.segments or reply.interrupted:
            return
        tail = np.asarray(flush(), dtype=np.float32)
        last = max(reply.segments)
        if tail.size:
            seg = reply.segments[last]
            seg[3] += tail.size
            seg[1] = seg[3]
            if reply.committed:
                self._enqueue(reply, last, tail)
            else:
                reply.pending.append((last, tail))

    def _enqueue(self, reply: _Reply, seg_id: int, samples: NDArray[np.float32]) -> None:
        if reply.cancelled:
            return  # a cancelled reply's reader may still deliver one chunk before it sees the cancel
        if reply.first_audio_enqueued is None:
            reply.first_audio_enqueued = self.clock.now()
        self.output.enqueue(reply, seg_id, samples)

    # ------------------------------------------------------------------ output path

    def pull_audio(self, num_samples: int | None = None) -> AudioFrame:
        """The next output frame for the device (call once per ``frame_ms``)."""
        frame = self.output.pull(num_samples)
        reply = self._reply
        if reply is not None and not reply.generating and not self.output.has_audio(reply):
            self._maybe_finish(reply)
        return frame

    def _on_output_frame(self, samples: NDArray[np.float32]) -> None:
        if self._interrupt_decision_clock is not None:
            # Barge-in stop time in device time: output frames after the decision until silence.
            self._frames_since_decision += 1
            if not np.any(samples):
                self.stop_latencies_ms.append(self._frames_since_decision * float(self.options.frame_ms))
                self._interrupt_decision_clock = None
        if self.aec is None:
            return
        if not self._far_active and not np.any(samples):
            return
        self._far_active = True
        for i in range(0, samples.size, self._aec_frame):
            self.aec.push_far(np.ascontiguousarray(samples[i : i + self._aec_frame]))

    def _on_first_play(self, reply: _Reply) -> None:
        if reply is not self._reply:
            return
        self._set_state("speaking")
        m = self._metrics(reply)
        _log.info(
            "turn %d: eou %s ms, stt %s ms, llm ttft %s ms, tts ttfb %s ms, e2e %s ms, voicecore %s ms",
            m.turn_index,
            *(None if v is None else round(v) for v in m.as_metrics_dict().values()),
        )
        self._emit(m)

    def _metrics(self, r: _Reply) -> TurnMetrics:
        def ms(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None else (b - a) * 1000.0

        speech_end = r.speech_end
        commit = r.commit_clock
        overhead = None
        if commit is not None and r.first_audio_enqueued is not None:
            # Wall time from the end-of-turn decision to audio ready for the device, minus model
            # time on that path (LLM up to the first sentence, TTS up to its first audio).
            span = (commit, max(commit, r.first_audio_enqueued))
            model = 0.0
            for a, b in ((r.llm_start, r.first_segment_text), (r.first_segment_text, r.tts_first_audio)):
                if a is not None and b is not None:
                    model += max(0.0, min(b, span[1]) - max(a, span[0]))
            overhead = max(0.0, (span[1] - span[0]) - model) * 1000.0
        return TurnMetrics(
            turn_index=r.turn_index,
            eou_delay_ms=r.eou_delay_ms,
            stt_delay_ms=r.stt_delay_ms,
            llm_ttft_ms=ms(r.llm_start, r.llm_first_token),
            tts_ttfb_ms=ms(r.first_segment_text, r.tts_first_audio),
            e2e_latency_ms=ms(speech_end, r.first_play),
            voicecore_overhead_ms=overhead,
            preemptive=r.preemptive,
        )

    def _maybe_finish(self, reply: _Reply) -> None:
        if reply.finished or reply.generating or self.output.has_audio(reply) or self._interrupt_pending:
            return
        reply.finished = True
        text = reply.full_text()
        for msg in reply.extra_messages:
            self.chat_ctx.messages.append(msg)
        if text:
            self.chat_ctx.add("assistant", text)
        if reply.first_play is None:
            self._emit(self._metrics(reply))
        self._emit(
            AgentTranscript(text, False, self.clock.now(), full_text=text, in_reply_to=reply.user_text)
        )
        if self._reply is reply:
            self._reply = None
            self._set_state("listening")

    # ------------------------------------------------------------------ interruptions

    def _check_interruption(self, now: float) -> None:
        reply = self._reply
        io = self.options.interruption
        if reply is None or not io.enabled or self._interrupt_pending:
            return
        if self._voiced_s * 1000.0 < io.min_interruption_ms:
            return
        self._segment_counts = True
        self._interrupt_decision_clock = now
        self._frames_since_decision = 0
        self.interruptions.append(
            {
                "clock": now,
                "reply": reply.id,
                "played_samples": reply.played_samples,
                # stream time (mic samples) from the user's speech onset to the decision
                "after_onset_s": self._stream_pos_s - self._speech_start_stream_s,
            }
        )
        if reply.first_play is None or not io.resume_false_interruption:
            self._emit(Interrupted(now, reply.played_samples / self.options.sample_rate_hz))
            self._interrupt_pending = True
            self._commit_interruption()
            return
        self.output.pause()
        self._interrupt_pending = True
        self._heard_since_interrupt = False
        self._emit(Interrupted(now, reply.played_samples / self.options.sample_rate_hz))
        self._set_state("listening")

    def _commit_interruption(self) -> None:
        reply = self._reply
        if not self._interrupt_pending or reply is None:
            return
        self._interrupt_pending = False
        if self._false_timer is not None:
            self._false_timer.cancel()
            self._false_timer = None
        reply.interrupted = True
        self._cancel_reply(reply)
        self.output.resume()
        played = reply.played_text()
        for msg in reply.extra_messages:
            self.chat_ctx.messages.append(msg)
        if played:
            self.chat_ctx.add("assistant", played, interrupted=True)
        reply.finished = True
        if reply.first_play is None:
            self._emit(self._metrics(reply))
        self._emit(
            AgentTranscript(
                played, True, self.clock.now(), full_text=reply.full_text(), in_reply_to=reply.user_text
            )
        )
        self._reply = None
        self._set_state("listening")

    async def _false_interruption_timer(self) -> None:
        timeout_s = self.options.interruption.false_interruption_timeout_ms / 1000.0
        await self.clock.sleep_until(self.clock.now() + timeout_s)
        self._false_timer = None
        if not self._interrupt_pending or self._heard_since_interrupt or self._in_speech:
            return
        reply = self._reply
        self._interrupt_pending = False
        self.output.resume()
        self._emit(
            Interrupted(
                self.clock.now(),
                (reply.played_samples if reply else 0) / self.options.sample_rate_hz,
                resumed=True,
            )
        )
        # The noise segment must not become a user turn.
        if self._endpoint_task is not None:
            self._endpoint_task.cancel()
            self._endpoint_task = None
        self._turn_texts = []
        if reply is not None:
            self._set_state("speaking")
            if not reply.generating and not self.output.has_audio(reply):
                self._maybe_finish(reply)

    # ------------------------------------------------------------------ helpers

    @classmethod
    def from_config(cls, config_path: str | None = None, **kwargs: Any) -> AgentSession:
        """Adapters from configuration (TOML/env): swapping providers changes no agent code."""
        from voicecore.adapters.registry import build_adapters, load_config

        stt, llm, tts = build_adapters(load_config(config_path))
        return cls(stt=stt, llm=llm, tts=tts, **kwargs)

    def transcript(self) -> list[tuple[str, str]]:
        return [
            (m.role, m.content)
            for m in self.chat_ctx.messages
            if m.role in ("user", "assistant") and m.content
        ]

    _segment_counts: bool = True
    _voiced_s: float = 0.0
    _speech_start_stream_s: float = 0.0
    _frames_since_decision: int = 0
