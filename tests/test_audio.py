"""Audio loading: every backend, every format, channel handling and every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import soundfile as sf

import workbench as wb
from workbench import audio as audio_mod
from workbench.audio import BACKENDS, backend_status, load_audio
from workbench.errors import (
    AudioFileNotFoundError,
    AudioLoadError,
    AudioWarning,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
    SampleRateError,
    UnsupportedCodecError,
)
from workbench.signals import tone

from .conftest import RATE, ROOT, SECONDS, stereo_tone

STATUS = backend_status()


def require(backend: str):
    ok, why = STATUS[backend]
    if not ok:
        pytest.skip(f"{backend} is not usable on this machine: {why}")


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n], b[:n])[0, 1])


# --------------------------------------------------------------------------
# Formats and backends
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "bits"),
    [
        ("tone_pcm_u8.wav", 8),
        ("tone_pcm_16.wav", 16),
        ("tone_pcm_24.wav", 24),
        ("tone_pcm_32.wav", 32),
        ("tone_float.wav", 32),
        ("tone.flac", 24),
    ],
)
def test_lossless_formats_decode_exactly(audio_dir, name, bits):
    clip = load_audio(audio_dir / name, channel="all")
    ref = stereo_tone().T
    assert clip.samples.dtype == np.float32
    assert clip.samples.shape == ref.shape
    assert clip.sample_rate == RATE
    assert clip.info.bit_depth == bits
    assert clip.info.original_channels == 2
    assert clip.info.duration == pytest.approx(SECONDS)
    tolerance = 2.0 ** -(bits - 1) * 1.01
    assert np.max(np.abs(clip.samples - ref)) <= tolerance


@pytest.mark.parametrize("name", ["tone.ogg", "tone.opus", "tone.mp3", "tone.m4a"])
def test_lossy_formats_decode_to_the_same_tones(audio_dir, name):
    path = audio_dir / name
    if not path.exists():
        pytest.skip(f"{name} could not be made here (needs the ffmpeg binary)")
    clip = load_audio(path, channel="all")
    assert clip.num_channels == 2
    rate = clip.sample_rate
    left = clip.samples[0]
    # Lossy codecs add delay; compare the spectrum instead of the samples.
    spectrum = np.abs(np.fft.rfft(left * np.hanning(len(left))))
    peak_hz = np.argmax(spectrum) * rate / len(left)
    assert peak_hz == pytest.approx(440, abs=3)
    assert clip.info.codec


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_backend_reads_flac_and_agrees_with_soundfile(audio_dir, backend):
    require(backend)
    clip = load_audio(audio_dir / "tone.flac", backend=backend, channel="all")
    ref = stereo_tone().T
    assert clip.info.decoder == backend
    assert clip.info.attempts == {backend: "ok"}
    assert clip.sample_rate == RATE
    assert np.max(np.abs(clip.samples - ref)) < 2.0**-22
    assert clip.info.decoder_version


@pytest.mark.parametrize("backend", ["torchcodec", "pyav", "ffmpeg"])
def test_ffmpeg_backends_read_m4a(audio_dir, backend):
    require(backend)
    if not (audio_dir / "tone.m4a").exists():
        pytest.skip("tone.m4a needs the ffmpeg binary to make")
    clip = load_audio(audio_dir / "tone.m4a", backend=backend)
    assert clip.info.codec == "aac"
    assert clip.sample_rate == RATE


def test_auto_records_why_earlier_backends_were_skipped(audio_dir):
    if not (audio_dir / "tone.m4a").exists():
        pytest.skip("tone.m4a needs the ffmpeg binary to make")
    clip = load_audio(audio_dir / "tone.m4a")
    assert clip.info.attempts["soundfile"].startswith("not recognised")
    assert clip.info.decoder != "soundfile"
    assert clip.info.attempts[clip.info.decoder] == "ok"


def test_forcing_a_backend_that_cannot_read_names_those_that_can(audio_dir):
    if not (audio_dir / "tone.m4a").exists():
        pytest.skip("tone.m4a needs the ffmpeg binary to make")
    with pytest.raises(UnsupportedCodecError) as err:
        load_audio(audio_dir / "tone.m4a", backend="soundfile")
    msg = str(err.value)
    assert "tone.m4a" in msg and "soundfile" in msg
    assert any(b in msg for b in ("torchcodec", "pyav", "ffmpeg"))


def test_no_ffmpeg_anywhere_gives_a_clear_unsupported_codec_error(audio_dir, monkeypatch):
    if not (audio_dir / "tone.m4a").exists():
        pytest.skip("tone.m4a needs the ffmpeg binary to make")

    def unavailable(path):
        raise audio_mod._Unavailable("simulated: FFmpeg missing")

    for b in ("torchcodec", "pyav", "ffmpeg"):
        monkeypatch.setitem(audio_mod._DECODERS, b, unavailable)
    monkeypatch.setattr(
        audio_mod,
        "backend_status",
        lambda: {
            "soundfile": (True, "x"),
            "torchcodec": (False, "no FFmpeg libs"),
            "pyav": (False, "not installed"),
            "ffmpeg": (False, "not on PATH"),
        },
    )
    with pytest.raises(UnsupportedCodecError) as err:
        load_audio(audio_dir / "tone.m4a")
    msg = str(err.value)
    assert "tone.m4a" in msg and "FFmpeg" in msg and "install" in msg.lower()


def test_decoder_comparison_finds_a_known_offset_and_level():
    sr = 16_000
    x = np.random.default_rng(0).standard_normal(sr * 2).astype(np.float32) * 0.1
    ref = wb.Clip.from_array(x, sr)
    delayed = wb.Clip.from_array(np.concatenate([np.zeros(529, np.float32), 0.5 * x]), sr)
    cmp = audio_mod._compare("x", "a", ref, "b", delayed, max_seconds=2.0)
    assert cmp.offset_samples == 529
    assert cmp.offset_ms == pytest.approx(529 / 16)
    assert cmp.level_difference_db == pytest.approx(-6.02, abs=0.01)
    assert cmp.residual_db < -6.0 + 0.1


def test_mp3_decoders_compared_on_a_real_mp3(audio_dir):
    available = [b for b in BACKENDS if STATUS[b][0]]
    if len(available) < 2:
        pytest.skip("needs two decoders")
    path = audio_dir / ("tone_lame.mp3" if (audio_dir / "tone_lame.mp3").exists() else "tone.mp3")
    rows = wb.compare_decoders(path)
    assert [r.other for r in rows] == available[1:]
    for r in rows:
        assert abs(r.offset_samples) < 0.2 * RATE
        assert abs(r.level_difference_db) < 1.0


# --------------------------------------------------------------------------
# Channels
# --------------------------------------------------------------------------


def test_channel_modes(audio_dir):
    path = audio_dir / "tone_float.wav"
    ref = stereo_tone().T
    mean = load_audio(path)
    assert mean.samples.shape == (1, ref.shape[1])
    np.testing.assert_allclose(mean.samples[0], ref.mean(axis=0), atol=1e-6)
    assert mean.info.channel_mode == "mean of 2"
    first = load_audio(path, channel="first")
    np.testing.assert_allclose(first.samples[0], ref[0], atol=1e-7)
    second = load_audio(path, channel=1)
    np.testing.assert_allclose(second.samples[0], ref[1], atol=1e-7)
    assert second.info.channel_mode == "channel 1 of 2"
    with pytest.raises(AudioLoadError, match="channel=5") as err:
        load_audio(path, channel=5)
    assert str(path) in str(err.value) and "has 2 channels" in str(err.value) and "0..1" in str(err.value)
    assert err.value.path == str(path)


@pytest.mark.parametrize("channel", [1, 5, -2])
def test_a_channel_a_mono_file_lacks_is_an_error_not_the_mono_channel(tmp_path, channel):
    path = tmp_path / "mono.wav"
    sf.write(path, tone(300, sr=RATE, duration=0.2), RATE)
    with pytest.raises(AudioLoadError) as err:
        load_audio(path, channel=channel)
    message = str(err.value)
    assert str(path) in message
    assert "1 channel (mono)" in message and f"channel={channel} does not exist" in message
    assert "channel=0" in message and "'mean'" in message  # what to pass instead
    assert err.value.path == str(path) and err.value.attempts.get("soundfile") == "ok"
    for ok in (0, -1, "first", "mean", "all"):
        assert load_audio(path, channel=ok).samples.shape == (1, int(0.2 * RATE))


def test_phase_inverted_stereo_warns(tmp_path):
    x = tone(300, sr=RATE, duration=0.5)
    path = tmp_path / "inverted.wav"
    sf.write(path, np.stack([x, -x], axis=1), RATE, subtype="FLOAT")
    with pytest.warns(AudioWarning, match="cancel"):
        clip = load_audio(path)
    assert any("cancel" in w for w in clip.info.warnings)


def test_one_silent_channel_warns(tmp_path):
    x = tone(300, sr=RATE, duration=0.5)
    path = tmp_path / "one_side.wav"
    sf.write(path, np.stack([x, np.zeros_like(x)], axis=1), RATE)
    with pytest.warns(AudioWarning, match="channel 1 of 2 is silent"):
        load_audio(path)


def test_non_ascii_paths(tmp_path):
    folder = tmp_path / "粤语测试"
    folder.mkdir()
    path = folder / "广东话.wav"
    sf.write(path, tone(440, sr=16_000, duration=0.5), 16_000)
    for backend in BACKENDS:
        if STATUS[backend][0]:
            clip = load_audio(path, backend=backend)
            assert clip.info.path == str(path)
            assert clip.num_frames == 8000


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(AudioFileNotFoundError, match="nope.wav: no such file"):
        load_audio(tmp_path / "nope.wav")
    with pytest.raises(FileNotFoundError):  # also catchable as the builtin
        load_audio(tmp_path / "nope.wav")


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(AudioFileNotFoundError, match="is a folder"):
        load_audio(tmp_path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(EmptyAudioError, match=r"empty.wav: the file is empty \(0 bytes\)"):
        load_audio(path)


def test_zero_length_audio(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros((0, 1), np.float32), 16_000)
    with pytest.raises(EmptyAudioError, match="zero.wav.*no audio frames"):
        load_audio(path)


def test_text_file_is_not_audio(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("these are my notes, not audio\n")
    with pytest.raises(NotAudioError, match=r"notes.wav: not an audio file.*contains text"):
        load_audio(path)


def test_html_page_saved_as_mp3(tmp_path):
    path = tmp_path / "download.mp3"
    path.write_text("<!DOCTYPE html><html><body>403 Forbidden</body></html>")
    with pytest.raises(NotAudioError, match="HTML page"):
        load_audio(path)


def test_random_bytes_are_not_audio(tmp_path):
    path = tmp_path / "noise.bin"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(NotAudioError, match="noise.bin"):
        load_audio(path)


def test_truncated_wav(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(path, tone(440, sr=16_000, duration=2.0), 16_000)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CorruptAudioError, match=r"cut.wav: truncated: its header declares 32000 frames"):
        load_audio(path)
    with pytest.warns(AudioWarning, match="truncated"):
        clip = load_audio(path, allow_truncated=True)
    assert 15_000 < clip.num_frames < 16_100


def test_corrupt_flac(tmp_path):
    path = tmp_path / "broken.flac"
    sf.write(path, np.random.default_rng(1).standard_normal(48_000).astype(np.float32) * 0.1, 16_000)
    raw = bytearray(path.read_bytes())
    cut = len(raw) // 2
    path.write_bytes(bytes(raw[:cut]))  # a FLAC cut in half: STREAMINFO still promises 48000 frames
    with pytest.raises(CorruptAudioError, match="broken.flac"):
        load_audio(path)


def test_silent_audio_warns_but_loads(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(16_000, np.float32), 16_000)
    with pytest.warns(AudioWarning, match="silent"):
        clip = load_audio(path)
    assert clip.num_frames == 16_000


@pytest.mark.parametrize("rate", [1, 10_000_000])
def test_absurd_sample_rates(tmp_path, rate):
    path = tmp_path / f"rate_{rate}.wav"
    sf.write(path, tone(0.1, sr=1000, duration=1.0), rate)
    with pytest.raises(SampleRateError, match=rf"rate_{rate}.wav: declares a sample rate of .* assume_sample_rate"):
        load_audio(path)


def test_assume_sample_rate_relabels_and_records(tmp_path):
    path = tmp_path / "wrong_header.wav"
    sf.write(path, tone(440, sr=16_000, duration=1.0), 1)
    clip = load_audio(path, assume_sample_rate=16_000)
    assert clip.sample_rate == 16_000
    assert clip.info.original_sample_rate == 1
    assert clip.info.history[0]["step"] == "relabel"


def test_cli_prints_one_message_not_a_traceback(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("not audio")
    proc = subprocess.run([sys.executable, "-m", "workbench", "info", str(path)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "notes.wav" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_info_json(audio_dir):
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "info", str(audio_dir / "tone.flac"), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    info = json.loads(proc.stdout)
    assert info["original_sample_rate"] == RATE
    assert info["original_channels"] == 2
    assert info["decoder"] == "soundfile"


# --------------------------------------------------------------------------
# Real recordings (outside the project; skipped when absent)
# --------------------------------------------------------------------------


def test_real_recordings_load_as_described(shared_audio, shared_manifest):
    for row in shared_manifest:
        clip = load_audio(shared_audio / row["path"], channel="all")
        assert clip.sample_rate == int(row["sample_rate"])
        assert clip.num_channels == int(row["channels"])
        assert clip.duration > 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("error", AudioWarning)
            load_audio(shared_audio / row["path"])  # real speech: no silence or cancellation warnings


def test_real_stereo_decodes_identically_everywhere(shared_audio):
    available = [b for b in BACKENDS if STATUS[b][0]]
    if len(available) < 2:
        pytest.skip("needs two decoders")
    for r in wb.compare_decoders(shared_audio / "en_jfk_44k_stereo.flac"):
        assert r.offset_samples == 0
        assert abs(r.level_difference_db) < 1e-3


def test_long_files_decode_in_parallel_identically_and_survive_truncation(tmp_path):
    sr = 16_000
    seconds = 2 * audio_mod.PARALLEL_DECODE_SECONDS + 5
    x = np.random.default_rng(3).uniform(-0.5, 0.5, (int(seconds * sr), 2)).astype(np.float32)
    path = tmp_path / "long.flac"
    sf.write(path, x, sr, subtype="PCM_24")
    assert audio_mod._decode_threads(len(x), sr) >= min(2, __import__("os").cpu_count() or 1)
    sequential, _ = sf.read(path, dtype="float32")
    clip = load_audio(path, channel="all")
    np.testing.assert_array_equal(clip.samples, sequential.T)
    raw = path.read_bytes()
    cut = tmp_path / "long_cut.flac"
    cut.write_bytes(raw[: len(raw) * 3 // 4])
    with pytest.raises(CorruptAudioError, match="long_cut.flac"):
        load_audio(cut)
    with pytest.warns(AudioWarning, match="truncated"):
        partial = load_audio(cut, channel="all", allow_truncated=True)
    n = partial.num_frames
    assert 0.6 * len(x) < n < 0.8 * len(x)
    np.testing.assert_array_equal(partial.samples[:, : n - 4096], sequential.T[:, : n - 4096])


def test_mp3_without_gapless_info_shows_the_encoder_priming_offset(audio_dir, tmp_path):
    """Without a LAME/Xing header no decoder can trim the encoder delay: every one lags the original."""
    from .conftest import ffmpeg_encode

    mp3 = ffmpeg_encode(audio_dir / "tone_pcm_16.wav", tmp_path / "no_xing.mp3", "-c:a", "libmp3lame", "-b:a", "192k", "-write_xing", "0")
    rows = wb.compare_decoders(mp3, reference=audio_dir / "tone_pcm_16.wav")
    assert rows and all(r.reference == "file tone_pcm_16.wav" for r in rows)
    for r in rows:
        assert 1000 <= r.offset_samples <= 1200, r  # LAME's 576-sample delay plus the decoder's 529
        assert abs(r.level_difference_db) < 0.5
        assert r.other_frames > r.reference_frames


@pytest.mark.parametrize("subtype, fmt", [("FLOAT", "WAV"), ("PCM_16", "WAV"), ("PCM_24", "FLAC")])
def test_write_wav_writes_block_by_block_what_a_one_piece_write_would(tmp_path, monkeypatch, subtype, fmt):
    from workbench import io

    monkeypatch.setattr(io, "WRITE_BLOCK_FRAMES", 1000)  # 2500 frames: two whole blocks and a part
    samples = np.stack([np.linspace(-1.5, 1.5, 2500), np.linspace(0.5, -0.5, 2500)]).astype(np.float32)
    path = io.write_wav(tmp_path / f"out.{fmt.lower()}", wb.Clip.from_array(samples, 8_000), subtype=subtype, format=fmt)
    back, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == 8_000 and back.shape == (2500, 2) and sf.info(str(path)).format == fmt
    expected = samples.T if subtype == "FLOAT" else np.clip(samples.T, -1.0, 1.0)  # kept exactly as floats, clipped as integers
    assert np.allclose(back, expected, atol=2.0**-14)
