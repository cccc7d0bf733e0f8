"""VAD cost, side by side with the peers in one run (pytest-benchmark).

    python -m pytest bench/bench_vad.py --benchmark-only --benchmark-group-by=group

Groups:
  vad-frame:        FrameVad.process vs webrtcvad.Vad.is_speech, 200 frames of 10 ms at 16 kHz each
                    (per-frame cost = mean / 200). Target: FrameVad <= 2x webrtcvad.
  vad-silero:       SileroVad.process, 30 chunks of 32 ms (per-chunk cost = mean / 30).
  vad-silero-streams: 16 streams x 10 chunks of 32 ms: one SileroVad per stream, SileroVadBatch
                    (one onnxruntime call per step for all 16), and webrtcvad mode 3 on the same
                    audio in 10 ms frames (per stream-chunk cost = mean / 160).
  vad-half-silence: StreamingVad "cascade" vs "silero" over scenes (white noise and babble, 20 dB)
                    that are about half silence. Target: cascade <= 40 % of Silero.
Every benchmark also checks its result (speech scored above silence; cascade F1 near Silero's).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import voicecore as vc
from voicecore.vad import StreamingVad
from voicecore.vad.metrics import f1_score
from voicecore.vad.scenes import Scene, SourceBank, find_eval_dir, make_scene

NUM_FRAMES = 200
NUM_CHUNKS = 30


@pytest.fixture(scope="module")
def bank() -> SourceBank:
    pytest.importorskip("soundfile")
    eval_dir = find_eval_dir(Path(__file__))
    if eval_dir is None:
        pytest.skip("eval corpus not found: set VOICECORE_EVAL_DIR")
    return SourceBank(eval_dir)


@pytest.fixture(scope="module")
def scene(bank: SourceBank) -> Scene:
    # Seed 9300: not used by the fit, the eval script or the tests. About half silence.
    return make_scene(bank, 9300, "white", 20.0, utterances=4, gap_s=(1.5, 3.5))


@pytest.fixture(scope="module")
def frames(scene: Scene) -> tuple[list[np.ndarray], np.ndarray]:
    """200 consecutive 10 ms frames around the first onset, with their labels."""
    first = int(np.flatnonzero(scene.labels)[0])
    start = max(0, first - NUM_FRAMES // 2)
    fr = [scene.audio[(start + i) * 160 : (start + i + 1) * 160].copy() for i in range(NUM_FRAMES)]
    return fr, scene.labels[start : start + NUM_FRAMES]


def _separates(scores: list[float], labels: np.ndarray) -> bool:
    s = np.asarray(scores, float)
    y = labels.astype(bool)
    return bool(y.any() and (~y).any() and s[y].mean() > s[~y].mean() + 0.2)


@pytest.mark.benchmark(group="vad-frame")
def test_framevad_200_frames(benchmark, frames) -> None:
    fr, labels = frames
    vad = vc.FrameVad()
    for f in fr:  # warm up the noise floor so the timed run scores like a running stream
        vad.process(f)

    def run() -> list[float]:
        return [vad.process(f) for f in fr]

    scores = benchmark(run)
    assert all(0.0 <= p <= 1.0 for p in scores)
    assert _separates(scores, labels)


@pytest.mark.benchmark(group="vad-frame")
def test_webrtcvad_200_frames(benchmark, frames) -> None:
    webrtcvad = pytest.importorskip("webrtcvad")
    fr, labels = frames
    pcm = [np.round(f * 32768).clip(-32768, 32767).astype(np.int16).tobytes() for f in fr]
    vad = webrtcvad.Vad(3)

    def run() -> list[float]:
        return [float(vad.is_speech(b, 16000)) for b in pcm]

    scores = benchmark(run)
    assert _separates(scores, labels)


@pytest.mark.benchmark(group="vad-silero")
def test_silero_30_chunks(benchmark, scene: Scene) -> None:
    pytest.importorskip("onnxruntime")
    first = int(np.flatnonzero(scene.labels)[0]) * 160
    start = max(0, first - 512 * (NUM_CHUNKS // 2))
    chunks = [scene.audio[start + i * 512 : start + (i + 1) * 512].copy() for i in range(NUM_CHUNKS)]
    vad = vc.SileroVad()

    def run() -> list[float]:
        vad.reset()
        return [vad.process(c) for c in chunks]

    probs = benchmark(run)
    assert max(probs[NUM_CHUNKS // 2 + 3 :]) > 0.8
    assert min(probs[: NUM_CHUNKS // 2 - 3]) < 0.2


STREAMS = 16
STREAM_CHUNKS = 10


@pytest.fixture(scope="module")
def stream_chunks(bank: SourceBank) -> np.ndarray:
    """(chunks, streams, 512): 16 streams of different scenes, 320 ms each, around a first onset."""
    kinds = ["white", "babble", "dishes", "bike"]
    out = np.zeros((STREAM_CHUNKS, STREAMS, 512), np.float32)
    for s in range(STREAMS):
        sc = make_scene(bank, 9310 + s, kinds[s % 4], 20.0, utterances=2, gap_s=(1.0, 2.0))
        first = int(np.flatnonzero(sc.labels)[0]) * 160
        start = max(0, first - 512 * (STREAM_CHUNKS // 2))
        out[:, s] = sc.audio[start : start + 512 * STREAM_CHUNKS].reshape(STREAM_CHUNKS, 512)
    return out


def _separate(chunks: np.ndarray, vads: list) -> np.ndarray:
    for v in vads:
        v.reset()
    return np.array([[v.process(c) for v, c in zip(vads, step, strict=True)] for step in chunks])


@pytest.mark.benchmark(group="vad-silero-streams")
def test_silero_16_streams_separate(benchmark, stream_chunks: np.ndarray) -> None:
    pytest.importorskip("onnxruntime")
    vads = [vc.SileroVad() for _ in range(STREAMS)]
    probs = benchmark(_separate, stream_chunks, vads)
    # Speech comes in the second half of every stream's window.
    assert probs[STREAM_CHUNKS // 2 + 2 :].max(axis=0).min() > 0.5


@pytest.mark.benchmark(group="vad-silero-streams")
def test_silero_16_streams_batched(benchmark, stream_chunks: np.ndarray) -> None:
    pytest.importorskip("onnxruntime")
    batch = vc.SileroVadBatch(STREAMS)

    def run() -> np.ndarray:
        batch.reset()
        return np.stack([batch.process(step) for step in stream_chunks])

    probs = benchmark(run)
    ref = _separate(stream_chunks, [vc.SileroVad() for _ in range(STREAMS)])
    np.testing.assert_allclose(probs, ref, atol=1e-5)


@pytest.mark.benchmark(group="vad-silero-streams")
def test_webrtcvad_16_streams(benchmark, stream_chunks: np.ndarray) -> None:
    webrtcvad = pytest.importorskip("webrtcvad")
    pcm = np.round(stream_chunks * 32768).clip(-32768, 32767).astype(np.int16)
    # Each stream's 320 ms as 32 frames of 10 ms.
    frames = [
        [pcm[:, s].reshape(-1)[i * 160 : (i + 1) * 160].tobytes() for i in range(32)] for s in range(STREAMS)
    ]
    vads = [webrtcvad.Vad(3) for _ in range(STREAMS)]

    def run() -> list[list[bool]]:
        return [[v.is_speech(f, 16000) for f in fr] for v, fr in zip(vads, frames, strict=True)]

    decisions = benchmark(run)
    assert sum(map(sum, decisions)) > 0


@pytest.fixture(scope="module")
def babble_scene(bank: SourceBank) -> Scene:
    return make_scene(bank, 9301, "babble", 20.0, utterances=4, gap_s=(1.5, 3.5))


def _pushes(scene: Scene) -> np.ndarray:
    """The scene as 20 ms pushes of two 10 ms hops, as SpeechDetector receives a WebRTC track."""
    n = len(scene.labels) // 2 * 2
    return np.ascontiguousarray(scene.audio[: n * 160]).reshape(n // 2, 2, 160)


def _run(vad: StreamingVad, pushes: np.ndarray) -> tuple[np.ndarray, int]:
    p = np.concatenate([vad.process_hops(h) for h in pushes])
    return p, vad.silero_chunks


def _stream(mode: str, scene: Scene) -> tuple[np.ndarray, int]:
    return _run(StreamingVad(mode), _pushes(scene))  # type: ignore[arg-type]


@pytest.mark.benchmark(group="vad-half-silence")
@pytest.mark.parametrize("noise", ["white", "babble"])
@pytest.mark.parametrize("mode", ["silero", "cascade"])
def test_half_silence_stream(benchmark, scene: Scene, babble_scene: Scene, mode: str, noise: str) -> None:
    pytest.importorskip("onnxruntime")
    scene = scene if noise == "white" else babble_scene
    pushes = _pushes(scene)

    def fresh_vad() -> tuple[tuple[StreamingVad, np.ndarray], dict[str, object]]:
        # A new stream per round, built outside the timing (building loads the ONNX session).
        return (StreamingVad(mode), pushes), {}  # type: ignore[arg-type]

    probs, chunks = benchmark.pedantic(_run, setup=fresh_vad, rounds=5, iterations=1)
    f1 = f1_score(probs >= 0.5, scene.labels[: len(probs)])
    benchmark.extra_info.update(
        {"speech_fraction": float(scene.labels.mean()), "silero_chunks": chunks, "f1": f1}
    )
    ref_probs, ref_chunks = _stream("silero", scene) if mode != "silero" else (probs, chunks)
    ref_f1 = f1_score(ref_probs >= 0.5, scene.labels[: len(probs)])
    assert f1 >= 0.85
    assert ref_f1 >= 0.85
    # On this babble scene the cascade was 0.13 below Silero (0.79 vs 0.92) while FrameVad rated
    # babble pauses as speech-like as speech; with its level-against-peak feature it is 0.930
    # against Silero's 0.918.
    assert f1 >= ref_f1 - 0.02
    if mode == "cascade":
        # Invocation count, not timing: the cascade must skip most of Silero's chunks. Measured
        # 17 % of them in white noise, 46 % in babble on this short scene (4 utterances, so the
        # stream start weighs more; 30-31 % over the 12-utterance babble scenes of
        # bench/eval_vad.py; 40 % here with the 17-feature FrameVad at the 0.13 F1 loss above).
        assert chunks <= (0.25 if noise == "white" else 0.5) * ref_chunks
