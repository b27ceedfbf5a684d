"""Shared fixtures: generated audio files in every format, the real recordings, and caches that are not the user's.

Before anything is imported, every cache and per-user folder the suite could
write in (the workbench's model cache, Hugging Face's, ModelScope's, torch's,
matplotlib's, IPython's, Jupyter's data, the XDG configuration folder where
Chromium keeps its profile) is pointed at one temporary folder
for the session, removed at its end: the user's home and caches are never
touched. Subprocesses inherit the same folders. The embedded model is built
there once, by the first test that needs it, and shared by the rest.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

#: The session's stand-in for the user's home: every redirected folder lives under it.
SESSION_HOME = Path(tempfile.mkdtemp(prefix="workbench-tests-"))
#: Environment variables pointed into :data:`SESSION_HOME`, and where.
REDIRECTED = {
    "WORKBENCH_CACHE": "cache/whisper-workbench",
    "XDG_CACHE_HOME": "cache",
    "XDG_CONFIG_HOME": "config",  # Chromium's profile and PulseAudio's cookie, among others
    "HF_HOME": "cache/huggingface",
    "HF_HUB_CACHE": "cache/huggingface/hub",
    "MODELSCOPE_CACHE": "cache/modelscope",
    "MODELSCOPE_CREDENTIALS_PATH": "modelscope/credentials",
    "TORCH_HOME": "cache/torch",
    "MPLCONFIGDIR": "config/matplotlib",
    "IPYTHONDIR": "ipython",
    "JUPYTER_DATA_DIR": "local/share/jupyter",
}
#: Older names that would override the ones above.
UNSET = ("HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE", "HF_ASSETS_CACHE", "HF_XET_CACHE")
for _name, _sub in REDIRECTED.items():
    os.environ[_name] = str(SESSION_HOME / _sub)
for _name in UNSET:
    os.environ.pop(_name, None)
#: The suite's Ray cluster is local and short-lived: without this, Ray saves a token in ~/.ray (a path it offers no variable for).
os.environ["RAY_AUTH_MODE"] = "disabled"
#: Parallel workers share the cores. Each worker's libraries (PyTorch's and CTranslate2's OpenMP pools,
#: and every subprocess a test starts) get an equal share of threads: OpenMP threads spin while they
#: wait, and two workers with a thread per core each ran the transformers tests 3-5x slower.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // _WORKERS)))

import numpy as np  # noqa: E402 - after the environment above, which libraries read when imported
import pytest  # noqa: E402
import soundfile as sf  # noqa: E402

from workbench.signals import tone  # noqa: E402

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


#: Files whose slow tests take the longest (notebooks, the demo, the benchmarks' smoke runs): started first.
LONGEST_FIRST = ("test_notebooks.py", "test_diagnosis.py", "test_bench.py", "test_transcription.py")
#: A session fixture that one worker computes and the others read from a file (see ``test_diagnosis.demo``).
SHARED_RESULT = "demo"


def pytest_collection_modifyitems(config, items) -> None:
    """Slow tests first, the longest of them first, so that parallel workers finish together (otherwise the files' order).

    Workers take tests one at a time (``--maxschedchunk=1``), longest first.
    Of the tests that read the shared demo, the first starts with the slow
    ones and the rest wait until the other slow tests have gone out: by then
    the demo is computed, and no worker sits idle waiting for it.
    """
    first_reader = next((item for item in items if SHARED_RESULT in getattr(item, "fixturenames", ())), None)

    def order(item) -> tuple[bool, bool, int]:
        name = item.path.name
        waits = item is not first_reader and SHARED_RESULT in getattr(item, "fixturenames", ())
        return item.get_closest_marker("slow") is None, waits, LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=order)


def pytest_unconfigure(config) -> None:
    """Remove the session's caches (models built for the tests included)."""
    shutil.rmtree(SESSION_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def session_home() -> Path:
    """The folder standing in for the user's home and caches during the tests (see :data:`REDIRECTED`)."""
    return SESSION_HOME
