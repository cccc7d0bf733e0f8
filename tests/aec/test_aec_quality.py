"""Echo-canceller quality on the shared corpus and on generated rooms (other seeds).

Figures are measured with voicecore.dsp.aec_eval (the BASELINES.md method). A pass-through canceller
scores 0 dB ERLE; one that mutes the microphone scores an infinite near-end loss: both fail here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aec_cases import (  # noqa: E402
    clipped_double_talk,
    corpus_case,
    generated,
    recipe_case,
    room_and_delay_jump,
    run,
    run_canceller,
    run_following_delay,
    with_delay_jump,
)

from voicecore.dsp.aec import EchoCanceller  # noqa: E402
from voicecore.dsp.aec_eval import EchoCase, evaluate_output, regenerate_corpus  # noqa: E402


# Measured (AVX2 path): c01 45, c02 46, c03 41.4 (AEC3 40.6), c06 42.
@pytest.mark.parametrize(
    ("name", "min_erle"),
    [
        ("c01_st_rt150_d20", 38.0),
        ("c02_st_rt250_d80", 38.0),
        ("c03_st_rt400_d200", 37.5),
        ("c06_dt_ser0_rt250_d50", 30.0),
    ],
)
def test_corpus_single_talk_erle(eval_dir: Path, name: str, min_erle: float) -> None:
    case = corpus_case(eval_dir, name)
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= min_erle, m
    assert m["t20_s"] <= 1.0, m


def test_generated_room_erle(eval_dir: Path) -> None:
    case = generated(eval_dir, "gen_st", 901, rt60=0.25, delay_ms=(120, 120))
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= 15.0, m
    assert m["t20_s"] <= 1.5, m


def _flags_and_output(case: EchoCase, flag: str = "double_talk") -> tuple[np.ndarray, np.ndarray]:
    """Per 10 ms frame the canceller's `flag` stat (the suppressor's double-talk flag by default),
    and the canceller's output."""
    ec = EchoCanceller(16000, 10, 500, 250)
    far, mic = case.far.astype(np.float32), case.mic.astype(np.float32)
    n = len(mic) // 160 * 160
    out = np.zeros(len(mic), np.float32)
    flags = []
    for i in range(0, n, 160):
        ec.push_far(far[i : i + 160])
        out[i : i + 160] = ec.process_near(mic[i : i + 160])
        flags.append(ec.stats[flag])
    return np.array(flags), out.astype(np.float64)


def _energy_talk_fraction(case: EchoCase) -> tuple[float, np.ndarray]:
    flags, out = _flags_and_output(case, "energy_double_talk")
    return float(np.mean(flags[100:])), out


@pytest.mark.parametrize(("name", "max_fraction"), [("c03_st_rt400_d200", 0.16), ("gen", 0.08)])
def test_energy_detector_quiet_in_single_talk(eval_dir: Path, name: str, max_fraction: float) -> None:
    """Single talk with far-end pauses: the sensor noise in the pauses is not near-end speech. Before
    the detector had a noise floor it fired in 20 % of c03's blocks (measured now: 11 %; gen: 3 %)."""
    case = (
        corpus_case(eval_dir, name)
        if name != "gen"
        else generated(eval_dir, "gen_st_pauses", 906, rt60=0.4, delay_ms=(100, 100))
    )
    fraction, out = _energy_talk_fraction(case)
    assert fraction <= max_fraction, fraction
    assert evaluate_output(case, out)["erle_db"] >= 28.0


# Rooms 971-976: mixed reverberation and delay; 981-986: 300 ms of delay in a 0.35 s room.
_ST_ROOMS = [
    (971, 0.2, 40),
    (972, 0.35, 300),
    (973, 0.3, 90),
    (974, 0.25, 70),
    (975, 0.35, 120),
    (976, 0.2, 200),
] + [(s, 0.35, 300) for s in range(981, 987)]


@pytest.mark.parametrize(("seed", "rt60", "delay_ms"), _ST_ROOMS)
def test_single_talk_not_taken_for_double_talk(eval_dir: Path, seed: int, rt60: float, delay_ms: int) -> None:
    """Echo alone (no talker at all): over the frames with echo after the first second, neither the
    energy detector (which slows adaptation) nor the suppressor's decision (which lets the residual
    through) may claim double talk in more than 5 % of them. The energy detector used to fire on
    blocks the filters already cancelled (a misplaced onset, a bin the power predictor misses); its
    share per room 971-976 was 13.7 / 2.4 / 9.3 / 4.6 / 7.6 / 12.1 % and per room 981-986
    15.2 / 0.0 / 5.3 / 1.2 / 37.1 / 7.4 % (8 of 12 rooms fail; the suppressor's 7.8 % in room 985,
    where ERLE was 20.2 dB). With blocks the filters cancel by 6 dB or more excluded from the
    detector: at most 3.0 % (room 985; 1.5 % elsewhere), suppressor at most 2.5 % (985, ERLE 26.1 dB)."""
    case = generated(eval_dir, "gen_st_dt_flags", seed, rt60=rt60, delay_ms=(delay_ms, delay_ms))
    ec = EchoCanceller(16000, 10, 500, 250)
    far, mic = case.far.astype(np.float32), case.mic.astype(np.float32)
    energy, suppressor = [], []
    for i in range(0, len(mic) // 160 * 160, 160):
        ec.push_far(far[i : i + 160])
        ec.process_near(mic[i : i + 160])
        energy.append(ec.stats["energy_double_talk"])
        suppressor.append(ec.stats["double_talk"])
    echo_power = np.array([np.sum(case.echo[i : i + 160] ** 2) for i in range(0, len(energy) * 160, 160)])
    with_echo = echo_power > 1e-3 * echo_power.max()
    with_echo[:100] = False
    assert np.mean(np.array(energy)[with_echo]) <= 0.05
    assert np.mean(np.array(suppressor)[with_echo]) <= 0.05


def test_no_near_end_loss_when_far_silent(eval_dir: Path) -> None:
    case = corpus_case(eval_dir, "c13_nearend_only_rt300")
    out = run(case)
    m = evaluate_output(case, out)
    assert abs(m["near_loss_db"]) < 0.3, m
    gen = generated(eval_dir, "gen_near_only", 902, near_only=True)
    mg = evaluate_output(gen, run(gen))
    assert abs(mg["near_loss_db"]) < 0.3, mg
    # With no far signal the canceller is a pure delay: the output is the mic, late.
    lat = 96
    assert np.allclose(out[lat:], case.mic[: len(out) - lat].astype(np.float32), atol=1e-5)


@pytest.mark.parametrize(
    "name", ["c06_dt_ser0_rt250_d50", "c08_dt_ser+5_rt200_d30", "c12_nl_hardclip_dt_ser-5_rt200_d150"]
)
def test_double_talk_keeps_near_end(eval_dir: Path, name: str) -> None:
    case = corpus_case(eval_dir, name)
    m = evaluate_output(case, run(case))
    assert m["near_loss_db"] <= 3.0, m
    assert m["seg_snr_db"] >= 3.5, m
    assert m["erle_db"] >= 12.0, m  # and the echo around the talker is still removed


def test_generated_double_talk(eval_dir: Path) -> None:
    case = generated(eval_dir, "gen_dt", 903, rt60=0.3, delay_ms=(70, 70), ser_db=0.0)
    m = evaluate_output(case, run(case))
    assert m["near_loss_db"] <= 4.0, m
    assert m["erle_db"] >= 8.0, m


@pytest.mark.parametrize("name", ["c04_pathchange_rt300_d60", "c05_pathchange_delaystep_rt250_d40to120"])
def test_recovery_after_path_change(eval_dir: Path, name: str) -> None:
    case = corpus_case(eval_dir, name)
    m = evaluate_output(case, run(case))
    assert m["recovery_s"] <= 1.0, m


def test_recovery_after_delay_jump(eval_dir: Path) -> None:
    case = generated(eval_dir, "gen_jump", 904, rt60=0.2, delay_ms=(50, 150), change_s=6.0)
    m = evaluate_output(case, run(case))
    assert m["recovery_s"] <= 1.0, m  # measured 0.2 s (2.1 s before the confirmed fast changes)
    assert m["erle_db"] >= 15.0, m  # 20.2 dB


@pytest.mark.parametrize(
    ("seed", "jump_ms", "delay_ms"),
    [(906, 120, 60), (907, 100, 60), (908, 100, 60), (909, -80, 150), (910, -100, 120)],
)
def test_recovery_after_pure_delay_jump(eval_dir: Path, seed: int, jump_ms: int, delay_ms: int) -> None:
    """Same room, the bulk delay grows (or shrinks) by 80-120 ms at 6 s: a playout buffer that changed.
    The waveform test finds the exact shift from the foreground's echo history and moves the filter
    window without touching the coefficients. Measured 0.9 / 0.3 / 0.25 / 0.6 / 0.55 s. Before, the
    new delay waited for the long-memory estimator (400 ms of winning while the energy detector held
    it) and the filter re-converged: the previous kernel missed 1 s on four of these five rooms."""
    base = generated(eval_dir, f"gen_pure_jump_{seed}", seed, rt60=0.25, delay_ms=(delay_ms, delay_ms))
    case = with_delay_jump(base, 6.0, jump_ms)
    m = evaluate_output(case, run(case))
    assert m["recovery_s"] <= 1.0, m
    assert m["erle_db"] >= 12.0, m


@pytest.mark.parametrize("seed", [17, 18, 19])
def test_recovery_after_room_and_delay_change(eval_dir: Path, seed: int) -> None:
    """New room and +100 ms at 6 s (the eval's x03 recipe, seeds not used in its tables). No waveform
    match exists, so the power test takes the proposal; the energy detector is then kept from holding
    adaptation for 500 ms (the proposal runs late, displaced onsets look like talk). Measured 0.65 /
    0.5 / 0.5 s; the previous kernel took 2.2 / 1.5 s on two of them."""
    case = room_and_delay_jump(eval_dir, f"gen_room_jump_{seed}", seed)
    m = evaluate_output(case, run(case))
    assert m["recovery_s"] <= 1.0, m


@pytest.mark.parametrize(("seed", "min_erle"), [(2008, 32.0), (2011, 24.0), (2037, 17.0)])
def test_late_delay_proposal_keeps_relearnt_filter(eval_dir: Path, seed: int, min_erle: float) -> None:
    """The x03 recipe (new room, +100 ms at 6 s) on seeds the eval tables do not use. After the first
    confirmed change the filter re-learns the new room at the current lags; a second power-test
    proposal some hundred ms later is mostly the envelope estimate running late, and moving the
    coefficients with it put the partly learnt path blocks off the echo (the filter failed again for
    seconds). Measured 28.8 / 18.8 / 13.8 dB before, 34.9 / 27.1 / 19.7 dB with that change (recovery
    unchanged; 34.9 / 40.5 / 20.0 dB with the relearning threshold ramp below)."""
    case = room_and_delay_jump(eval_dir, f"gen_room_jump_{seed}", seed)
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= min_erle, m
    assert m["recovery_s"] <= 1.0, m


@pytest.mark.parametrize(("seed", "min_erle"), [(2018, 18.0), (2020, 26.5), (2036, 33.0)])
def test_energy_detector_relearns_after_room_change(eval_dir: Path, seed: int, min_erle: float) -> None:
    """The x03 recipe on unseen seeds. After a confirmed delay change the echo-return gain per bin
    is still the old room's; once the 500 ms without the energy detector end, its threshold falls
    from the warm-up's 9 dB to 6 dB over a second (as after call start), so the new room's louder
    bins are not taken for talk that holds adaptation and opens the suppressor. Measured 15.9 / 23.4
    / 24.5 dB before, 19.2 / 28.9 / 38.0 dB now."""
    case = room_and_delay_jump(eval_dir, f"gen_room_jump_{seed}", seed)
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= min_erle, m
    assert m["recovery_s"] <= 1.0, m


def test_young_filter_follows_a_delay_jump(eval_dir: Path) -> None:
    """The x03 recipe (new room, +100 ms at 6 s, here in a far-end pause). This room's linear filter
    had reached only 6-9 dB by then, under the 10 dB from which the power test's plain fit may move
    the delay; the long-memory search took the jump 0.8 s later, 3 blocks late, and the filter took
    2.5 s of far activity to recover (9.7 dB). A filter over 6 dB within the last second, before any
    talker is heard, may take the plain fit once it removes nothing: 0.11 s, 26.6 dB (AEC3 15.6).
    A room of the eval's set z: none of 680 unseen rooms (x01-x03, c04, c05, c11) met the case."""
    case = recipe_case(eval_dir, "s8055_x03", 8055, "x03")
    m = evaluate_output(case, run(case))
    assert m["recovery_active_s"] <= 0.5, m
    assert m["erle_db"] >= 20.0, m


@pytest.mark.parametrize(("seed", "min_erle"), [(8021, 35.0), (4012, 30.0)])
def test_displaced_echo_keeps_talk_from_suppressor(eval_dir: Path, seed: int, min_erle: float) -> None:
    """The x03 recipe (new room, +100 ms at 6 s, the far end playing on). The displaced-echo test
    held talk off while the error stayed over the mic, but the delay was confirmed only 0.65 s after
    the jump: the background had learnt part of the moved echo inside the old window, the hold ran
    out at 6.42 s, and the energy detector, still predicting at the old delay, took the moved echo
    for talk, which the suppressor passed (24.4 dB, AEC3 28.0). For 2 s of far activity after a
    displaced echo (one found after a second without talk, where the old estimate is at least half
    the mic and the mic well over its noise floor), or until a delay change is confirmed, that talk
    no longer reaches the suppressor: 45.2 dB. Seed 8021 is a room of the eval's set z; seed 4012,
    one no table uses (17.0 -> 38.0 dB)."""
    case = recipe_case(eval_dir, f"s{seed}_x03", seed, "x03")
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= min_erle, m


def test_power_test_takes_strong_flat_fit_in_louder_room(eval_dir: Path) -> None:
    """The x03 recipe (new room, +100 ms at 6 s) on a seed no table uses. The new room is louder, so
    the current delay's estimate stays under the microphone and the power test's louder-than-mic
    condition held the change although the proposal fitted 3x better; a proposal that fits that well
    for 36 blocks, with a flat per-bin gain to the mic, after the waveform window, now passes.
    Measured 1.15 s / 26.5 dB before, 0.5 s / 28.4 dB now."""
    case = room_and_delay_jump(eval_dir, "gen_room_jump_3111", 3111)
    m = evaluate_output(case, run(case))
    assert m["recovery_s"] <= 0.8, m
    assert m["erle_db"] >= 25.0, m


def test_strong_fit_move_keeps_worse_guard(eval_dir: Path) -> None:
    """The x03 recipe on a seed no table uses. The strong-fit path moves the delay with a hedged
    shift, which can leave the old room's path beside the new one; a loud passage after a pause
    exposes it once the 500 ms retrain window has run out, and the energy detector took the failure
    for talk (the suppressor passed echo). After a strong-fit move the output-worse-than-mic hold may
    start for 1000 further blocks of far activity. Measured 10.4 dB before, 21.0 dB now."""
    case = room_and_delay_jump(eval_dir, "gen_room_jump_3146", 3146)
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= 18.0, m
    assert m["recovery_s"] <= 1.0, m


@pytest.mark.parametrize("seed", [3347, 3378])
def test_post_move_failure_at_mic_level_is_not_talk(eval_dir: Path, seed: int) -> None:
    """The x03 recipe (new room, +100 ms at 6 s) on seeds no table uses. After the confirmed delay
    change the re-learning filter fails briefly with its error at about the mic level (under the
    1.5x worse-than-mic rule), and the energy detector took that for talk, so the suppressor passed
    echo. For 1000 far-active blocks after a change of over 4 blocks talk may not start while the
    smoothed error is at the mic or above. Measured 16.6 / 22.9 dB before, 37.4 / 41.1 dB now."""
    case = room_and_delay_jump(eval_dir, f"gen_room_jump_{seed}", seed)
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= 30.0, m
    assert m["recovery_s"] <= 1.0, m


@pytest.mark.parametrize(("seed", "min_erle"), [(11, 25.0), (15, 35.0)])
def test_no_spurious_delay_jump_in_double_talk(eval_dir: Path, seed: int, min_erle: float) -> None:
    """Long double talk (SER 0 dB, 2-6 s and 7.5-11 s): near-end speech makes correlation peaks at
    other lags that used to win the delay search for 400 ms and move the filter away (ERLE over the
    file 10.0 dB on seed 11 and 22.6 dB on seed 15 before; 31 and 43 dB now). A delay change now needs
    the microphone's confirmation, which near-end speech cannot give (it only adds power)."""
    case = generated(eval_dir, f"gen_dt_{seed}", seed, stream=3, rt60=0.3, delay_ms=(90, 90), ser_db=0.0)
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= min_erle, m
    assert m["near_loss_db"] <= 3.0, m


def test_short_delay_double_talk_keeps_filter(eval_dir: Path) -> None:
    """c08 (30 ms, SER +5 dB): the delay estimate used to jump to the end of the search range during
    double talk (21.5 dB ERLE); measured now 50 dB."""
    case = corpus_case(eval_dir, "c08_dt_ser+5_rt200_d30")
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= 35.0, m


def test_no_delay_move_to_end_of_search_range(eval_dir: Path) -> None:
    """s13_x05 (a clipping loudspeaker, 70 ms, a talker 5 dB under the echo): at 9.2 s the talker's
    envelope correlated best with the oldest far speech in the 500 ms range, and the short-memory
    proposal on that last lag passed as a moved echo (72 -> 484 ms; single-talk ERLE 11.5 dB, near
    loss 1.81 dB). A proposal on the range's last lag is no peak and is not put to the test now:
    measured 45.6 dB and 1.05 dB, the estimate at 72 ms throughout."""
    case = clipped_double_talk(eval_dir, "gen_edge_13", 13, 4)
    out, delays = run_following_delay(case)
    assert max(delays) <= 100.0, max(delays)
    m = evaluate_output(case, out)
    assert m["erle_db"] >= 40.0, m
    assert m["near_loss_db"] <= 1.5, m


@pytest.fixture(scope="session")
def regenerated_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("regenerated_corpus")


@pytest.mark.parametrize(("seed", "room"), [(407, "c06_dt_ser0_rt250_d50"), (115, "c08_dt_ser+5_rt200_d30")])
def test_echo_onset_in_the_hangover_is_suppressed(
    eval_dir: Path, regenerated_root: Path, seed: int, room: str
) -> None:
    """The corpus generator's double-talk rooms (SER 0 / +5 dB). A far word that starts in the hangover
    after the talker rose 20-30 dB within a block or two, and the three blocks of echo alone the
    hangover waited for went out at double talk's over-subtraction: seed 407's single 10 ms frame at
    6.11 s held 99 % of the room's single-talk output. Within an echo onset one block of echo alone
    now ends it. Measured 46.7 / 51.2 dB (AEC3 36.6 / 36.0); before 33.3 / 42.7 dB; near loss
    0.45 / 0.25 dB either way."""
    case = corpus_case(regenerate_corpus(eval_dir, seed, regenerated_root / f"seed{seed}"), room)
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= 45.0, m
    assert m["near_loss_db"] <= 0.6, m


def test_no_long_memory_move_to_end_of_search_range(eval_dir: Path, regenerated_root: Path) -> None:
    """c08 of the corpus generator with seed 32 (30 ms, SER +5 dB): at 9.05 s, in double talk, the
    talker held the long-memory search on the range's last lag for 600 ms, and the estimate moved
    there without a confirmation (36 -> 500 ms; single-talk ERLE 5.0 dB, the output at the mic's
    level after the talker's last word). Measured now 47.7 dB, the estimate at 36 ms throughout."""
    root = regenerate_corpus(eval_dir, 32, regenerated_root / "seed32")
    case = corpus_case(root, "c08_dt_ser+5_rt200_d30")
    out, delays = run_following_delay(case)
    assert max(delays) <= 100.0, max(delays)
    m = evaluate_output(case, out)
    assert m["erle_db"] >= 35.0, m


def test_no_waveform_move_out_of_the_delay_range(eval_dir: Path, regenerated_root: Path) -> None:
    """c10 of the corpus generator with seed 109 (100 ms, soft saturation, SER 0 dB): at 2.2 s, in
    double talk, the waveform move test found the microphone of 352 ms before matching the current
    echo estimate (13 blocks at 0.095 of it, under the 0.1 bar) and took a move that put the delay
    at -252 ms; clamped to 0, the filter lost the echo, and the power test then chased the talker
    through 256, 84, 120, 340 and 76 ms (single-talk ERLE 11.1 dB, AEC3 26.1). Only shifts that keep
    the delay in range pass now: measured 36.8 dB, the estimate at 100 ms throughout."""
    root = regenerate_corpus(eval_dir, 109, regenerated_root / "seed109")
    case = corpus_case(root, "c10_nl_softsat_dt_ser0_rt300_d100")
    out, delays = run_following_delay(case)
    known = [d for d in delays if d >= 0]
    assert min(known) >= 76.0, min(known)
    assert max(known) <= 124.0, max(known)
    m = evaluate_output(case, out)
    assert m["erle_db"] >= 30.0, m


@pytest.mark.parametrize(
    ("seed", "name", "min_erle", "max_loss"),
    [
        pytest.param(6, "c12_nl_hardclip_dt_ser-5_rt200_d150", 35.5, 1.3, id="held-run-6-c12"),
        pytest.param(58, "c10_nl_softsat_dt_ser0_rt300_d100", 32.0, 1.5, id="held-run-58-c10"),
        pytest.param(84, "c10_nl_softsat_dt_ser0_rt300_d100", 40.0, 1.0, id="held-run-under-echo-84-c10"),
    ],
)
def test_echo_run_holds_through_a_far_word_onset(
    eval_dir: Path, regenerated_root: Path, seed: int, name: str, min_erle: float, max_loss: float
) -> None:
    """Rooms of the corpus generator where a far word starts as the talker stops: its coherent share
    dipped under 0.95 for a block or two as it built, the hangover's run of echo-alone blocks broke,
    and double talk's gentle over-subtraction passed it (k5_c08 at 6.15 s: 99 % of the room's
    single-talk output in three blocks). An established run now goes on at 0.9 (kEchoHeldShare)
    unless the talker sits under the echo; with the talker under the echo it goes on only while the
    error is 10 dB under the echo estimate (kHeldUnderEchoError).
    The rooms first pinned here (k5_c08, k2_c10, k59_c10) no longer depend on either rule since later
    ones (k2_c10 since the step's spectral floor, kSpectralFloor: 36.0 dB with the run or without).
    The rooms pinned now are where each decides on the current kernel (ERLE measured with / without
    the rule; AEC3's in brackets): k6_c12 37.6 / 33.3 dB (8.4) and k58_c10 33.4 / 29.4 dB (31.6) for
    the held run, k84_c10 42.5 / 36.9 dB (30.7) for its form under the echo (without it: the run never
    held while the talker is under the echo). Near loss is the same either way in all three."""
    m = corpus_room_metrics(eval_dir, regenerated_root, seed, name)
    assert m["erle_db"] >= min_erle, m
    assert m["near_loss_db"] <= max_loss, m


def test_output_never_far_over_the_mic(eval_dir: Path, regenerated_root: Path) -> None:
    """c08 of the corpus generator with seed 69 (30 ms, SER +5 dB): the filter never converged, so no
    lost-filter rule applied, and at 6.09 s, in the talker's hangover, its estimate added 14-17 dB
    to the microphone and went out whole (single-talk ERLE 25.7 dB, AEC3 32.0). The suppressor
    now caps each bin at 4.8 dB over the microphone (powers smoothed over about 20 ms): measured
    40.6 dB, and the output's 20 ms frames at most 4.75 dB over the microphone's where the echo
    plays (18.4 dB before)."""
    root = regenerate_corpus(eval_dir, 69, regenerated_root / "seed69")
    case = corpus_case(root, "c08_dt_ser+5_rt200_d30")
    out = run(case)
    m = evaluate_output(case, out)
    assert m["erle_db"] >= 35.0, m
    from voicecore.dsp import aec_eval as A

    lag = int(round(m["lag_ms"] * 16))
    o = out[lag:]
    n = len(o)
    po, pm, pe = (A._frame_power(x, 320) for x in (o, case.mic[:n], case.echo[:n]))
    loud = pe > 1e-7
    worst = float(np.max(10 * np.log10((po[loud] + 1e-12) / (pm[loud] + 1e-12))))
    assert worst <= 6.0, worst


def corpus_room_metrics(eval_dir: Path, regenerated_root: Path, seed: int, name: str) -> dict[str, float]:
    """Our figures on one room of the corpus generator run with ``seed``."""
    root = regenerate_corpus(eval_dir, seed, regenerated_root / f"seed{seed}")
    case = corpus_case(root, name)
    return evaluate_output(case, run(case))


def test_weak_bins_step_is_floored(eval_dir: Path, regenerated_root: Path) -> None:
    """A room of the corpus generator (a softly saturating loudspeaker, a talker at 0 dB SER) whose echo
    leaked in bins the far speech leaves 20-40 dB under its strongest: NLMS normalised per bin took the
    error's steps there at full size. With the normalisation given a soft floor 20 dB under its average
    over bins (kSpectralFloor) the single-talk ERLE measured 47.4 dB (30.9 before; AEC3 34.6)."""
    m = corpus_room_metrics(eval_dir, regenerated_root, 511, "c10_nl_softsat_dt_ser0_rt300_d100")
    assert m["erle_db"] >= 40.0, m
    assert m["near_loss_db"] <= 1.0, m


@pytest.mark.parametrize(
    ("seed", "name", "floor_db"),
    [(107, "c08_dt_ser+5_rt200_d30", 40.0), (37, "c10_nl_softsat_dt_ser0_rt300_d100", 38.0)],
)
def test_filter_kept_through_confirmed_talk(
    eval_dir: Path, regenerated_root: Path, seed: int, name: str, floor_db: float
) -> None:
    """Rooms of the corpus generator where the talker pulled the converged filter: with the
    background adapting at 0.05 of a full step through confirmed double talk, its misadjustment
    left the foreground 5-10 dB of linear ERLE, and the suppressor's hangover let that residual out
    after each talk span. At 0.015 (both detectors agree, and the filter had reached 10 dB before the
    talk) the single-talk ERLE measured 43.6 / 43.8 dB (33.0 / 26.1 dB before; AEC3 44.9 / 25.7)."""
    m = corpus_room_metrics(eval_dir, regenerated_root, seed, name)
    assert m["erle_db"] >= floor_db, m
    assert m["near_loss_db"] <= 1.0, m


@pytest.mark.parametrize(
    ("seed", "min_erle"),
    [
        pytest.param(112, 45.0, id="recent-talk-threshold-112"),
        pytest.param(121, 52.0, id="recent-talk-threshold-121"),
        pytest.param(1, 48.0, id="single-lost-blocks-1"),
        pytest.param(95, 53.0, id="single-lost-blocks-95"),
        pytest.param(50, 47.0, id="lone-coherence-50"),
        pytest.param(82, 42.0, id="lone-coherence-82"),
    ],
)
def test_talker_under_the_echo_keeps_his_blocks(
    eval_dir: Path, regenerated_root: Path, seed: int, min_erle: float
) -> None:
    """c07 of the corpus generator (SER -5 dB, RT60 0.4-0.55 s), where the talker sits under the echo;
    each pair of seeds pins one rule, and fails on the build before it.

    recent-talk-threshold: his blocks sit at 0.3-0.6x of the echo's coherent energy, under the
    coherence detector's 0.6x, and went out at the single-talk over-subtraction. Within 2 s of
    confirmed talk the detector also takes 0.4x (kRecentTalkEchoRatio): near loss 3.19 / 3.16 dB
    before, 2.84 / 2.87 dB after; single-talk ERLE 49.6 / 57.0 dB either way (AEC3: 41.8 / 24.9 dB,
    near loss 9.0 / 8.4 dB).

    single-lost-blocks: where talker and echo cancel in a 4 ms block of the mic, the filter's error
    exceeds 1.5x the mic and the block counted as lost; each such block re-armed the suppressor,
    whose fallback then took ~0.5 s of the talker. Once the talker has been found under the echo
    those blocks are not passed on (ResidualSuppressor::talker_under_echo): near loss 3.32 / 3.37 dB
    before, 2.57 / 2.80 dB after; single-talk ERLE 52.5 / 57.3 dB either way (AEC3: 48.7 / 42.8 dB,
    near loss 8.2 / 13.9 dB).

    lone-coherence: a fifth of his blocks had neither detector firing; within 2 s of confirmed talk,
    with the filter trusted and the far end explaining under 30 % of its error, the coherence
    detector's lone blocks are suppressed at an over-subtraction of 3, not 6 (kLoneCoherenceBlocks):
    near loss 3.19 / 3.39 dB before, 2.47 / 2.72 dB after; single-talk ERLE 49.5 / 44.0 dB either way
    (AEC3: 15.2 / 19.7 dB, near loss 8.7 / 6.5 dB)."""
    m = corpus_room_metrics(eval_dir, regenerated_root, seed, "c07_dt_ser-5_rt350_d120")
    assert m["near_loss_db"] <= 3.0, m
    assert m["erle_db"] >= min_erle, m


@pytest.mark.parametrize(("seed", "min_erle"), [(120, 33.0), (51, 42.0)])
def test_hangover_after_a_loud_talker_ends_without_detections(
    eval_dir: Path, regenerated_root: Path, seed: int, min_erle: float
) -> None:
    """c08 of the corpus generator (SER +5 dB): the talker comes in while the filter is young, and
    the hangover after his turns let out a far-end word that started as he stopped. After a talker
    heard well over the echo, the third hangover block in a row that neither detector takes for
    talk is echo alone (kLoudTalkRatio): single-talk ERLE 20.6 / 32.0 dB before, 35.4 / 45.1 dB now
    (AEC3: 35.7 / 37.5 dB)."""
    m = corpus_room_metrics(eval_dir, regenerated_root, seed, "c08_dt_ser+5_rt200_d30")
    assert m["erle_db"] >= min_erle, m
    assert m["near_loss_db"] <= 1.0, m


def test_missed_talker_does_not_drive_the_filter(eval_dir: Path, regenerated_root: Path) -> None:
    """A talker the detectors miss adapted the background at the full step (they read the mic, which a
    talker 10-15 dB under the echo barely changes), and the filter went wrong on his speech; the step
    now follows the share of the filter's error the far end explains (kCoherenceGain). Seed 24's c06
    room (SER 0 dB): single-talk ERLE 17.4 dB before, 48.8 now (AEC3 40.9). Seed 111's c08 room
    (SER +5 dB): near loss 3.04 dB before, 0.60 now. That room's talker ends a word with a
    rumble in bin 0 alone, 15 dB under the echo: it must still hold adaptation (see kDcExcessRatio;
    2.11 dB when it did not)."""
    m = corpus_room_metrics(eval_dir, regenerated_root, 24, "c06_dt_ser0_rt250_d50")
    assert m["erle_db"] >= 40.0, m
    m = corpus_room_metrics(eval_dir, regenerated_root, 111, "c08_dt_ser+5_rt200_d30")
    assert m["near_loss_db"] <= 1.5, m


@pytest.mark.parametrize("seed", [46, 300])
def test_talker_onset_is_not_a_shrunk_delay(eval_dir: Path, regenerated_root: Path, seed: int) -> None:
    """Soft-saturation rooms of the corpus generator, a talker starting 17 dB over the echo. The
    waveform test's "shrank" side compared the microphone's blocks from before his onset with the
    current echo estimate, found a chance likeness and moved the delay (seed 300: 104 -> 52 ms at
    7.6 s), and the filter then chased the talker. It now compares only blocks from within the
    failure (EchoMoveCheck::Score). Near loss before / now: 2.65 / 0.99 and 2.35 / 0.79 dB."""
    m = corpus_room_metrics(eval_dir, regenerated_root, seed, "c10_nl_softsat_dt_ser0_rt300_d100")
    assert m["near_loss_db"] <= 1.3, m
    assert m["erle_db"] >= 40.0, m


@pytest.mark.parametrize(("seed", "min_erle"), [(315, 45.0), (409, 43.0)])
def test_loudspeaker_dc_offset_is_not_talk(
    eval_dir: Path, regenerated_root: Path, seed: int, min_erle: float
) -> None:
    """The corpus generator's soft saturation rectifies part of the far end into a DC offset that the
    power predictor does not foresee; the energy detector took it for talk and opened the suppressor's
    hangover. A block whose bin 0 holds over 4x bin 1's power now opens it only if it is talk without
    bin 0 (kDcExcessRatio). Single-talk ERLE before / now: 30.1 / 50.1 and 29.5 / 47.4 dB (AEC3 27.4 /
    27.7), near loss 0.70 / 0.67 and 0.59 / 0.58 dB."""
    m = corpus_room_metrics(eval_dir, regenerated_root, seed, "c10_nl_softsat_dt_ser0_rt300_d100")
    assert m["erle_db"] >= min_erle, m
    assert m["near_loss_db"] <= 1.0, m


@pytest.mark.parametrize(
    ("seed", "name", "min_erle"),
    [(401, "c07_dt_ser-5_rt350_d120", 45.0), (33, "c12_nl_hardclip_dt_ser-5_rt200_d150", 29.0)],
)
def test_missed_talker_is_not_learnt_as_residual(
    eval_dir: Path, regenerated_root: Path, seed: int, name: str, min_erle: float
) -> None:
    """A talker under the echo (SER -5 dB) whom the detectors miss used to be learnt as residual echo
    (leakage and nonlinear residual), and the raised estimates took him in his next missed blocks. Once
    a talker is confirmed those estimates learn only from blocks of echo alone (ResidualSuppressor,
    learn_residual). Near loss before / now: 3.37 / 2.55 and 3.43 / 2.76 dB (AEC3 10.2 / 6.3);
    single-talk ERLE 48.1 / 48.1 and 32.3 / 31.9 dB (AEC3 27.9 / 16.0)."""
    m = corpus_room_metrics(eval_dir, regenerated_root, seed, name)
    assert m["near_loss_db"] <= 3.0, m
    assert m["erle_db"] >= min_erle, m


@pytest.mark.parametrize(
    ("seed", "name", "max_loss", "min_erle"),
    [(122, "c07_dt_ser-5_rt350_d120", 3.9, 43.0), (110, "c12_nl_hardclip_dt_ser-5_rt200_d150", 2.85, 35.0)],
)
def test_talker_missed_under_the_echo_is_spared(
    eval_dir: Path, regenerated_root: Path, seed: int, name: str, max_loss: float, min_erle: float
) -> None:
    """A talker under the echo (SER -5 dB) in blocks neither detector takes for talk lost 9-11 dB there at
    the single-talk over-subtraction. Where the mic energy incoherent with the echo estimates reaches 0.1x
    the coherent energy and a weaker energy cue agrees, with the echo estimate steady, such a block is now
    suppressed like the coherence detector's lone blocks (a hand rule, session 34). Near loss before /
    then: 4.17 / 3.64 and 3.02 / 2.66 dB (AEC3 10.7 / 6.2); single-talk ERLE unchanged (44.2 and 36.3
    dB). The fitted missed-talk model replaced the rule in session 40 (ResidualSuppressor,
    kMissedTalkDouble): 3.31 and 2.41 dB now, ERLE 44.5 and 36.4 dB."""
    m = corpus_room_metrics(eval_dir, regenerated_root, seed, name)
    assert m["near_loss_db"] <= max_loss, m
    assert m["erle_db"] >= min_erle, m


@pytest.mark.parametrize(
    ("seed", "name", "min_erle"),
    [(73, "c06_dt_ser0_rt250_d50", 50.0), (65, "c10_nl_softsat_dt_ser0_rt300_d100", 28.0)],
)
def test_pulled_filter_gives_way_to_its_snapshot(
    eval_dir: Path, regenerated_root: Path, seed: int, name: str, min_erle: float
) -> None:
    """Corpus generator rooms where talk left the foreground misadjusted (a copy of a background the
    talker had pulled) and the hangover let its residual out. The foreground as it stood before the
    talk, still cancelling, now replaces it (EchoCanceller::SnapshotStep): single-talk ERLE 43.1 /
    20.8 dB before, 55.6 / 42.5 dB then (AEC3 46.9 / 23.5), near loss unchanged (0.46 / 0.66 ->
    0.46 / 0.73 dB). Since the missed-talk model is the default (session 40; its double-talk treatment
    lets out more echo in this room), seed 65 reads 29.3 dB (38.4 before it), 23.8 dB with the
    snapshot's restore switched off; seed 73 54.9 dB, 41.7 without the restore."""
    m = corpus_room_metrics(eval_dir, regenerated_root, seed, name)
    assert m["erle_db"] >= min_erle, m
    assert m["near_loss_db"] <= 1.0, m


@pytest.mark.parametrize("seed", [101, 102])
def test_regenerated_corpus(eval_dir: Path, regenerated_root: Path, seed: int) -> None:
    """All 13 AEC cases of the corpus generator run with another seed (other rooms, talkers, far
    prompts, delays, levels). Over seeds 1-80 (1040 rooms) with the same bars: median single-talk
    ERLE per seed 49.5 dB at the least, time to 20 dB at most 0.4 s, near-end-only loss under
    0.001 dB, double-talk near loss median 0.73 dB; the worst single rooms 19.0 dB ERLE (c11, seed
    36, real noise and a path change) and 4.8 dB near loss (c07, seed 10). c07 (SER -5 dB, RT60
    0.4-0.55 s) misses the 3 dB near-loss target in 3 of 80 seeds (AEC3 misses it in all 80,
    median 7.1 dB)."""
    root = regenerate_corpus(eval_dir, seed, regenerated_root / f"seed{seed}")
    single_talk: list[float] = []
    for d in sorted(p for p in (root / "aec").glob("c*") if p.is_dir()):
        case = corpus_case(root, d.name)
        m = evaluate_output(case, run(case))
        if d.name.startswith("c13"):
            assert abs(m["near_loss_db"]) <= 0.01, (d.name, m)
            continue
        assert m["erle_db"] >= 12.0, (d.name, m)
        assert m["t20_s"] <= 0.5, (d.name, m)
        if np.any(case.nearend):
            assert m["near_loss_db"] <= 6.5, (d.name, m)
        else:
            single_talk.append(m["erle_db"])
    assert len(single_talk) == 6
    assert float(np.median(single_talk)) >= 40.0, single_talk


# Unseen seeds of the x03 recipe; single-talk ERLE before / now (dB): 18.5 / 41.6, 26.2 / 45.0 (AEC3
# 22.2), 24.6 / 40.2 (AEC3 28.5). Since the step's spectral floor (kSpectralFloor) 42.1, 41.1 and 24.6 dB
# (18.5, 25.7 and 21.4 without this rule): in 7172 the delay change is confirmed about 0.5 s later
# (6.9 s instead of 6.4 s), and the energy detector takes the new echo for talk meanwhile.
@pytest.mark.parametrize(("seed", "min_erle"), [(6067, 36.0), (5007, 40.0), (7172, 22.0)])
def test_displaced_echo_estimate_is_not_taken_for_talk(eval_dir: Path, seed: int, min_erle: float) -> None:
    """A new room and the bulk delay 60 -> 160 ms at 6 s. Until the delay change is confirmed, the
    foreground still predicts the old echo, which the mic no longer holds: its error sits near the mic
    level and anti-correlated with the estimate, but under 1.5x the mic in most blocks, and both
    double-talk detectors took the displaced echo for a talker. Such blocks, right after the filter
    cancelled well, are now handled like a lost filter (the fallback, no double talk)."""
    case = room_and_delay_jump(eval_dir, f"gen_displaced_{seed}", seed)
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= min_erle, m
    assert m["recovery_s"] <= 1.0, m


@pytest.mark.parametrize(
    ("seed", "rt60", "delay_ms"), [(934, 0.2, 40), (931, 0.35, 120), (933, 0.35, 120), (937, 0.35, 120)]
)
def test_delay_estimate_at_echo_onset(eval_dir: Path, seed: int, rt60: float, delay_ms: int) -> None:
    """The reported delay ends at the echo's onset (the true delay plus at most two 4 ms blocks of
    partition granularity), not where reverberation puts the envelope peak: the estimate is refined
    from the converged filter's strongest partition. Measured 44 / 124 / 124 / 120 ms; the previous
    kernel reported 60 / 148 / 144 / 132 ms (the energy detector then took the early echo for talk)."""
    case = generated(eval_dir, f"gen_onset_{seed}", seed, rt60=rt60, delay_ms=(delay_ms, delay_ms))
    ec = EchoCanceller(16000, 10, 500, 250)
    far, mic = case.far.astype(np.float32), case.mic.astype(np.float32)
    for i in range(0, len(mic) // 160 * 160, 160):
        ec.push_far(far[i : i + 160])
        ec.process_near(mic[i : i + 160])
    assert delay_ms - 4.0 <= ec.stats["delay_ms"] <= delay_ms + 8.0, ec.stats


@pytest.mark.parametrize(("seed", "recipe"), [(180, "x02"), (8025, "x03")])
def test_filter_piled_at_window_start_moves_the_window(eval_dir: Path, seed: int, recipe: str) -> None:
    """The delay estimate ran later than the filter's 32 ms margin before it (s180_x02: 348 ms for a
    300 ms echo in a 0.35 s reverb; s8025_x03 after its jump), so the echo's onset fell before the
    filter's window: the filter piled its energy into its first partitions and removed nothing, and
    the energy detector took the echo it left for talk. The window now moves a margin earlier.
    Measured 25.7 / 26.5 dB (AEC3 21.2 / 18.5 dB); before 13.5 / 19.4 dB, and s180's estimate stayed
    at 348 ms until 3.05 s (now 316 ms from 1.35 s)."""
    case = recipe_case(eval_dir, f"s{seed}_{recipe}", seed, recipe)
    out, delays = run_following_delay(case)
    if recipe == "x02":
        # After the frame that ends at 2.01 s.
        assert 296.0 <= delays[200] <= 320.0, delays[200]
    m = evaluate_output(case, out)
    assert m["erle_db"] >= 23.0, m


@pytest.mark.parametrize(("seed", "min_erle"), [(168, 38.0), (8015, 42.0)])
def test_clip_harmonics_after_talk_not_taken_for_talk(eval_dir: Path, seed: int, min_erle: float) -> None:
    """x05 rooms (hard clip, talker 5 dB under the echo) after the clip level is adopted: the filter
    still re-learns the clipped reference, and in a far word's onset right after the talker's span
    its harmonics read as talk and opened the suppressor, though the filter removed 12-15 dB there.
    Blocks the filters explain by 14 dB are not talk now (kExplainedClippedRatio). Single-talk ERLE
    23.3 / 34.4 dB before, 41.4 / 44.7 now (AEC3 35.9 / 24.5); near loss 1.03 / 1.29 dB before,
    1.13 / 1.28 now."""
    case = recipe_case(eval_dir, f"s{seed}_x05", seed, "x05")
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= min_erle, m
    assert m["near_loss_db"] <= 1.6, m


@pytest.mark.parametrize(("seed", "stream", "min_erle"), [(32, 7, 27.0), (22, 4, 30.0)])
def test_clipped_loudspeaker_nonlinear_residual(
    eval_dir: Path, seed: int, stream: int, min_erle: float
) -> None:
    """Hard-clipping loudspeaker with double talk at SER -5 dB (seed 32 unseen by the eval tables;
    seed 22 is the eval's s22_x05 room). Clipping harmonics land where the far spectrum is weak, so
    neither the linear filter nor the per-bin leakage predicts them; the suppressor now adds in single
    talk a nonlinear residual (the error power the leakage leaves unexplained, per unit of echo power,
    learnt while the far end plays alone). Measured 40.2 / 38.9 dB (AEC3 21.3 / 20.8 dB in the same
    rooms); the previous kernel reached 33.3 / 23.2 dB. The talker must keep his level.
    Seed 32's bound was 37 dB until the energy detector stopped taking blocks the filters cancel for
    talk (session 4): it now measures 29.4 dB (seed 22: 42.1 dB), all of the drop from one 70 ms burst
    of double talk claimed at an echo onset 0.1 s after the talker stops (11.1 s). In clipping rooms
    such single bursts decide the figure either way: over seeds 901-912 (hard clip, half with double
    talk) the median rose from 34.4 to 35.6 dB and the worst room from 15.7 to 21.7 dB."""
    case = clipped_double_talk(eval_dir, f"gen_clip_dt_{seed}", seed, stream)
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= min_erle, m
    assert m["near_loss_db"] <= 3.0, m


@pytest.mark.parametrize(
    ("seed", "max_loss", "min_erle"), [(2114, 1.6, 23.0), (2126, 2.1, 36.0), (2128, 2.95, 42.0)]
)
def test_clipped_double_talk_energy_detector_alone_keeps_talker(
    eval_dir: Path, seed: int, max_loss: float, min_erle: float
) -> None:
    """Hard-clipping loudspeaker, double talk at SER -5 dB (seeds unseen by the eval tables). The
    coherence detector misses much of a talker under the clipped echo; within 400 ms of the last
    block both detectors agreed on, a block the energy detector alone takes for talk is suppressed
    like the hangover's tail instead of as single talk. Near loss measured 1.79 / 2.19 / 3.05 dB
    before, 1.41 / 2.01 / 2.81 dB with it (1.32 / 1.90 / 2.65 dB with the halved over-subtraction in
    established talk); single-talk ERLE 24.3 / 37.3 / 43.7 -> 24.3 / 37.2 / 43.1 dB."""
    case = clipped_double_talk(eval_dir, f"gen_clip_lone_{seed}", seed, 5)
    m = evaluate_output(case, run(case))
    assert m["near_loss_db"] <= max_loss, m
    assert m["erle_db"] >= min_erle, m


def _raw_reference_clipped_room(eval_dir: Path, tag: str, seed: int) -> dict[str, float]:
    """Figures of an x05-recipe room (stream 5) with the clip model off: the suppressor tests below
    measure their own mechanism on the raw reference (the clip model moves these rooms' figures both
    ways; see test_aec_clip_model.py)."""
    case = clipped_double_talk(eval_dir, f"{tag}{seed}", seed, 5)
    return evaluate_output(case, run(case, clip_model=False))


@pytest.mark.parametrize(
    ("seed", "max_loss", "min_erle"), [(2101, 1.55, 37.5), (2104, 2.45, 37.0), (2106, 2.3, 26.0)]
)
def test_established_double_talk_gentler_suppression(
    eval_dir: Path, seed: int, max_loss: float, min_erle: float
) -> None:
    """Clipped rooms with double talk at SER -5 dB (unseen seeds). In blocks both detectors take for
    talk, once it has lasted 100 ms, the over-subtractions are halved (0.3 coherent, 0.25 leak); the
    hangover and an episode's first 100 ms keep the double-talk values, so the false starts at echo
    onsets after talk do not leak more. Near loss measured 1.67 / 2.32 / 2.45 dB before, 1.44 / 2.07 /
    2.18 dB now; single-talk ERLE unchanged (41.0 / 37.9 / 26.6 dB). With the error-coherence step
    (kCoherenceGain) seed 2104's near loss is 2.31 dB, 2.59 without the rule. The missed-talk blocks
    (a hand rule, session 34) took seed 2101's ERLE from 40.3 to 39.0 dB (near loss 1.00 -> 0.99 dB),
    and the fitted model that replaced the rule (ResidualSuppressor, kMissedTalkDouble, session 40)
    to 37.9 dB (1.01 dB). Clip model off (see _raw_reference_clipped_room)."""
    m = _raw_reference_clipped_room(eval_dir, "gen_clip_fresh_", seed)
    assert m["near_loss_db"] <= max_loss, m
    assert m["erle_db"] >= min_erle, m


@pytest.mark.parametrize(("seed", "rt60", "delay_ms"), [(961, 0.2, 60), (962, 0.35, 300), (963, 0.3, 150)])
def test_echo_suppressed_at_call_start(eval_dir: Path, seed: int, rt60: float, delay_ms: int) -> None:
    """The first 300 ms of echo of a call, while the linear filter is still empty: the fallback echo
    estimate (echo-return gain x far power) must remove it. Without the fallback the canceller removed
    28, 12 and 16 dB there (the agent hears itself start talking); measured now: 55, 52, 52 dB."""
    case = generated(eval_dir, "gen_call_start", seed, rt60=rt60, delay_ms=(delay_ms, delay_ms))
    out = run(case)
    lag = 96  # the canceller's latency at 16 kHz, 10 ms frames
    hop = 160
    frames = len(case.echo) // hop
    echo_power = np.array([np.sum(case.echo[i * hop : (i + 1) * hop] ** 2) for i in range(frames)])
    onset = int(np.argmax(echo_power > 1e-3 * np.percentile(echo_power, 95)))
    a, b = onset * hop, (onset + 30) * hop
    erle = 10 * np.log10(np.sum(case.mic[a:b] ** 2) / (np.sum(out[a + lag : b + lag] ** 2) + 1e-20))
    assert erle >= 40.0, erle


def _talker_from_call_start(case: EchoCase, after_s: float, length_s: float) -> EchoCase:
    """``case`` with its first double-talk span (from 2 s) moved to start ``after_s`` into the far
    end's first utterance, cut to ``length_s``: a user who barges in on the agent's first reply."""
    fs = case.fs
    hop = fs // 100
    frames = len(case.far) // hop
    far_power = np.array([np.sum(case.far[i * hop : (i + 1) * hop] ** 2) for i in range(frames)])
    onset = int(np.argmax(far_power > 1e-3 * np.percentile(far_power, 95))) * hop
    n = int(length_s * fs)
    start = onset + int(after_s * fs)
    near = np.zeros(n)
    near[start:] = case.nearend[2 * fs : 2 * fs + n - start]
    noise = (case.mic - case.echo - case.nearend)[:n]
    echo = case.echo[:n]
    return EchoCase(
        case.name + "_barge_in", case.far[:n], echo + near + noise, near, echo, fs, None, case.meta
    )


@pytest.mark.parametrize(
    ("seed", "rt60", "delay_ms", "max_loss"),
    [(971, 0.25, 60, 3.0), (972, 0.35, 150, 3.0), (975, 0.2, 30, 8.5)],
)
def test_talker_kept_at_call_start(
    eval_dir: Path, seed: int, rt60: float, delay_ms: int, max_loss: float
) -> None:
    """A talker who starts 300 ms into the far end's first utterance (SER 0 dB), before the energy
    detector's echo-return gain has had its first second: the warm-up detector (regression slope of
    the mic power on the far power) must find him so he is not removed as echo. Without it the
    canceller took 7.4 / 5.2 / 10.4 dB off him (about 50 dB while undetected); measured now:
    1.5 / 1.7 / 6.5 dB."""
    room = generated(
        eval_dir, f"gen_barge_in_{seed}", seed, rt60=rt60, delay_ms=(delay_ms, delay_ms), ser_db=0.0
    )
    case = _talker_from_call_start(room, after_s=0.3, length_s=3.0)
    m = evaluate_output(case, run(case), skip_s=0.5)
    assert m["near_loss_db"] <= max_loss, m


def _after_jump(case: EchoCase, out: np.ndarray) -> tuple[float, float]:
    """(worst 10 ms frame of output over microphone, dB; ERLE over the first second) in the
    single-talk echo frames after ``case.change_s``. The output's lag is measured before the jump:
    over the whole file the cross-correlation can lock onto the displaced echo (it picked 21 ms
    instead of 6 ms in s62_x03)."""
    from voicecore.dsp import aec_eval as A

    fs, hop = case.fs, case.fs // 100
    assert case.change_s is not None
    k = int(case.change_s * fs)
    lag = A._align(out[:k], (case.mic - case.echo)[:k], fs)
    o = out[lag:]
    n = len(o)
    pm, po = A._frame_power(case.mic[:n], hop), A._frame_power(o, hop)
    pe, pn = A._frame_power(case.echo[:n], hop), A._frame_power(case.nearend[:n], hop)
    st = A._active(pe, 30.0, 1e-7) & ~A._active(pn, 50.0, 1e-10)
    ch = int(case.change_s * 100)
    after = st.copy()
    after[:ch] = False
    loud = after & A._active(pe, 20.0, 1e-7)
    over = float(np.max(10.0 * np.log10((po[loud] + 1e-12) / (pm[loud] + 1e-12))))
    first = after.copy()
    first[ch + 100 :] = False
    return over, A._db(float(pm[first].sum()), float(po[first].sum()))


# Measured: worst frame over the mic / ERLE over the first second after the jump.
#   now:                 18 up -0.21 / 15.1, 18 down 0.02 / 5.8, 19 up -1.74 / 12.8,
#                        19 down -1.52 / 8.7, 20 up 0.53 / 8.7, 20 down 0.33 / 5.3 dB
#   before kWorseRatio:  7.35 / 8.9, 6.57 / 3.9, 2.97 / 10.6, 4.26 / 3.9, 4.33 / 5.7, 5.43 / 2.5 dB
# so the old kernel fails every case on the first bound and every case on the second.
@pytest.mark.parametrize(
    ("seed", "direction", "min_erle"),
    [
        (18, "up", 13.0),
        (18, "down", 4.8),
        (19, "up", 11.5),
        (19, "down", 7.5),
        (20, "up", 7.5),
        (20, "down", 4.3),
    ],
)
def test_output_not_louder_than_mic_after_delay_jump(
    eval_dir: Path, seed: int, direction: str, min_erle: float
) -> None:
    """A new room and a delay jump (60 -> 160 ms, or 150 -> 50 ms) at 6 s: until the delay is
    confirmed the foreground subtracts the old echo's estimate, which adds energy; the canceller must
    then pass no more than the microphone, and keep suppressing while the filter re-learns."""
    delay = (60, 160) if direction == "up" else (150, 50)
    case = generated(
        eval_dir,
        f"gen_jump_{direction}_{seed}",
        seed,
        stream=2 if direction == "up" else 3,
        rt60=0.25 if direction == "up" else 0.3,
        delay_ms=delay,
        change_s=6.0,
    )
    over, erle = _after_jump(case, run(case).astype(np.float64))
    assert over <= 1.5, (over, erle)
    assert erle >= min_erle, (over, erle)


# Measured: suppressor's double talk in the first second of echo / ERLE over the file.
#   now:                          0.0 % / 31.0, 0.0 % / 37.9, 0.0 % / 39.3 dB
#   warm-up detector not gated:   4.6 % / 22.9, 5.1 % / 33.0, 5.2 % / 35.7 dB
@pytest.mark.parametrize(("seed", "min_erle"), [(703, 28.0), (723, 36.0), (729, 37.5)])
def test_clipped_echo_not_taken_for_talk_in_warm_up(eval_dir: Path, seed: int, min_erle: float) -> None:
    """A hard-clipping loudspeaker, echo only: before the echo-return gain has its first second, the
    warm-up detector's regression is fooled by the clipped echo as the energy detector's was, and
    its false talk opened the suppressor while the filters already cancelled the echo (these rooms
    leaked 3-8 dB of ERLE in those blocks). Blocks the filters cancel by 6 dB are not talk for it
    either."""
    case = generated(
        eval_dir, "clip_st", seed, stream=5, rt60=0.25, delay_ms=(70, 70), nonlinearity="hard_clip"
    )
    flags, out = _flags_and_output(case)
    echo_power = np.array([np.sum(case.echo[i : i + 160] ** 2) for i in range(0, len(flags) * 160, 160)])
    first_second = echo_power > 1e-3 * echo_power.max()
    first_second[int(np.argmax(first_second)) + 250 :] = False
    assert np.mean(flags[first_second]) <= 0.01
    assert evaluate_output(case, out)["erle_db"] >= min_erle


def _frame_energy(x: np.ndarray, frames: int) -> np.ndarray:
    return np.array([np.sum(x[i * 160 : (i + 1) * 160] ** 2) for i in range(frames)])


# Measured: suppressor's double talk at the echo onsets after far pauses / ERLE over the file.
#   now:                                   0 % / 46.2, 0 % / 38.1 dB
#   one hangover for suppressor and filters: 40 % / 36.7, 50 % / 35.1 dB
#   later (hangover after a confirmed episode at the halved over-subtraction): 0 % / 45.5, 0 % / 36.3
@pytest.mark.parametrize(("seed", "min_erle"), [(951, 43.0), (967, 36.0)])
def test_talk_hangover_runs_out_over_far_pause(eval_dir: Path, seed: int, min_erle: float) -> None:
    """Double talk at SER 0 dB where the far end pauses (>= 400 ms) while the talker speaks, and the
    talker is silent when it resumes. The energy detector's hangover is counted in far-active blocks
    only (the filters hold still in the pause), so it used to come back on the next far onset and
    open the suppressor to echo nobody talked over. The suppressor's copy runs out in the pause."""
    case = generated(eval_dir, "dt_pause", seed, stream=6, rt60=0.3, delay_ms=(90, 90), ser_db=0.0)
    flags, out = _flags_and_output(case)
    pf, pn, pe = (_frame_energy(x, len(flags)) for x in (case.far, case.nearend, case.echo))
    far_on = pf > 1e-4 * pf.max()
    onsets = np.zeros(len(flags), bool)
    silent = 0
    for f in range(len(flags)):
        if far_on[f] and silent >= 40:
            onsets[f + 9 : f + 19] = True  # the echo's first 100 ms (90 ms of bulk delay)
        silent = 0 if far_on[f] else silent + 1
    onsets &= (pn < 1e-5 * pn.max()) & (pe > 1e-4 * pe.max())
    assert onsets.sum() >= 10
    assert np.mean(flags[onsets]) <= 0.05
    assert evaluate_output(case, out)["erle_db"] >= min_erle


# Measured: ERLE over the first second after the change / recovery.
#   now:                                 17.8 / 0.25, 13.4 / 0.30, 14.8 / 0.25, 22.6 / 0.25
#   per-block kWorseRatio test only:      5.1 / 0.60,  5.3 / 2.20,  6.3 / 0.70,  3.9 / 0.45
@pytest.mark.parametrize(("seed", "min_erle"), [(723, 14.0), (724, 11.0), (732, 12.0), (738, 18.0)])
def test_new_room_not_taken_for_talk(eval_dir: Path, seed: int, min_erle: float) -> None:
    """New room and +100 ms at 6 s (the x03 recipe, seeds no table uses). The foreground predicts the
    old room and its error is louder than the mic for a few hundred ms; blocks where a soft onset let
    it pass the per-block test used to let the energy detector take the displaced echo for talk,
    hold adaptation and open the suppressor. The smoothed test keeps the detector out meanwhile."""
    case = room_and_delay_jump(eval_dir, "jump", seed)
    out = run(case)
    _, erle = _after_jump(case, out)
    assert erle >= min_erle, erle
    assert evaluate_output(case, out)["recovery_s"] <= 0.5


# Measured ERLE (dB), before -> with the rule each group was added for:
#   quiet-second test at 1.0x the mic: 11.2 / 16.2 / 17.8 -> 24.4 / 29.8 / 34.1
#   suppressor re-armed by that test:  45.1 / 36.8 / 39.0 -> 49.1 / 47.0 / 45.1
#   one block over the mic holds talk: 17.2 / 16.3 / 23.1 -> 37.0 / 35.9 / 41.1
@pytest.mark.parametrize(
    ("seed", "min_erle"),
    [
        pytest.param(5014, 20.0, id="quiet-ratio-5014"),
        pytest.param(5031, 24.0, id="quiet-ratio-5031"),
        pytest.param(5071, 28.0, id="quiet-ratio-5071"),
        pytest.param(5002, 47.0, id="rearm-5002"),
        pytest.param(5072, 42.0, id="rearm-5072"),
        pytest.param(5084, 42.5, id="rearm-5084"),
        pytest.param(5001, 30.0, id="one-block-5001"),
        pytest.param(7063, 30.0, id="one-block-7063"),
        pytest.param(6060, 34.0, id="one-block-6060"),
    ],
)
def test_moved_echo_is_not_taken_for_talk(eval_dir: Path, seed: int, min_erle: float) -> None:
    """New room and +100 ms at 6 s (the x03 recipe, seeds no table uses). The moved echo left the
    foreground's error near the mic, and both talk detectors took it for talk while the suppressor
    passed it. Three rules hold talk off in a quiet second (no talk for a second of far activity):
    the smoothed worse-than-mic test starts at 1.0x the mic instead of 1.5x (quiet-ratio); while it
    holds, the suppressor's fallback share goes back to 1 as for a lost filter, since it had fallen
    while the old room was cancelled (rearm); and one block with the error over 1.5x the mic, from a
    filter at over 20 dB 100 ms before, holds the energy detector at once, where the smoothed test
    took over 100 ms (one-block)."""
    case = room_and_delay_jump(eval_dir, "jump", seed)
    assert evaluate_output(case, run(case))["erle_db"] >= min_erle


@pytest.mark.parametrize(("seed", "min_erle"), [(7248, 30.0), (7259, 27.0), (7287, 27.0)])
def test_no_delay_move_from_an_unconverged_filter(eval_dir: Path, seed: int, min_erle: float) -> None:
    """Double talk at SER 0 dB in the x04 recipe (unseen seeds). In double talk the plain log-spectral
    fit moved the delay away from a filter the talker kept from converging, and the echo after the
    talk leaked. Measured 7.8 / 15.0 / 11.2 dB before, 47.3 / 37.0 / 38.6 dB now."""
    case = generated(eval_dir, f"gen_dt_move_{seed}", seed, stream=3, rt60=0.3, delay_ms=(90, 90), ser_db=0.0)
    assert evaluate_output(case, run(case))["erle_db"] >= min_erle


def test_no_delay_move_keeps_clipped_talker(eval_dir: Path) -> None:
    """A clipping loudspeaker in double talk at SER -5 dB (x05 recipe, unseen seed 7250): the false move
    took 8.8 dB of the talker; now 2.6 dB (ERLE 14.0 -> 34.8 dB)."""
    case = generated(
        eval_dir,
        "gen_clip_move_7250",
        7250,
        stream=4,
        rt60=0.25,
        delay_ms=(70, 70),
        ser_db=-5.0,
        nonlinearity="hard_clip",
    )
    m = evaluate_output(case, run(case))
    assert m["near_loss_db"] <= 4.0, m
    assert m["erle_db"] >= 28.0, m


# Measured ERLE / near loss (dB): before 35.7 / 0.94, 39.0 / 1.42, 33.6 / 1.27; now 43.7 / 0.94,
# 45.0 / 1.42, 38.0 / 1.27.
@pytest.mark.parametrize(
    ("seed", "clipped", "min_erle", "max_loss"),
    [(5033, True, 40.5, 1.1), (6019, False, 42.5, 1.6), (6067, False, 36.0, 1.45)],
)
def test_echo_alone_in_the_hangover_is_suppressed(
    eval_dir: Path, seed: int, clipped: bool, min_erle: float, max_loss: float
) -> None:
    """Double talk in the x05 (clipping, SER -5 dB) and x04 (SER 0 dB) recipes, unseen seeds. After
    the talker's last word the hangover passed the echo at the tail's gentle over-subtraction; once
    the error is echo alone for three blocks it is now suppressed as single talk, and the talker's
    loss is unchanged."""
    if clipped:
        case = clipped_double_talk(eval_dir, f"gen_clip_hangover_{seed}", seed, 4)
    else:
        case = generated(
            eval_dir, f"gen_dt_hangover_{seed}", seed, stream=3, rt60=0.3, delay_ms=(90, 90), ser_db=0.0
        )
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= min_erle, m
    assert m["near_loss_db"] <= max_loss, m


# Measured single-talk ERLE / near loss (dB): before 31.2 / 0.51, 35.7 / 0.96; now 42.9 / 0.51,
# 52.1 / 0.96 (AEC3: 20.1, 24.9 dB ERLE); with the guarded leakage near talk (kGuardedLeakBlocks) the
# near loss is 0.41 / 0.74, the ERLE unchanged. Seed 7109 since the error-coherence step
# (kCoherenceGain): 38.5 dB with the echo-only test waiting for the energy hangover, 48.6 with the rule
# (near loss 0.63 both). Seed 7166 at 47.9 dB since the leakage learns only from echo alone after a
# confirmed talker (ResidualSuppressor, learn_residual; 52.1 before). Seed 7167,
# pinned here before that step, no longer shows the rule (25.8 dB either way: its single talk leaks in
# one hangover window after the talker, where the echo-only share reads 0.91-0.92; 45.3 dB before).
@pytest.mark.parametrize(
    ("seed", "min_erle", "max_loss"), [(7109, 45.0, 0.8), (1007, 40.0, 0.55), (7166, 46.0, 1.0)]
)
def test_echo_alone_after_talk_not_held_by_energy_hangover(
    eval_dir: Path, seed: int, min_erle: float, max_loss: float
) -> None:
    """x04 rooms (SER 0 dB) where a far-end word starts as the talker stops. The echo-only test of the
    suppressor's hangover waited for the energy detector's own 100 ms hangover to end, and the echo
    went out 3-6 dB under the mic meanwhile; it now asks only that the energy detector find no talk in
    the block itself."""
    assert_recipe_room(eval_dir, f"s{seed}_x04", seed, "x04", min_erle, max_loss)


# Measured near loss / single-talk ERLE / segmental SNR (dB): before 1.32 / 40.8 / 7.14, 1.22 / 51.1 / 10.58,
# 2.60 / 38.3 / 4.96; now 0.77 / 40.8 / 6.74, 0.92 / 51.1 / 10.61, 2.14 / 38.3 / 4.77 (AEC3's near loss 7.69,
# 6.02, 10.21 dB; its segmental SNR under 0.4 dB in all three). With the guarded leakage near talk
# (kGuardedLeakBlocks) the near loss of the first two is 0.73 / 0.74 dB and the third is at 1.93 / 36.6 /
# 4.66 (its noise ceiling: 37.6 dB). Since the residual learns only from echo alone after a confirmed
# talker (ResidualSuppressor, learn_residual) the single-talk ERLE of the first two is 39.6 / 48.6 dB.
@pytest.mark.parametrize(
    ("seed", "recipe", "max_loss", "min_erle"),
    [(7080, "x04", 1.0, 38.5), (2710, "x04", 1.05, 47.5), (5084, "x05", 2.35, 35.5)],
)
def test_agreed_talk_keeps_bins_the_leak_model_claims(
    eval_dir: Path, seed: int, recipe: str, max_loss: float, min_erle: float
) -> None:
    """Double talk at SER 0 dB (x04) and under a clipped echo at -5 dB (x05). In blocks both detectors
    take for established talk only the coherent residual is subtracted now: the leakage learnt in single
    talk predicted a residual as loud as the talker's bins wherever the filter removes little."""
    case = recipe_case(eval_dir, f"s{seed}_{recipe}", seed, recipe)
    m = evaluate_output(case, run(case))
    assert m["near_loss_db"] <= max_loss, m
    assert m["erle_db"] >= min_erle, m
    assert m["seg_snr_db"] >= 4.0, m


# Measured near loss / single-talk ERLE / segmental SNR (dB): before 2.60 / 48.8 / 5.01, 1.82 / 44.9 / 8.70,
# 1.65 / 45.5 / 8.83; then 2.06 / 48.8 / 5.49, 1.39 / 44.9 / 9.41, 1.15 / 45.5 / 9.65 (AEC3's near loss 15.3,
# 13.8, 5.70 dB). Since the missed-talk model is the default (session 40) seed 1806 reads 1.58 / 46.96.
@pytest.mark.parametrize(
    ("seed", "recipe", "max_loss", "min_erle"),
    [(1806, "x05", 2.3, 46.5), (1205, "x04", 1.6, 43.0), (602, "x04", 1.4, 44.0)],
)
def test_missed_talker_does_not_inflate_leak(
    eval_dir: Path, seed: int, recipe: str, max_loss: float, min_erle: float
) -> None:
    """Double talk under a clipped echo at SER -5 dB (x05) and at 0 dB (x04). The talker's blocks the
    detectors miss are learnt as single talk, and the leakage they inflate then took his bins in the
    talk that followed; near talk the suppressor now takes the leakage learnt from blocks of echo
    alone where that is lower (kGuardedLeakBlocks)."""
    assert_recipe_room(eval_dir, f"s{seed}_{recipe}", seed, recipe, min_erle, max_loss)


# Measured single-talk ERLE / near loss (dB): before 28.2 / 3.28, 29.9 / 1.57, 33.5 / 1.20; now 34.1 / 3.28,
# 41.6 / 1.57, 43.3 / 1.20 (AEC3's ERLE 43.4, 19.2, 18.7 dB). With the error-coherence step
# (kCoherenceGain) seed 1601 is at 31.4 dB, 28.3 without the rule.
@pytest.mark.parametrize(
    ("seed", "recipe", "min_erle", "max_loss"),
    [(1601, "x05", 30.0, 3.35), (7234, "x05", 38.0, 1.65), (7164, "x04", 40.0, 1.3)],
)
def test_hangover_ends_where_the_residual_model_explains_the_error(
    eval_dir: Path, seed: int, recipe: str, min_erle: float, max_loss: float
) -> None:
    """Double talk under a clipped echo at SER -5 dB (x05) and at 0 dB (x04). After the talker's last
    word the echo the linear filter cannot model kept the mic's coherent share under the hangover's
    echo-only test, and the hangover passed it at double talk's over-subtraction; a block whose error
    is 3 dB or more under the residual model's prediction counts as echo alone now (kEchoExplained)."""
    assert_recipe_room(eval_dir, f"s{seed}_{recipe}", seed, recipe, min_erle, max_loss)


# Measured single-talk ERLE / near loss (dB): before 20.1 / 1.19, 33.8 / -, 36.4 / 0.76; now 25.4 / 1.19,
# 50.4 / -, 50.8 / 0.76 (AEC3's ERLE 26.5, 31.5, 18.4 dB). Since the foreground snapshot
# (EchoCanceller::SnapshotStep, session 28) s2700_x05 reads 25.7 / 1.59: a restore 1.4 s into its second
# talk span changed which of his blocks the suppressor kept (over the corpus generator's 720 double-talk
# rooms the snapshot left the mean near loss and the count over 3 dB unchanged). The missed-talk blocks
# (a hand rule, session 34) let out echo there after his talk: 25.7 -> 23.0 dB, 3.5 dB under AEC3 (a
# clipped echo's residual, 0.1-0.2x incoherent, read as a missed talker).
# Since the step's spectral floor (kSpectralFloor) s2700_x05 reads 22.5 / 1.52 (18.8 dB with every
# episode confirmed); s7296_x01 57.5 dB and s2711_x04 55.7 / 0.63 no longer depend on the rule (s7296_x01
# did before the floor: 51.5 dB with it, 33.0 without). With the missed-talk model in place of the hand rule
# (session 40) s2700_x05 reads 23.8 / 1.50.
@pytest.mark.parametrize(
    ("seed", "recipe", "min_erle", "max_loss"),
    [(2700, "x05", 22.0, 1.7), (7296, "x01", 46.0, 0.0), (2711, "x04", 46.0, 0.85)],
)
def test_false_start_the_energy_detector_never_heard_is_unconfirmed(
    eval_dir: Path, seed: int, recipe: str, min_erle: float, max_loss: float
) -> None:
    """A clipped echo under double talk at SER -5 dB (x05), single talk only (x01), and double talk at
    0 dB (x04). A far-end onset the filter mispredicts, within the energy detector's 100 ms hangover
    after one of its false alarms, made a short talk episode, and its 160 ms hangover passed the echo;
    an episode the energy detector never found talk in, block by block, is now unconfirmed below
    kConfirmedAgree agreeing blocks."""
    assert_recipe_room(eval_dir, f"s{seed}_{recipe}", seed, recipe, min_erle, max_loss)


@pytest.mark.parametrize(
    ("seed", "recipe", "min_erle", "max_loss"),
    [(5029, "x01", 52.0, 0.0), (154, "x05", 44.0, 2.0)],
)
def test_far_word_onset_is_suppressed_whatever_its_share(
    eval_dir: Path, seed: int, recipe: str, min_erle: float, max_loss: float
) -> None:
    """A far word's onset carries content the filter has not learnt: its error is incoherent with the
    echo estimate, the quiet-echo floors' share tests missed it, and it went out at the learnt
    fallback share (s5029_x01 at 1.23 s: one frame, 99 % of the single-talk output). At an echo onset
    outside talk the fallback share is floored at 0.5 now (kOnsetFallbackFloor):
    ERLE 57.8 / 49.9 dB (39.4 / 31.9 before; AEC3 23.6 / 13.1)."""
    assert_recipe_room(eval_dir, f"s{seed}_{recipe}", seed, recipe, min_erle, max_loss)


def test_young_echo_alone_leak_not_trusted_after_false_start(eval_dir: Path) -> None:
    """Single talk with a delay jump (x03). At 0.75-1.25 s, with the filter 2-4 dB in, both detectors
    took the echo for talk; near talk the leakage learnt from blocks of echo alone caps the other one,
    but this early it had seen almost no echo, and the echo passed (28.7 dB). It stands in now only
    where it has seen a quarter of the echo power the other one learnt from: 36.9 dB (37.8 before
    the cap; AEC3 12.3)."""
    assert_recipe_room(eval_dir, "s65_x03", 65, "x03", min_erle=34.0, max_loss=0.0)


def test_missed_talker_does_not_pull_filter(eval_dir: Path) -> None:
    """Eight clipping rooms in double talk at SER -5 dB (seeds 300-307, no table uses them). The
    energy detector misses a third of a talker under the echo, and each missed block used to adapt
    at full speed on him: the filter left the talk at 0 dB ERLE or worse, and its errors read as
    more talk. Near talk the step now follows the share of the mic coherent with the echo estimates.
    Measured medians: seg-SNR 4.95 dB, ERLE 33.8 dB (every room's seg-SNR rose); without the soft
    step 4.16 / 29.6 dB. Worst near loss 3.65 dB (3.26 before)."""
    seg, erle = [], []
    for seed in range(300, 308):
        case = clipped_double_talk(eval_dir, "dt_clip", seed, 8)
        m = evaluate_output(case, run(case))
        assert m["near_loss_db"] <= 4.0, (seed, m)
        seg.append(m["seg_snr_db"])
        erle.append(m["erle_db"])
    assert np.median(seg) >= 4.6, seg
    assert np.median(erle) >= 31.5, erle


# Measured: ERLE / suppressor's double talk over 1-3 s.
#   now:                                       41.4 / 0.0 %, 34.2 / 8.0 %, 41.1 / 0.0 %
#   the learnt gain trusted from its first second: 34.2 / 6.5 %, 18.7 / 12.0 %, 36.2 / 6.0 %
#   (those with the 100 ms hangover; the 160 ms one now stretches seed 411's false claims)
@pytest.mark.parametrize(
    ("seed", "min_erle", "max_flags"), [(406, 39.0, 0.01), (411, 30.0, 0.09), (418, 39.0, 0.01)]
)
def test_young_echo_gain_not_trusted_for_talk(
    eval_dir: Path, seed: int, min_erle: float, max_flags: float
) -> None:
    """Echo alone in a 0.35 s room, 300 ms of delay: when the warm-up detector hands over, the learnt
    echo-return gain has had one second of far speech, and its false talk at the handover opened the
    suppressor to echo the filter already cancelled. Its threshold now starts at the warm-up's and
    falls to 6 dB over the next second."""
    case = generated(eval_dir, "st", seed, stream=9, rt60=0.35, delay_ms=(300, 300))
    flags, out = _flags_and_output(case)
    assert np.mean(flags[100:300]) <= max_flags
    assert evaluate_output(case, out)["erle_db"] >= min_erle


# Measured: suppressor's double talk after the first second / ERLE.
#   now:                                  0.0 % / 41.1, 0.0 % / 42.9, 0.0 % / 41.7 dB
#   one agreeing block starts double talk: 0.9 % / 37.2, 0.9 % / 42.0, 0.4 % / 40.7 dB
@pytest.mark.parametrize(("seed", "rt60", "min_erle"), [(303, 0.3, 39.5), (307, 0.2, 41.0), (309, 0.2, 40.5)])
def test_echo_onset_after_quiet_not_taken_for_talk(
    eval_dir: Path, seed: int, rt60: float, min_erle: float
) -> None:
    """Echo alone, 40 ms of delay: the loud onset of a far-end word the filter has not seen yet made
    both detectors agree for a single block, and the suppressor's 100 ms hangover passed the echo.
    After two quiet seconds double talk now needs a second agreeing block within 12 ms."""
    case = generated(eval_dir, "st", seed, stream=11, rt60=rt60, delay_ms=(40, 40))
    flags, out = _flags_and_output(case)
    assert np.mean(flags[100:]) <= 0.002
    assert evaluate_output(case, out)["erle_db"] >= min_erle


# Measured near loss / ERLE (stream 11, unseen by the eval tables):
#   now:                                    2.08 / 39.4, 2.09 / 42.1 dB
#   100 ms hangover, no graded tail:        2.40 / 39.4, 2.31 / 42.1 dB
@pytest.mark.parametrize(("seed", "max_loss", "min_erle"), [(327, 2.25, 38.5), (334, 2.2, 41.0)])
def test_clipped_talker_under_echo_kept_between_detections(
    eval_dir: Path, seed: int, max_loss: float, min_erle: float
) -> None:
    """Hard-clipping loudspeaker, talker 5 dB under the echo: the detectors see him only in some
    blocks, and each of his blocks suppressed as single talk counts in the near loss. Double talk
    now outlasts the last detection by 160 ms, the last 60 ms already at a stronger over-subtraction,
    so the echo after his last word is still removed."""
    case = clipped_double_talk(eval_dir, f"gen_clip_dt_{seed}", seed, 11)
    m = evaluate_output(case, run(case))
    assert m["near_loss_db"] <= max_loss, m
    assert m["erle_db"] >= min_erle, m


# Measured (ERLE of the whole case, dB): with the per-shift minimum / without it (AEC3 on the same
# case): s2691 33.2 / 27.7 (12.4), s2719 44.0 / 26.5 (13.6), s2783 34.0 / 27.8 (22.8).
@pytest.mark.parametrize(("seed", "min_erle"), [(2691, 31.0), (2719, 40.0), (2783, 31.0)])
def test_waveform_delay_test_needs_scored_blocks(eval_dir: Path, seed: int, min_erle: float) -> None:
    """New room and +100 ms at 6 s (the x03 recipe, seeds no table uses). After each delay change the
    waveform test's history restarts, so a large shift had been scored on a block or two only, and a
    quiet block passed its 10 dB test by chance: the delay moved 30-50 blocks off and the echo left
    the filter span until the power test moved it back. Every shift now needs kConfirmBlocks blocks."""
    case = room_and_delay_jump(eval_dir, "jump", seed)
    erle = evaluate_output(case, run(case))["erle_db"]
    assert erle >= min_erle, erle


@pytest.mark.parametrize(
    ("seed", "max_loss", "min_erle"), [(3301, 2.40, 42.0), (3316, 3.85, 29.5), (3334, 2.92, 23.0)]
)
def test_hangover_follows_episode_confirmation(
    eval_dir: Path, seed: int, max_loss: float, min_erle: float
) -> None:
    """Clipped rooms with double talk at SER -5 dB (seeds 3300-3339 unseen by the eval tables). The
    suppressor's hangover follows the count of blocks both detectors agreed on in the episode: a
    single block (mostly a far-end onset the filter did not predict) gets tail suppression, 12 or
    more keep the talker with the halved over-subtraction of established talk. Near loss measured
    2.53 / 3.95 / 3.03 dB before, 2.28 / 3.72 / 2.81 dB now; single-talk ERLE 44.1 / 28.6 / 43.5 ->
    44.1 / 31.0 / 43.5 dB (seeds 3300-3339: near loss lower in 39 of 40 rooms). With the
    error-coherence step (kCoherenceGain) seed 3334 keeps its near loss (2.64 dB) but its single talk
    leaks in one window after talk: 26.9 dB (43.8 before it; over seeds 3300-3339 that step moves
    single-talk ERLE +0.08 dB in the mean, 2 rooms over 5 dB worse, 1 better); 25.6 dB since the
    residual learns only from echo alone after a confirmed talker (ResidualSuppressor,
    learn_residual). Seed 3316's ERLE 30.2 -> 29.9 dB with the unsteady missed-talk model
    (kMissedTalkUnsteadyDouble: with the clip model off nothing suspects the clipping; near loss
    1.57 -> 1.54 dB); seed 3334's 25.2 -> 23.4 dB with the double-talk tier's second gate
    (kMissedTalkUnderMicEcho; near loss 2.46 -> 2.44 dB).
    Clip model off (see _raw_reference_clipped_room)."""
    m = _raw_reference_clipped_room(eval_dir, "gen_clip_episode_", seed)
    assert m["near_loss_db"] <= max_loss, m
    assert m["erle_db"] >= min_erle, m


@pytest.mark.parametrize(("seed", "min_erle", "max_loss"), [(3302, 29.0, 1.55), (3333, 30.5, 2.30)])
def test_late_false_start_hangover_suppressed(
    eval_dir: Path, seed: int, min_erle: float, max_loss: float
) -> None:
    """Clipped rooms with double talk at SER -5 dB (unseen seeds). A far-end onset 0.4 s or more after
    the last talk that both detectors take for talk for only one or two blocks is mostly the clipped
    echo, not a talker: its hangover is suppressed like the tail. Single-talk ERLE measured 24.9 /
    26.0 dB before (one such episode's 160 ms hangover held most of the single-talk output), 30.4 /
    32.1 dB now; near loss 1.59 / 2.34 -> 1.46 / 2.22 dB.
    Clip model off (see _raw_reference_clipped_room)."""
    m = _raw_reference_clipped_room(eval_dir, "gen_clip_late_", seed)
    assert m["erle_db"] >= min_erle, m
    assert m["near_loss_db"] <= max_loss, m


@pytest.mark.parametrize(("seed", "min_erle"), [(3402, 41.5), (3410, 48.5), (3411, 46.5)])
def test_single_talk_fallback_floor(eval_dir: Path, seed: int, min_erle: float) -> None:
    """Single talk in generated rooms (0.3 s, 80 ms; seeds 3400-3415 unseen by the eval tables). Two
    seconds after the last double talk, in blocks the coherence detector does not take for talk, the
    filter-free fallback's share stays at 0.03 or more (0.1 since): the filter's residual estimates lag
    far-end content it has not converged on, and those moments set the call's ERLE. Measured 37.4 /
    43.7 / 41.0 dB before, 43.6 / 51.3 / 49.1 dB with the floor (all 16 seeds: +0.8..+8.1 dB)."""
    case = generated(eval_dir, f"gen_st_floor_{seed}", seed, rt60=0.3, delay_ms=(80, 80))
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= min_erle, m


@pytest.mark.parametrize(("seed", "min_erle"), [(5028, 47.0), (5061, 43.0), (5091, 51.0)])
def test_fallback_floor_at_a_tenth(eval_dir: Path, seed: int, min_erle: float) -> None:
    """Single talk in the x01 recipe (0.2 s room, 40 ms; seeds 5000-5099 unseen by the eval tables).
    The fallback's share floor at 0.1 rather than 0.03 also covers the moments where a young filter's
    error jumps by 10 dB on a new word. Measured 42.6 / 38.2 / 46.6 dB at 0.03, 51.0 / 46.6 / 54.7 dB
    at 0.1."""
    case = generated(eval_dir, f"gen_st_floor10_{seed}", seed, stream=0, rt60=0.2, delay_ms=(40, 40))
    assert evaluate_output(case, run(case))["erle_db"] >= min_erle


@pytest.mark.parametrize(("seed", "min_erle", "max_loss"), [(5064, 38.0, 0.53), (5071, 38.5, 0.47)])
def test_fallback_floor_at_a_tenth_keeps_talker(
    eval_dir: Path, seed: int, min_erle: float, max_loss: float
) -> None:
    """Double talk at SER 0 dB in the x04 recipe (unseen seeds). The higher floor waits 400 ms after
    talk like the old one, so the talker keeps his level. Measured at 0.03: ERLE 33.7 / 34.8 dB, near
    loss 0.506 / 0.443 dB; at 0.1: 42.3 / 43.0 dB, 0.508 / 0.443 dB. With the missed-talk blocks (a
    hand rule, session 34) seed 5071 read 39.0 dB, near loss 0.35 (43.2 / 0.36 before); with the
    fitted model in its place (ResidualSuppressor, kMissedTalkDouble, session 40) 43.7 / 0.34."""
    case = generated(
        eval_dir, f"gen_dt_floor10_{seed}", seed, stream=3, rt60=0.3, delay_ms=(90, 90), ser_db=0.0
    )
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= min_erle, m
    assert m["near_loss_db"] <= max_loss, m


def assert_recipe_room(
    eval_dir: Path, name: str, seed: int, recipe: str, min_erle: float, max_loss: float
) -> None:
    """A room of an eval recipe (``recipe_case``): single-talk ERLE at least ``min_erle``, and near loss
    at most ``max_loss`` where there is a talker."""
    case = recipe_case(eval_dir, name, seed, recipe)
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= min_erle, m
    if case.nearend.any():
        assert m["near_loss_db"] <= max_loss, m


# Session 12's share-floor rules, each on unseen seeds of the eval recipes; ERLE (dB) before / now,
# near loss (dB) where there is a talker.
# only-coherence: 37.4 / 52.2, 36.6 / 52.1, 29.6 / 41.6 (loss 0.955 both), 30.5 / 43.5 (1.871 / 1.873).
# quiet-2s: 40.8 / 58.8, 42.8 / 57.2, 30.8 / 45.0 (loss 0.905 both); since the step's spectral floor
# (kSpectralFloor) 43.3 / 59.8, 43.9 / 57.3, 30.0 / 38.2 (loss 0.40 both).
# between-turns (since the error-coherence step, kCoherenceGain): 48.2 / 52.9 (loss 0.71 both), 44.7 / 47.6
# (0.45 both), 35.9 / 40.0 (0.82 both). Seeds 5089, 7154 and 6058, pinned before that step (44.5 / 52.9,
# 42.8 / 49.0, 37.6 / 43.6), no longer show the rule (within 0.3 dB with it or without).
@pytest.mark.parametrize(
    ("seed", "recipe", "min_erle", "max_loss"),
    [
        pytest.param(7176, "x01", 48.0, 0.0, id="only-coherence-7176"),
        pytest.param(7168, "x01", 48.0, 0.0, id="only-coherence-7168"),
        pytest.param(6002, "x04", 38.0, 1.0, id="only-coherence-6002"),
        pytest.param(7156, "x05", 40.0, 1.95, id="only-coherence-7156"),
        pytest.param(7026, "x01", 52.0, 0.0, id="quiet-2s-7026"),
        pytest.param(7188, "x02", 52.0, 0.0, id="quiet-2s-7188"),
        pytest.param(6053, "x04", 36.0, 0.95, id="quiet-2s-6053"),
        pytest.param(7103, "x04", 50.5, 0.8, id="between-turns-7103"),
        pytest.param(7108, "x04", 46.0, 0.6, id="between-turns-7108"),
        pytest.param(6096, "x05", 38.0, 0.95, id="between-turns-6096"),
        pytest.param(3853, "x02", 50.0, 0.0, id="weak-filter-3853"),
        pytest.param(3858, "x01", 56.0, 0.0, id="weak-filter-3858"),
        pytest.param(3856, "x04", 47.0, 0.6, id="weak-filter-3856"),
        pytest.param(3867, "x04", 51.0, 0.5, id="weak-filter-3867"),
    ],
)
def test_fallback_floor_in_echo_the_filter_under_states(
    eval_dir: Path, seed: int, recipe: str, min_erle: float, max_loss: float
) -> None:
    """Single talk (x01, x02) and double talk (x04 at SER 0 dB, x05 clipping at SER -5 dB). The
    fallback's share floor removes echo the filter's own residual estimates under-state, and the
    talker keeps his level:
    - only-coherence: the floor steps aside only where both detectors take a block for talk. A filter
      meeting a word it has not converged on makes its error incoherent with its estimate, so the
      coherence detector alone fired exactly where the floor was needed.
    - quiet-2s: two seconds after the last double talk, a block neither detector flags and whose mic
      is over 0.8 coherent with the echo estimates gets a floor of 0.5 (0.1 otherwise).
    - between-turns: the same from 400 ms after talk where the mic is over 0.9 coherent.
    - weak-filter (session 41; seeds 3850-3879: 15 of 90 rooms moved by over 2 dB, none lost): the
      same from 400 ms after talk while the linear filter removes under 10 dB
      (kWeakFilterFallbackFloor), which cannot have removed more than nine tenths of the echo; single
      bins whose learnt share had fallen opened on their own in single talk. ERLE before / now: 43.8 /
      54.5, 51.3 / 59.8, 39.5 / 50.4, 43.3 / 55.3 dB; near loss of the x04 rooms 0.51 / 0.51 and 0.40 /
      0.41 dB."""
    assert_recipe_room(eval_dir, f"gen_floor_{recipe}_{seed}", seed, recipe, min_erle, max_loss)


@pytest.mark.parametrize(("seed", "min_erle", "max_loss"), [(3509, 43.0, 0.60), (3515, 42.5, 0.65)])
def test_fallback_floor_after_talk(eval_dir: Path, seed: int, min_erle: float, max_loss: float) -> None:
    """Double talk at SER 0 dB (0.3 s room, 90 ms; seeds 3500-3515 unseen by the eval tables). The
    fallback's share floor holds from 400 ms after the last double talk (when the energy detector
    alone stops counting for talk), not only after 2 s: the echo between the talker's turns, where
    adaptation was held, is removed too. ERLE measured 41.8 / 40.0 dB with the 2 s wait, 43.5 / 43.7
    dB now; near loss unchanged (0.551 / 0.592 -> 0.551 / 0.593 dB)."""
    case = generated(
        eval_dir, f"gen_dt_floor_{seed}", seed, stream=3, rt60=0.3, delay_ms=(90, 90), ser_db=0.0
    )
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= min_erle, m
    assert m["near_loss_db"] <= max_loss, m


@pytest.mark.parametrize(("seed", "min_erle", "max_loss"), [(3913, 39.0, 2.08), (3895, 38.5, 2.19)])
def test_weak_filter_floor_not_under_clipping(
    eval_dir: Path, seed: int, min_erle: float, max_loss: float
) -> None:
    """x05 rooms (hard clip, talker 5 dB under the echo; unseen seeds). A clipped echo keeps the
    linear filter under 10 dB for the whole call, so kWeakFilterFallbackFloor steps aside where a
    clipping loudspeaker is suspected (a level adopted, or a candidate correlating with the error by
    0.2); there it only took the talker's undetected blocks. Near loss with the floor everywhere /
    now: 2.12 / 2.04 and 2.21 / 2.16 dB; ERLE 41.8 and 40.9 dB either way."""
    assert_recipe_room(eval_dir, f"x5_weak_{seed}", seed, "x05", min_erle, max_loss)


# Measured near loss / ERLE (dB) with the double-talk tier at 0.999 everywhere / now:
#   seed 656: 2.80 / 2.70, 52.1 either way;  seed 619: 1.60 / 1.50, 49.0 either way.
# Over the unseen seeds 600-659 of this room: near loss -0.027 dB mean, no seed worse by 0.01 dB.
@pytest.mark.parametrize(("seed", "max_loss", "min_erle"), [(656, 2.75, 51.0), (619, 1.55, 48.0)])
def test_missed_talk_tier_lower_for_a_talker_under_the_echo(
    eval_dir: Path, regenerated_root: Path, seed: int, max_loss: float, min_erle: float
) -> None:
    """The corpus generator's c07 room (talker 5 dB under the echo, no clipping) on unseen seeds. Once
    the call's talker is known to sit under the echo and no clipping loudspeaker is suspected, the
    missed-talk model's double-talk tier starts at 0.99 instead of 0.999 (kMissedTalkDoubleUnder):
    more of his blocks that no detector takes for talk are kept, and the echo is still removed."""
    m = corpus_room_metrics(eval_dir, regenerated_root, seed, "c07_dt_ser-5_rt350_d120")
    assert m["near_loss_db"] <= max_loss, m
    assert m["erle_db"] >= min_erle, m


# Measured near loss / ERLE (dB) without the second test of the gate / now: seed 653: 3.21 / 3.10, 50.5
# either way; seed 623: 2.31 / 2.21, 45.6 either way. Over the unseen seeds 600-659 of this room: near
# loss -0.020 dB mean, no seed worse by 0.001 dB, ERLE the same.
@pytest.mark.parametrize(("seed", "max_loss", "min_erle"), [(653, 3.16, 49.5), (623, 2.26, 44.6)])
def test_missed_talk_tier_gate_holds_through_the_talkers_later_seconds(
    eval_dir: Path, regenerated_root: Path, seed: int, max_loss: float, min_erle: float
) -> None:
    """The corpus generator's c07 room on unseen seeds. The double-talk tier's gate also holds while the
    talker's talk blocks stay under twice the filter-free echo prediction in mic power
    (kMissedTalkUnderMicEcho): the incoherent-to-coherent test alone, as his louder moments come to fill
    its ~200 ms average, let go of him in his later seconds."""
    m = corpus_room_metrics(eval_dir, regenerated_root, seed, "c07_dt_ser-5_rt350_d120")
    assert m["near_loss_db"] <= max_loss, m
    assert m["erle_db"] >= min_erle, m


# Measured ERLE / near loss (dB), with the tier at 0.99 wherever the talker is under the echo
# (no clipping test) / now: s4019_x05 31.7 / 36.7, 1.06 / 1.07. With it at 0.99 wherever no clipping is
# suspected (no test of the talker) / now: s4038_x04 33.1 / 39.1, 0.55 either way.
@pytest.mark.parametrize(
    ("seed", "recipe", "min_erle", "max_loss"), [(4019, "x05", 35.5, 1.12), (4038, "x04", 38.0, 0.60)]
)
def test_missed_talk_tier_stays_high_outside_its_gates(
    eval_dir: Path, seed: int, recipe: str, min_erle: float, max_loss: float
) -> None:
    """The other side of kMissedTalkDoubleUnder, on unseen seeds: in a clipped room (x05) and with a
    talker at SER 0 dB (x04) the missed-talk model's double-talk tier stays at 0.999, since where the
    model is wrong its double-talk treatment lets the echo out."""
    assert_recipe_room(eval_dir, f"{recipe}_tier_{seed}", seed, recipe, min_erle, max_loss)


# Measured near loss / ERLE (dB) without the unsteady model / now:
#   seed 634: 1.69 / 1.49, 50.4 either way;  seed 610: 2.17 / 2.02, 48.5 either way.
# Over the unseen seeds 600-659 of this room: near loss -0.040 dB mean, no seed worse by 0.01 dB.
@pytest.mark.parametrize(("seed", "max_loss", "min_erle"), [(634, 1.59, 49.4), (610, 2.09, 47.5)])
def test_unsteady_blocks_keep_a_talker_under_the_echo(
    eval_dir: Path, regenerated_root: Path, seed: int, max_loss: float, min_erle: float
) -> None:
    """The corpus generator's c07 room (talker 5 dB under the echo, no clipping) on unseen seeds. The
    blocks the missed-talk model is never asked about (an echo onset, an echo estimate off its ~100 ms
    average) are decided by a second model fit on them alone (kMissedTalkUnsteadyDouble): more of the
    talker is kept there, and the echo is still removed."""
    m = corpus_room_metrics(eval_dir, regenerated_root, seed, "c07_dt_ser-5_rt350_d120")
    assert m["near_loss_db"] <= max_loss, m
    assert m["erle_db"] >= min_erle, m


# Measured ERLE (dB) without the test / now (knob builds): seed 622 (c06, talker at SER 0 dB), the
# double-talk tier while the linear filter is weak: 44.7 / 49.0 (49.0 without the unsteady model), near
# loss 0.87 dB; seed 662 (c07), the model asked where the echo estimate is over 3x its average: 44.0 /
# 47.0, near loss 1.28 / 1.30 dB.
@pytest.mark.parametrize(
    ("seed", "name", "min_erle", "max_loss"),
    [
        pytest.param(622, "c06_dt_ser0_rt250_d50", 47.0, 0.95, id="weak-filter-622"),
        pytest.param(662, "c07_dt_ser-5_rt350_d120", 45.5, 1.40, id="rise-662"),
    ],
)
def test_unsteady_model_guards(
    eval_dir: Path, regenerated_root: Path, seed: int, name: str, min_erle: float, max_loss: float
) -> None:
    """The other side of kMissedTalkUnsteadyDouble, on unseen seeds of the corpus generator: its
    double-talk tier waits while the linear filter is weak (MissedTalkCues::weak_filter), and the model
    is not asked where the echo estimate is over kMissedTalkUnsteadyRise times its ~100 ms average (a
    loud far word's first blocks): there a block it takes for the talker is mostly echo the filter has
    not learnt."""
    m = corpus_room_metrics(eval_dir, regenerated_root, seed, name)
    assert m["erle_db"] >= min_erle, m
    assert m["near_loss_db"] <= max_loss, m


def test_late_delay_estimate_refined_from_window_edge(eval_dir: Path) -> None:
    """300 ms bulk delay in a long reverb (RT60 0.35 s; seed 4013 of the x02 recipe, unseen). The
    envelope estimate can settle 40-60 ms late, which puts the direct path before the filter window;
    the filter then peaks at the window's first partition but cannot cancel the 10 dB that the
    refinement required. From the window edge a 3 dB fit now suffices: ERLE 30.4 -> 37.3 dB, the
    estimate ends at 304 ms. Over 280 such unseen rooms (seeds 3900-4179) this was the one large change
    (the others: +0.1 and -0.8 dB); on the eval sets it took s2626_x02 9.8 -> 13.3, s2644_x02 20.2 ->
    41.4 and s2723_x02 10.7 -> 29.5 dB."""
    case = generated(eval_dir, "x2_4013", 4013, stream=1, rt60=0.35, delay_ms=(300, 300))
    ec = EchoCanceller()
    m = evaluate_output(case, run_canceller(ec, case))
    assert m["erle_db"] >= 35.0, m
    assert 296.0 <= ec.stats["delay_ms"] <= 312.0, ec.stats


# ERLE (dB) before / with the low-band burst rule; near loss where there is a talker.
# s7019_x01 45.3 / 56.5, s5016_x02 40.3 / 49.3, s7001_x04 39.1 / 47.6 (loss 0.563 / 0.565).
@pytest.mark.parametrize(
    ("seed", "recipe", "min_erle", "max_loss"),
    [
        pytest.param(7019, "x01", 52.0, 0.0, id="single-talk-7019"),
        pytest.param(5016, "x02", 46.0, 0.0, id="long-delay-5016"),
        pytest.param(7001, "x04", 45.0, 0.6, id="double-talk-7001"),
    ],
)
def test_far_low_band_burst_is_not_taken_for_talk(
    eval_dir: Path, seed: int, recipe: str, min_erle: float, max_loss: float
) -> None:
    """Unseen seeds of the eval recipes. A far-end burst below 60 Hz (a plosive's pop in the far
    talker's recording) excites the one bin the filters never learnt; its echo, 10-20 dB over what
    either double-talk detector predicts there, read as a talker and the suppressor passed the
    block. During such a burst (FarLowBand) the lowest bin is now suppressed against the far power
    there whatever the talk state, so the rest of the call's single-talk ERLE is not decided by it,
    and a talker keeps his level (near loss +0.0026 dB mean over 1000 unseen double-talk rooms)."""
    assert_recipe_room(eval_dir, f"gen_low_band_{recipe}_{seed}", seed, recipe, min_erle, max_loss)


# Single-talk ERLE (dB) before / with kLoudOnsetRatio's rule: s137_x02 16.1 / 43.6 (AEC3 24.4); the
# same room with a 220 ms bulk delay 14.5 / 48.5.
@pytest.mark.parametrize(("delay_ms", "min_erle"), [(300, 38.0), (220, 40.0)])
def test_loud_far_word_before_any_talk_is_not_talk(eval_dir: Path, delay_ms: int, min_erle: float) -> None:
    """Echo alone with a long bulk delay (the x02 recipe, seed 137): the delay is found 0.6 s after the
    echo starts, and a far word 5-10 dB louder than anything before arrives while the filter still
    removes 1-4 dB. Its error stood 2-6 dB over the echo estimate, both detectors agreed on talk, and
    double talk's over-subtraction passed the word at the mic's level for 200 ms: 94 % of the room's
    single-talk output. Before anything has been taken for talk, a loud echo onset over a filter that
    cancels under 6 dB is not talk (ResidualSuppressor, kLoudOnsetRatio)."""
    case = generated(eval_dir, "gen_loud_onset", 137, stream=1, rt60=0.35, delay_ms=(delay_ms, delay_ms))
    m = evaluate_output(case, run(case))
    assert m["erle_db"] >= min_erle, m


def test_first_talk_over_a_cancelling_filter_keeps_its_blocks(eval_dir: Path, regenerated_root: Path) -> None:
    """The other side of kLoudOnsetRatio's rule: the corpus generator's k3_c07 (a talker 5 dB under the
    echo) comes in at 2.33 s just as a far word rises over the call's loudest echo, but over a filter
    that already removes 10-18 dB. Blocking talk there on the onset alone put the room's near loss
    over 3 dB (2.94 -> 3.29 dB); with the filter's depth in the rule it stays 2.94 dB."""
    m = corpus_room_metrics(eval_dir, regenerated_root, 3, "c07_dt_ser-5_rt350_d120")
    assert m["near_loss_db"] <= 3.1, m
    assert m["erle_db"] >= 45.0, m
