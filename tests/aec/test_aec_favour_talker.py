"""EchoCanceller(favour_talker=True): the fitted missed-talk model's lower double-talk threshold
(ResidualSuppressor, kMissedTalkDoubleFavoured; bench/fit_missed_talk.py), and the kernel's fitting
hooks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aec_cases import corpus_case, run, run_canceller  # noqa: E402

import voicecore  # noqa: E402
from voicecore.dsp.aec import EchoCanceller  # noqa: E402
from voicecore.dsp.aec_eval import evaluate_output, regenerate_corpus  # noqa: E402


@pytest.fixture(scope="module")
def regenerated_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("favour_talker_corpus")


@pytest.mark.parametrize(
    ("seed", "name", "max_loss", "min_gain", "min_erle"),
    [
        (10, "c07_dt_ser-5_rt350_d120", 4.05, 0.12, 51.0),
        (18, "c12_nl_hardclip_dt_ser-5_rt200_d150", 2.95, 0.4, 24.0),
    ],
)
def test_favour_talker_keeps_the_talker_under_the_echo(
    eval_dir: Path,
    regenerated_root: Path,
    seed: int,
    name: str,
    max_loss: float,
    min_gain: float,
    min_erle: float,
) -> None:
    """Corpus generator rooms with the talker 5 dB under the echo, where the default loses over 3 dB of
    him (4.16 / 3.06 dB). With favour_talker the model's double-talk tier takes more blocks (over 0.98
    instead of 0.999, or 0.99 by default once the talker is known to be under an unclipped echo, and
    its lone-like tier over 0.9 instead of 0.95): 3.99 / 2.56 dB measured, single-talk ERLE 52.3 / 26.8
    dB (the same by default). The c07 room was seed 122 until session 43, where the default now keeps
    most of what favour_talker kept (2.93 dB by default, 2.87 favoured; 3.33 / 3.03 before
    kMissedTalkDoubleUnder, 3.60 by default before the model was the default in session 40)."""
    case = corpus_case(regenerate_corpus(eval_dir, seed, regenerated_root / f"seed{seed}"), name)
    default = evaluate_output(case, run(case))
    favoured = evaluate_output(case, run(case, favour_talker=True))
    assert favoured["near_loss_db"] <= max_loss, favoured
    assert default["near_loss_db"] - favoured["near_loss_db"] >= min_gain, (default, favoured)
    assert favoured["erle_db"] >= min_erle, favoured


@pytest.mark.parametrize("name", ["c01_st_rt150_d20", "c13_nearend_only_rt300"])
def test_favour_talker_changes_nothing_without_a_talker(
    eval_dir: Path, regenerated_root: Path, name: str
) -> None:
    """The model is only asked after a talker has been confirmed in the call, so its threshold
    cannot matter before: a room of single talk and a room with no echo come out bit for bit as by
    default."""
    case = corpus_case(regenerate_corpus(eval_dir, 122, regenerated_root / "seed122"), name)
    np.testing.assert_array_equal(run(case, favour_talker=True), run(case))


def test_missed_talk_fit_hooks(eval_dir: Path, regenerated_root: Path) -> None:
    """The hooks bench/fit_missed_talk.py reads: one row per 4 ms block (index, candidate flag, the 25
    features, the 65 gains); a forced treatment changes only the candidate blocks' gains; a bad force
    is a ConfigError."""
    case = corpus_case(
        regenerate_corpus(eval_dir, 122, regenerated_root / "seed122"), "c07_dt_ser-5_rt350_d120"
    )
    rows = {}
    for force in (0, 2):
        ec = EchoCanceller()
        ec._impl._missed_talk_fit(force, True)
        run_canceller(ec, case)
        rows[force] = np.asarray(ec._impl._missed_talk_rows())
    base, dt = rows[0], rows[2]
    assert base.shape == dt.shape, (base.shape, dt.shape)
    assert base.shape[1] == 2 + 25 + 65, base.shape
    np.testing.assert_array_equal(base[:, 0], np.arange(len(base)))
    cand = base[:, 1] > 0
    assert 200 < cand.sum() < len(base) // 2, cand.sum()
    assert np.isfinite(base).all()
    # The features do not depend on the treatment; the gains do, and only in candidate blocks.
    np.testing.assert_array_equal(base[:, :27], dt[:, :27])
    changed = np.any(base[:, 27:] != dt[:, 27:], axis=1)
    assert changed[cand].mean() > 0.5
    assert not changed[~cand].any()
    assert dt[cand, 27:].mean() > base[cand, 27:].mean(), "double-talk treatment must keep more"
    with pytest.raises(voicecore.ConfigError):
        EchoCanceller()._impl._missed_talk_fit(3, False)
