"""Shared fixtures: generated audio files in every format, and the real recordings."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from workbench.signals import tone

ROOT = Path(__file__).resolve().parents[1]
SHARED_AUDIO = ROOT.parent / "shared" / "audio"
RATE = 44_100
SECONDS = 1.0


@pytest.fixture(scope="session")
def shared_audio() -> Path:
    """The folder of real recordings beside the project; skip when a clone has none."""
    if not (SHARED_AUDIO / "manifest.csv").is_file():
        pytest.skip(f"real recordings not present (expected {SHARED_AUDIO}); they live outside the project")
    return SHARED_AUDIO


@pytest.fixture(scope="session")
def shared_manifest(shared_audio) -> list[dict]:
    with open(shared_audio / "manifest.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def stereo_tone(sr: int = RATE, seconds: float = SECONDS) -> np.ndarray:
    """(frames, 2): 440 Hz left, 660 Hz right, -6 dBFS."""
    return np.stack([tone(440, sr=sr, duration=seconds), tone(660, sr=sr, duration=seconds)], axis=1)


def ffmpeg_encode(src: Path, dst: Path, *args: str) -> Path:
    exe = shutil.which("ffmpeg")
    if exe is None:
        pytest.skip("the ffmpeg binary is needed to make this test file")
    subprocess.run([exe, "-nostdin", "-v", "error", "-y", "-i", str(src), *args, str(dst)], check=True)
    return dst


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory) -> Path:
    """A folder of small files in the formats users bring, all the same stereo tone pair."""
    d = tmp_path_factory.mktemp("audio")
    data = stereo_tone()
    for subtype in ("PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT"):
        sf.write(d / f"tone_{subtype.lower()}.wav", data, RATE, subtype=subtype)
    sf.write(d / "tone.flac", data, RATE, subtype="PCM_24")
    sf.write(d / "tone.ogg", data, RATE, format="OGG", subtype="VORBIS")
    sf.write(d / "tone.opus", stereo_tone(48_000), 48_000, format="OGG", subtype="OPUS")
    sf.write(d / "tone.mp3", data, RATE, format="MP3", subtype="MPEG_LAYER_III")
    if shutil.which("ffmpeg"):
        ffmpeg_encode(d / "tone_pcm_16.wav", d / "tone.m4a", "-c:a", "aac", "-b:a", "128k")
        ffmpeg_encode(d / "tone_pcm_16.wav", d / "tone_lame.mp3", "-c:a", "libmp3lame", "-b:a", "128k")
    return d
