"""The bundled sample set in data/: manifest, files, sizes, spectra, and that make_data.py reproduces it."""

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
MAX_TOTAL_BYTES = 6_000_000
SPEECH_LANGUAGES = {"yue", "zh", "en"}
COLUMNS = ["path", "language", "reference", "sample_rate", "channels", "source", "license"]
SPEECH_BAND_HZ = 8_000  # Whisper hears nothing above this (16 kHz sampling)
STRESS_MIN_HIGH_FRACTION = 0.2  # stress variants: at least this share of energy above 8 kHz
CLEAN_MAX_HIGH_FRACTION = 0.02  # clean speech: at most this share
CANTONESE_COLLOQUIAL = set("呢唔嘅係佢喺冇咗啲嚟睇俾哋")


@pytest.fixture(scope="module")
def entries():
    return bundled()


def speech(entries):
    return [e for e in entries if e.language]


def high_band_fraction(samples: np.ndarray, sr: int) -> float:
    """Share of the (down-mixed) signal's energy above :data:`SPEECH_BAND_HZ`."""
    x = np.asarray(samples, dtype=np.float64).mean(axis=0)
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / sr)
    return float(power[freqs > SPEECH_BAND_HZ].sum() / power.sum())


def test_manifest_columns_and_entries(entries):
    with open(BUNDLED_DIR / "manifest.csv", newline="", encoding="utf-8") as f:
        assert csv.DictReader(f).fieldnames == COLUMNS
    assert len(entries) >= 6
    assert len({e.name for e in entries}) == len(entries)
    assert {e.language for e in speech(entries)} == SPEECH_LANGUAGES


def test_every_file_loads_with_declared_rate_and_channels(entries):
    for e in entries:
        assert e.path.is_file(), e.path
        clip = workbench.load_audio(e.path, channel="all")
        assert clip.sample_rate == int(e.meta["sample_rate"]), e.name
        assert clip.num_channels == int(e.meta["channels"]), e.name
        assert 1.0 < clip.samples.shape[1] / clip.sample_rate < 10.0, e.name
        assert np.max(np.abs(clip.samples)) > 0.1, f"{e.name} is (nearly) silent"
        assert np.max(np.abs(clip.samples)) < 1.0, f"{e.name} clips"


def test_data_folder_stays_small():
    total = sum(p.stat().st_size for p in BUNDLED_DIR.rglob("*") if p.is_file())
    assert total < MAX_TOTAL_BYTES, f"data/ holds {total / 1e6:.1f} MB"


def test_speech_rows_have_reference_language_and_synthetic_source(entries):
    for e in speech(entries):
        assert e.language in SPEECH_LANGUAGES, e.name
        assert e.reference, e.name
        assert e.name.startswith(e.language + "_"), e.name
        assert "synthetic" in e.meta["source"], e.name
        assert e.meta["license"], e.name
    for e in entries:
        if not e.language:
            assert not e.reference, e.name
            assert "synthetic" in e.meta["source"], e.name


def test_cantonese_references_are_colloquial(entries):
    for e in entries:
        if e.language == "yue":
            assert CANTONESE_COLLOQUIAL & set(e.reference), f"{e.name}: {e.reference!r} has no colloquial Cantonese character"


def test_stress_variants_carry_energy_above_8khz_and_clean_ones_do_not(entries):
    stress = [e for e in speech(entries) if "stress" in e.name]
    clean = [e for e in speech(entries) if "stress" not in e.name]
    assert stress and clean
    for e in stress:
        clip = workbench.load_audio(e.path, channel="all")
        assert clip.sample_rate == 48_000, e.name
        assert high_band_fraction(clip.samples, clip.sample_rate) > STRESS_MIN_HIGH_FRACTION, e.name
        twin = [c for c in clean if c.reference == e.reference]
        assert twin, f"{e.name} has no clean counterpart"
    for e in clean:
        clip = workbench.load_audio(e.path, channel="all")
        assert high_band_fraction(clip.samples, clip.sample_rate) < CLEAN_MAX_HIGH_FRACTION, e.name


def test_make_data_reproduces_the_manifest(tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng); make_data.py needs it")
    subprocess.run([sys.executable, str(MAKE_DATA), "--out", str(tmp_path)], check=True, capture_output=True, timeout=300)
    rows = lambda folder: list(csv.DictReader(open(Path(folder) / "manifest.csv", newline="", encoding="utf-8")))
    assert rows(tmp_path) == rows(BUNDLED_DIR)
    for row in rows(tmp_path):
        assert (tmp_path / row["path"]).is_file()
    # The sweep does not depend on espeak-ng's version, so its samples must match exactly.
    fresh = workbench.load_audio(tmp_path / "sweep_48k.flac").samples
    kept = workbench.load_audio(BUNDLED_DIR / "sweep_48k.flac").samples
    np.testing.assert_array_equal(fresh, kept)
