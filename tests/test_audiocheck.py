"""Audio-path checks on synthetic signals whose faults are known by construction."""

from __future__ import annotations

import ast
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from workbench import audiocheck
from workbench.audio import Clip, load_audio
from workbench.audiocheck import CAUSES, check_channels, check_clip, check_clipping, check_rate, check_silence
from workbench.signals import band_limited_noise, speech_like, tone

SR = 16_000


@pytest.fixture(scope="module")
def voice() -> np.ndarray:
    return speech_like(sr=SR, duration=2.0)


# --------------------------------------------------------------------------
# Channels
# --------------------------------------------------------------------------


def test_phase_inverted_stereo_cancels_and_a_single_channel_is_recommended(voice):
    report = check_channels(np.stack([voice, -voice]), SR)
    assert report.cancels
    assert report.downmix_loss_db > 60
    assert report.correlation == pytest.approx(-1.0, abs=1e-6)
    assert report.best_channel in (0, 1)
    assert report.silent_channels == ()
    assert report.levels_dbfs[0] == pytest.approx(report.levels_dbfs[1])
    assert any("cancel" in m and "channel=" in m for m in report.messages)


def test_partly_inverted_stereo_cancels_only_past_the_threshold(voice):
    """An inverted copy at 0.9 gain leaves the mix 26 dB down; at 0.2 gain it costs 8 dB,
    barely more than a silent side would (6 dB), and is not called cancellation."""
    deep = check_channels(np.stack([voice, -0.9 * voice]), SR)
    assert deep.cancels and deep.best_channel == 0
    assert deep.downmix_loss_db == pytest.approx(20 * np.log10(2 / 0.1), abs=0.1)
    shallow = check_channels(np.stack([voice, -0.2 * voice]), SR)
    assert not shallow.cancels and shallow.best_channel == "mean"


def test_identical_stereo_has_no_finding_and_the_mean_is_best(voice):
    report = check_channels(np.stack([voice, voice]), SR)
    assert not report.cancels and report.silent_channels == ()
    assert report.best_channel == "mean"
    assert report.downmix_loss_db == pytest.approx(0.0, abs=1e-6)
    assert report.correlation == pytest.approx(1.0)
    assert report.pairs[0].best_correlation == pytest.approx(1.0) and report.pairs[0].best_lag_ms == 0.0
    assert report.messages == ()


@pytest.mark.parametrize("silent", [0, 1])
def test_one_silent_channel_is_found_and_the_other_recommended(voice, silent):
    data = np.stack([voice, voice])
    data[silent] = 0.0
    report = check_channels(data, SR)
    assert report.silent_channels == (silent,)
    assert report.best_channel == 1 - silent
    # A silent side halves the mean (-6 dB) without any cancellation.
    assert report.downmix_loss_db == pytest.approx(6.02, abs=0.05)
    assert not report.cancels
    assert report.correlation is None
    assert any(f"channel={1 - silent}" in m for m in report.messages)


def test_a_channel_30_db_down_counts_as_silent_but_20_db_down_does_not(voice):
    quiet = check_channels(np.stack([voice, 10 ** (-35 / 20) * voice]), SR)
    assert quiet.silent_channels == (1,) and quiet.best_channel == 0
    lower = check_channels(np.stack([voice, 0.1 * voice]), SR)
    assert lower.silent_channels == () and lower.best_channel == "mean"


def test_unrelated_channels_lose_about_3_db_without_cancelling(voice):
    noise = band_limited_noise(sr=SR, duration=2.0, low=200, high=4000, seed=1)
    noise *= np.sqrt(np.mean(voice**2) / np.mean(noise**2))
    report = check_channels(np.stack([voice, noise]), SR)
    assert abs(report.correlation) < 0.1
    assert report.downmix_loss_db == pytest.approx(3.0, abs=0.6)
    assert not report.cancels and report.best_channel == "mean"


def test_a_delayed_copy_is_found_at_its_lag():
    noise = band_limited_noise(sr=48_000, duration=1.0, low=100, high=8000, seed=2)
    delay = 24  # 0.5 ms
    report = check_channels(np.stack([noise[delay:], noise[:-delay]]), 48_000)
    pair = report.pairs[0]
    assert pair.best_lag_ms == pytest.approx(0.5)
    assert pair.best_correlation > 0.99 > pair.correlation


def test_levels_are_measured_in_the_speech_band():
    sine = tone(1000, sr=SR, amplitude=0.5)
    hum = tone(50, sr=SR, amplitude=0.5)
    report = check_channels(np.stack([sine, hum]), SR)
    assert report.levels_dbfs[0] == pytest.approx(-9.03, abs=0.05)  # RMS of a 0.5 sine
    assert report.levels_dbfs[1] < -60  # hum is not speech...
    assert report.peaks_dbfs[1] == pytest.approx(-6.02, abs=0.05)  # ...though its peak is there
    assert report.silent_channels == (1,)


def test_mono_needs_no_choice(voice):
    report = check_channels(voice, SR)
    assert (report.channels, report.best_channel, report.pairs, report.cancels) == (1, "mean", (), False)


# --------------------------------------------------------------------------
# Clipping
# --------------------------------------------------------------------------


def test_clipped_sine_is_clipped_and_a_clean_one_is_not():
    hot = np.clip(tone(440, sr=SR, amplitude=2.0), -1.0, 1.0)
    report = check_clipping(hot)
    assert report.clipped
    assert report.clipped_fraction == pytest.approx(2 / 3, abs=0.02)  # |sin| >= 1/2 two thirds of the time
    assert report.full_scale_samples > 0 and report.over_full_scale_samples == 0
    assert report.messages and "clipped" in report.messages[0]
    clean = check_clipping(tone(440, sr=SR, amplitude=0.9))
    assert not clean.clipped and clean.clipped_fraction == 0.0 and clean.messages == ()


def test_float_samples_beyond_full_scale_count_as_clipping():
    report = check_clipping(tone(440, sr=SR, amplitude=1.5))
    assert report.clipped and report.over_full_scale_samples > 0 and report.peak == pytest.approx(1.5, abs=1e-3)


def test_isolated_full_scale_peaks_are_not_clipping():
    x = np.zeros(SR, dtype=np.float32)
    x[::100] = 1.0  # 1 % of samples touch full scale, never three in a row
    x[1::100] = -1.0
    report = check_clipping(x)
    assert report.full_scale_samples == 0 and not report.clipped
    x[5020:5070] = 1.0  # one flat run of 50 samples: 0.3 %, above the 0.1 % threshold
    report = check_clipping(x)
    assert report.full_scale_samples == 50 and report.clipped


def test_integer_samples_are_scaled_to_full_scale():
    pcm = np.round(np.clip(tone(440, sr=SR, amplitude=2.0), -1, 1) * 32767).astype(np.int16)
    assert check_clipping(pcm).clipped
    assert not check_clipping((pcm // 4).astype(np.int16)).clipped


# --------------------------------------------------------------------------
# Silence
# --------------------------------------------------------------------------


def test_silence_levels(voice):
    normal = check_silence(voice, SR)
    assert not normal.silent and not normal.near_silent and normal.messages == ()
    faint = check_silence(voice * 10 ** (-40 / 20), SR)  # about -54 dBFS
    assert faint.near_silent and not faint.silent and "quiet" in faint.messages[0]
    assert check_silence(voice * 1e-4, SR).silent
    zeros = check_silence(np.zeros((2, SR), dtype=np.float32), SR)
    assert zeros.silent and zeros.level_dbfs == audiocheck.LEVEL_FLOOR_DBFS


# --------------------------------------------------------------------------
# Sample rate
# --------------------------------------------------------------------------


def test_48k_speech_declared_16k_is_mislabelled_three_times_too_long():
    x = speech_like(sr=48_000, duration=2.0)
    report = check_rate(16_000, x, expected_seconds=2.0)
    assert report.mislabelled
    assert report.duration_ratio == pytest.approx(3.0)
    assert report.implied_rate == pytest.approx(48_000) and report.likely_rate == 48_000
    assert report.spectral_cue == "low"
    true_rolloff = check_rate(48_000, x).rolloff_hz
    assert report.rolloff_hz == pytest.approx(true_rolloff / 3, rel=0.05)  # formants moved down
    assert "assume_sample_rate=48000" in report.messages[0]


def test_rate_is_not_called_mislabelled_without_a_duration_or_within_tolerance():
    x = speech_like(sr=48_000, duration=2.0)
    unknown = check_rate(16_000, x)
    assert not unknown.mislabelled and unknown.duration_ratio is None
    assert unknown.spectral_cue == "low" and "expected_seconds" in unknown.messages[0]
    right = check_rate(48_000, x, expected_seconds=2.0)
    assert not right.mislabelled and right.spectral_cue is None and right.messages == ()
    # 44.1 kHz audio declared as 48 kHz is 8 % short: within the tolerance.
    close = check_rate(48_000, speech_like(sr=44_100, duration=2.0), expected_seconds=2.0)
    assert not close.mislabelled and close.duration_ratio == pytest.approx(44_100 / 48_000)


def test_rate_declared_too_high_is_caught_by_duration():
    x = speech_like(sr=8_000, duration=2.0)
    report = check_rate(16_000, x, expected_seconds=2.0)
    assert report.mislabelled and report.duration_ratio == pytest.approx(0.5) and report.likely_rate == 8_000
    assert "faster" in report.messages[0]


def test_rolloff_fraction_is_relative_to_the_declared_nyquist():
    noise = band_limited_noise(sr=SR, duration=2.0, low=100, high=4000)
    report = check_rate(SR, noise)
    assert report.nyquist_hz == 8000
    assert report.rolloff_hz == pytest.approx(3800, abs=150)
    assert report.rolloff_fraction == pytest.approx(report.rolloff_hz / 8000)


# --------------------------------------------------------------------------
# A whole clip
# --------------------------------------------------------------------------


def test_a_clean_clip_has_no_causes(voice):
    report = check_clip(Clip.from_array(np.stack([voice, 0.8 * voice]), SR), expected_seconds=2.0)
    assert report.causes == () and report.ok
    assert len(report.messages) == 1 and report.messages[0].startswith("No audio-path problem")


@pytest.mark.parametrize(
    ("make", "cause"),
    [
        (lambda v: np.stack([v, -v]), "downmix_cancellation"),
        (lambda v: np.stack([v, np.zeros_like(v)]), "silent_channel"),
        (lambda v: np.clip(4 * v, -1, 1), "clipping"),
        (lambda v: 1e-4 * v, "silence"),
    ],
)
def test_each_fault_is_named(voice, make, cause):
    report = check_clip(Clip.from_array(make(voice), SR))
    assert report.causes == (cause,)
    assert report.messages and not report.messages[0].startswith("No audio-path problem")


def test_mislabelled_clip_and_evidence_are_json():
    x = speech_like(sr=48_000, duration=2.0)
    report = check_clip(Clip.from_array(x, 16_000), expected_seconds=2.0)
    assert report.causes == ("mislabelled_rate",)
    evidence = json.loads(json.dumps(report.evidence))
    assert evidence["duration_ratio"] == pytest.approx(3.0) and evidence["likely_rate"] == 48_000
    json.dumps(report.to_dict())  # every report serialises, infinities included
    assert set(report.causes) <= set(CAUSES)


def test_a_mean_loaded_file_is_judged_from_its_recorded_channel_levels(tmp_path, voice):
    path = tmp_path / "inverted.wav"
    sf.write(path, np.stack([voice, -voice], axis=1), SR, subtype="FLOAT")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mean = load_audio(path)
        right = load_audio(path, channel=1)
        full = load_audio(path, channel="all")
    report = check_clip(mean)
    assert report.causes[0] == "downmix_cancellation" and "silence" in report.causes
    assert report.channels.pairs == () and "channel='all'" in report.channels.level_basis
    assert report.channels.best_channel in (0, 1)
    one = check_clip(right)
    assert one.causes == ()  # one channel of it is fine...
    assert one.channels.best_channel == 1  # ...and is not swapped for the mean that cancels
    assert check_clip(full).causes == ("downmix_cancellation",)


def test_module_imports_only_numpy_and_the_standard_library():
    tree = ast.parse(Path(audiocheck.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in tree.body:  # module level only; TYPE_CHECKING imports are not run
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "math", "dataclasses", "typing", "numpy"}
