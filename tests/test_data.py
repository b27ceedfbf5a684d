"""The bundled sample set in data/: manifest, files, sizes, spectra, attribution, and that make_data.py reproduces it."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import workbench
from workbench.datasets import BUNDLED_DIR, bundled

MAKE_DATA = BUNDLED_DIR / "make_data.py"
MAX_TOTAL_BYTES = 6_000_000  # "a few MB"
COLUMNS = ["path", "language", "reference", "recording", "condition", "sample_rate", "channels", "source", "license"]
SPEECH_BAND_HZ = 8_000  # Whisper hears nothing above this (16 kHz sampling)
STRESS_KINDS = {"hiss", "cymbals", "whine", "music"}
STRESS_MIN_HIGH_FRACTION = 0.2  # stress variants: at least this share of energy above 8 kHz
CLEAN_MAX_HIGH_FRACTION = 0.01  # clean speech: at most this share
SHARED_AUDIO = Path(__file__).resolve().parents[1].parent / "shared" / "audio"


@pytest.fixture(scope="module")
def entries():
    return bundled()


def speech(entries):
    return [e for e in entries if e.language]


def high_band_fraction(samples: np.ndarray, sr: int) -> float:
    """Share of the signal's energy above :data:`SPEECH_BAND_HZ`, over all channels."""
    x = np.asarray(samples, dtype=np.float64)
    power = (np.abs(np.fft.rfft(x, axis=-1)) ** 2).sum(axis=0)
    freqs = np.fft.rfftfreq(x.shape[-1], 1 / sr)
    return float(power[freqs > SPEECH_BAND_HZ].sum() / power.sum())


def test_manifest_columns_and_entries(entries):
    with open(BUNDLED_DIR / "manifest.csv", newline="", encoding="utf-8") as f:
        assert csv.DictReader(f).fieldnames == COLUMNS
    assert len({e.name for e in entries}) == len(entries)
    assert {e.language for e in speech(entries)} == {"yue", "en"}


def test_every_file_loads_with_declared_rate_and_channels(entries):
    for e in entries:
        assert e.path.is_file(), e.path
        clip = workbench.load_audio(e.path, channel="all")
        assert clip.sample_rate == int(e.meta["sample_rate"]), e.name
        assert clip.num_channels == int(e.meta["channels"]), e.name
        assert 1.0 < clip.samples.shape[1] / clip.sample_rate < 15.0, e.name
        assert np.max(np.abs(clip.samples)) > 0.1, f"{e.name} is (nearly) silent"
        assert np.max(np.abs(clip.samples)) < 1.0, f"{e.name} clips"


def test_data_folder_stays_small():
    total = sum(p.stat().st_size for p in BUNDLED_DIR.rglob("*") if p.is_file())
    assert total < MAX_TOTAL_BYTES, f"data/ holds {total / 1e6:.1f} MB"


def test_cantonese_is_real_speech_with_attribution(entries):
    cantonese = [e for e in entries if e.language == "yue"]
    assert len({e.meta["recording"] for e in cantonese}) >= 2
    for e in cantonese:
        assert "FLEURS" in e.meta["source"] and "synthetic" not in e.meta["source"].lower(), e.name
        assert "CC BY 4.0" in e.meta["license"] and "Conneau" in e.meta["license"], e.name
    readme = (BUNDLED_DIR / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in readme and "Conneau et al., 2022" in readme and "google/fleurs" in readme


def test_synthetic_speech_is_english_only_and_labelled(entries):
    for e in entries:
        if "synthetic" in e.meta["source"].lower() and e.reference:
            assert e.language == "en", f"{e.name}: synthetic speech only where Whisper understands it"


def test_every_recording_has_both_rates_a_stereo_version_and_every_stress(entries):
    cantonese = [e for e in entries if e.language == "yue"]
    for recording in {e.meta["recording"] for e in cantonese}:
        clips = [e for e in cantonese if e.meta["recording"] == recording]
        assert {int(e.meta["sample_rate"]) for e in clips} == {44_100, 48_000}, recording
        assert any(e.meta["condition"] == "clean" and e.meta["channels"] == "2" for e in clips), recording
        assert STRESS_KINDS <= {e.meta["condition"] for e in clips}, recording
        assert len({e.reference for e in clips}) == 1, recording
    assert any(e.path.suffix == ".mp3" for e in cantonese), "an MP3, where decoders differ"


def test_stress_variants_carry_energy_above_8khz_and_clean_ones_do_not(entries):
    stress = [e for e in speech(entries) if e.meta["condition"] in STRESS_KINDS]
    clean = [e for e in speech(entries) if e.meta["condition"].startswith("clean")]
    assert stress and clean
    for e in stress:
        clip = workbench.load_audio(e.path, channel="all")
        assert clip.sample_rate == 48_000, e.name
        assert high_band_fraction(clip.samples, clip.sample_rate) > STRESS_MIN_HIGH_FRACTION, e.name
    for e in clean:
        clip = workbench.load_audio(e.path, channel="all")
        assert high_band_fraction(clip.samples, clip.sample_rate) < CLEAN_MAX_HIGH_FRACTION, e.name


@pytest.mark.slow
def test_stereo_clean_clips_have_a_realistic_delay_and_inverted_ones_cancel(entries):
    for e in entries:
        if e.meta["channels"] != "2":
            continue
        clip = workbench.load_audio(e.path, channel="all")
        left, right = clip.samples.astype(np.float64)
        mean_level = np.sqrt(np.mean(((left + right) / 2) ** 2))
        loudest = np.sqrt(np.mean(left**2))
        if e.meta["condition"] == "polarity-inverted stereo":
            np.testing.assert_array_equal(right, -left, err_msg=f"{e.name}: one microphone, one channel inverted")
            assert mean_level == 0.0, f"{e.name}: the mean down-mix should be silence"
            continue
        middle = slice(len(left) // 2 - 24_000, len(left) // 2 + 24_000)  # a second of speech
        lag = int(np.argmax(np.correlate(right[middle], left[middle], mode="full"))) - (len(left[middle]) - 1)
        assert 0 < lag < clip.sample_rate // 1000, f"{e.name}: inter-channel lag {lag} samples"
        assert mean_level > 0.8 * loudest, e.name


def test_originals_match_the_shared_recordings():
    if not SHARED_AUDIO.is_dir():
        pytest.skip("../shared/audio is not beside the project (it holds the original recordings)")
    for name in ("yue_fleurs_liberation_16k", "yue_fleurs_speech_16k"):
        kept = workbench.load_audio(BUNDLED_DIR / "originals" / f"{name}.flac").samples
        source = workbench.load_audio(SHARED_AUDIO / f"{name}.wav").samples
        np.testing.assert_array_equal(kept, source)


@pytest.mark.slow
def test_make_data_reproduces_the_set(tmp_path):
    if shutil.which("espeak-ng") is None or shutil.which("ffmpeg") is None:
        pytest.skip("espeak-ng and ffmpeg are needed (apt-get install espeak-ng ffmpeg); make_data.py uses them")
    subprocess.run([sys.executable, str(MAKE_DATA), "--out", str(tmp_path)], check=True, capture_output=True, timeout=300)
    rows = lambda folder: list(csv.DictReader(open(Path(folder) / "manifest.csv", newline="", encoding="utf-8")))  # noqa: E731
    assert rows(tmp_path) == rows(BUNDLED_DIR)
    for row in rows(tmp_path):
        assert (tmp_path / row["path"]).is_file()
        # Everything but espeak-ng's speech and LAME's MP3 is independent of tool versions: identical samples.
        if row["path"].endswith(".flac") and "espeak" not in row["source"]:
            fresh = workbench.load_audio(tmp_path / row["path"], channel="all").samples
            kept = workbench.load_audio(BUNDLED_DIR / row["path"], channel="all").samples
            np.testing.assert_array_equal(fresh, kept, err_msg=row["path"])
