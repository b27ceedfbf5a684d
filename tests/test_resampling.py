"""The resampling lab: every method, every common rate pair, and the quality ordering."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import workbench as wb
from workbench import resampling as rs
from workbench.errors import ResampleError
from workbench.resampling import COMMON_RATES, DEFAULT_RESAMPLER, RESAMPLERS, alias_energy_db, passband_gains_db, resample
from workbench.signals import band_limited_noise, fade, tone

from .conftest import ROOT

AVAILABLE = [name for name, r in RESAMPLERS.items() if r.available()[0]]
QUALITY = [n for n in AVAILABLE if RESAMPLERS[n].kind == "quality"]


def test_registry_has_the_methods_the_lab_promises():
    expected = {
        "soxr_hq",
        "soxr_vhq",
        "torchaudio_default",
        "torchaudio_kaiser_best",
        "librosa_soxr_hq",
        "librosa_kaiser_best",
        "librosa_polyphase",
        "scipy_poly",
        "ffmpeg_swr",
        "ffmpeg_soxr",
        "naive_decimation",
        "linear",
        "mislabelled",
    }
    assert expected <= set(RESAMPLERS)
    for r in RESAMPLERS.values():
        assert r.description and "\n" not in r.description
        assert r.kind in {"quality", "common", "bad", "mislabel"}


def test_default_is_high_quality_and_says_why():
    assert DEFAULT_RESAMPLER == wb.DEFAULT_RESAMPLER == "soxr_hq"
    assert RESAMPLERS[DEFAULT_RESAMPLER].kind == "quality"
    assert "soxr_hq" in resample.__doc__ and "-140 dB" in resample.__doc__


@pytest.mark.parametrize("orig", [r for r in COMMON_RATES if r != 16_000])
@pytest.mark.parametrize("method", AVAILABLE)
def test_every_method_every_common_rate_to_16k(method, orig):
    x = tone(440, sr=orig, duration=0.25)
    y = resample(x, orig, 16_000, method)
    assert y.dtype == np.float32 and y.ndim == 1
    assert np.all(np.isfinite(y))
    if method == "mislabelled":
        assert len(y) == len(x)
        np.testing.assert_array_equal(y, x)
    else:
        assert abs(len(y) - len(x) * 16_000 / orig) <= 2 + 16_000 / orig


@pytest.mark.parametrize("method", AVAILABLE)
def test_upsampling_and_stereo(method):
    x = np.stack([tone(300, sr=16_000, duration=0.25), tone(500, sr=16_000, duration=0.25)])
    y = resample(x, 16_000, 48_000, method)
    assert y.shape[0] == 2
    if method != "mislabelled":
        assert abs(y.shape[1] - 3 * x.shape[1]) <= 3
        # channels stay apart: left keeps 300 Hz, right keeps 500 Hz
        for ch, f in ((0, 300), (1, 500)):
            spec = np.abs(np.fft.rfft(y[ch]))
            assert np.argmax(spec) * 48_000 / y.shape[1] == pytest.approx(f, abs=8)


def test_same_rate_is_a_copy():
    x = tone(440, sr=16_000, duration=0.1)
    y = resample(x, 16_000, 16_000, "naive_decimation")
    np.testing.assert_array_equal(x, y)
    assert y is not x


@pytest.fixture(scope="module")
def alias_48k():
    return {m: alias_energy_db(m, 48_000, 16_000, signal="noise", duration=2.0) for m in AVAILABLE}


def test_alias_rejection_ordering(alias_48k):
    """High-quality methods are far better than torchaudio's default, which is far better than naive decimation."""
    default = alias_48k["torchaudio_default"]
    naive = alias_48k["naive_decimation"]
    for m in QUALITY:
        assert alias_48k[m] < -90, m
        assert alias_48k[m] < default - 50, m
    assert -45 < default < -25  # torchaudio's out-of-the-box filter lets a lot through
    assert naive > -3  # everything folds into the speech band
    assert default < naive - 25
    assert alias_48k["soxr_vhq"] < alias_48k["soxr_hq"] < -130


def test_alias_measure_agrees_on_sweeps_and_at_44k():
    for m in ("soxr_hq", "torchaudio_default", "naive_decimation"):
        noise = alias_energy_db(m, 44_100, 16_000, signal="noise", duration=2.0)
        sweep = alias_energy_db(m, 44_100, 16_000, signal="sweep", duration=2.0)
        assert abs(noise - sweep) < 10, m


def test_alias_measure_rejects_upsampling():
    with pytest.raises(ResampleError, match="downsampling"):
        alias_energy_db("soxr_hq", 16_000, 48_000)


def test_passband_is_flat_for_quality_methods_and_broken_by_mislabelling():
    for m in ("soxr_hq", "soxr_vhq", "torchaudio_kaiser_best"):
        gains = passband_gains_db(m, 48_000, 16_000)
        assert max(abs(g) for g in gains.values()) < 0.05, m
    # torchaudio's default droops towards 7 kHz
    assert min(passband_gains_db("torchaudio_default", 48_000, 16_000).values()) < -0.5
    # the samples play 3x slower, so no tone is where it should be
    assert max(passband_gains_db("mislabelled", 48_000, 16_000).values()) < -20


def test_naive_decimation_folds_a_tone_into_the_speech_band():
    x = fade(tone(10_000, sr=48_000, duration=1.0), sr=48_000)  # above 8 kHz: must vanish at 16 kHz
    good = resample(x, 48_000, 16_000, "soxr_hq")
    bad = resample(x, 48_000, 16_000, "naive_decimation")
    assert np.sqrt(np.mean(good**2)) < 1e-5
    spec = np.abs(np.fft.rfft(bad))
    assert np.argmax(spec) * 16_000 / len(bad) == pytest.approx(6_000, abs=2)  # mirrored about 8 kHz


def test_clip_resample_records_history(tmp_path):
    clip = wb.Clip.from_array(band_limited_noise(sr=44_100, duration=0.5), 44_100, name="noise")
    out = clip.resample(16_000, "torchaudio_default")
    assert out.sample_rate == 16_000
    assert out.info.history[-1] == {"step": "resample", "method": "torchaudio_default", "from_rate": 44_100, "to_rate": 16_000}
    bug = clip.resample(16_000, "mislabelled")
    assert bug.num_frames == clip.num_frames and "relabelled" in bug.info.history[-1]["note"]
    assert bug.duration == pytest.approx(clip.duration * 44_100 / 16_000)
    assert clip.info.history == []  # the original is untouched


def test_bad_requests_name_the_problem(monkeypatch):
    x = np.zeros(100, np.float32)
    with pytest.raises(ResampleError, match="unknown resampler 'sox'"):
        resample(x, 48_000, 16_000, "sox")
    with pytest.raises(ResampleError, match="orig_sr must be a positive integer"):
        resample(x, 0, 16_000)
    with pytest.raises(ResampleError, match="target_sr must be a positive integer"):
        resample(x, 48_000, 16_000.5)
    monkeypatch.setattr(rs, "ffmpeg_binary", lambda: None)
    with pytest.raises(ResampleError, match="ffmpeg_swr.*not available.*not on PATH"):
        resample(x, 48_000, 16_000, "ffmpeg_swr")


def test_resample_report_table():
    df = rs.resample_report([48_000], 16_000, ["soxr_hq", "torchaudio_default", "naive_decimation"], timing_seconds=1.0, progress=False)
    assert list(df["method"]) == ["soxr_hq", "torchaudio_default", "naive_decimation"]  # sorted best first
    assert (df["x_real_time"] > 1).all()
    assert df.attrs["skipped"] == {}


def test_cli_resample_report_writes_files(tmp_path):
    out = tmp_path / "rep"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "resample-report",
            "--rates",
            "48000",
            "--methods",
            "soxr_hq,naive_decimation",
            "--timing-seconds",
            "1",
            "--out",
            str(out),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert {r["method"] for r in result["rows"]} == {"soxr_hq", "naive_decimation"}
    html = (out / "resampling-report.html").read_text(encoding="utf-8")
    assert "naive_decimation" in html and '<script src="http' not in html
    assert (out / "resampling-report.csv").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_cli_resample_writes_a_16k_wav_and_nothing_on_failure(tmp_path, audio_dir):
    out = tmp_path / "out.wav"
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "resample", str(audio_dir / "tone.flac"), str(out)], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    clip = wb.load_audio(out)
    assert clip.sample_rate == 16_000 and clip.num_channels == 1
    bad = tmp_path / "bad.wav"
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "resample", str(audio_dir / "tone.flac"), str(bad), "--method", "nope"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and "unknown resampler 'nope'" in proc.stderr
    assert list(tmp_path.iterdir()) == [out]
