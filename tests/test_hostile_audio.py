"""The catalogue of hostile audio inputs: every one gets the workbench's own message, exit code 2 where it is refused, and changes nothing.

Each case feeds a bad file or argument to the library (``load_audio``,
``probe_audio``) and to the command line (``info``, ``resample``,
``compare-decoders``), and checks the message, the exit code and that no
file in the test's folder changed. The files are made here, in ``tmp_path``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
import soundfile as sf

from workbench.audio import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, backend_status, check_sample_rate, load_audio, probe_audio
from workbench.audiocheck import check_clipping
from workbench.cli import main
from workbench.errors import (
    AudioCheckError,
    AudioFileNotFoundError,
    AudioLoadError,
    AudioWarning,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
    ResampleError,
    SampleRateError,
    UnsupportedCodecError,
)
from workbench.signals import speech_like, tone

from .conftest import ROOT

STATUS = backend_status()
FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="the ffmpeg command makes the MP3 and M4A files")
as_root = hasattr(os, "geteuid") and os.geteuid() == 0


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def snapshot(folder) -> dict[str, str]:
    """Every file under ``folder`` (links not followed) and a hash of its bytes."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.path.isfile(path):
                out[os.path.relpath(path, folder)] = "special"
            else:
                with open(path, "rb") as f:
                    out[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


def cli(capsys, *args) -> tuple[int, str, str]:
    """Run ``python -m workbench ARGS`` in this process: exit code, stdout, stderr."""
    with warnings.catch_warnings():
        code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, folder, *args) -> str:
    """Run a command that must be refused: exit 2, one 'error:' line, no traceback, nothing in ``folder`` changed."""
    before = snapshot(folder)
    code, out, err = cli(capsys, *args)
    assert code == 2, (code, out, err)
    lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert snapshot(folder) == before
    return lines[0]


def wav(path, samples, rate=16_000, subtype="PCM_16"):
    sf.write(path, samples, rate, subtype=subtype)
    return path


def ffmpeg(src, dst, *args):
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", "-i", str(src), *args, str(dst)], check=True)
    return dst


def cut(path, dst, fraction):
    raw = path.read_bytes()
    dst.write_bytes(raw[: int(len(raw) * fraction)])
    return dst


@pytest.fixture
def tone_wav(tmp_path):
    return wav(tmp_path / "tone.wav", tone(440, sr=16_000, duration=1.0))


@pytest.fixture
def nan_wav(tmp_path):
    x = tone(440, sr=16_000, duration=2.0)
    x[8000:8100] = np.nan
    return wav(tmp_path / "nan.wav", x, subtype="FLOAT")


# --------------------------------------------------------------------------
# Paths that are not audio files
# --------------------------------------------------------------------------


def test_missing_file(tmp_path, capsys):
    with pytest.raises(AudioFileNotFoundError, match="nope.wav: no such file"):
        load_audio(tmp_path / "nope.wav")
    assert "nope.wav: no such file" in refused(capsys, tmp_path, "info", tmp_path / "nope.wav")


def test_a_folder(tmp_path, capsys):
    (tmp_path / "clips").mkdir()
    with pytest.raises(AudioFileNotFoundError, match="is a folder"):
        load_audio(tmp_path / "clips")
    assert "is a folder" in refused(capsys, tmp_path, "info", tmp_path / "clips")


def test_a_path_through_a_file(tmp_path, tone_wav, capsys):
    with pytest.raises(AudioFileNotFoundError, match="a part of the path is a file"):
        load_audio(tone_wav / "x.wav")
    assert "a part of the path is a file" in refused(capsys, tmp_path, "info", tone_wav / "x.wav")


def test_a_symlink_loop_is_named_as_such(tmp_path, capsys):
    loop = tmp_path / "loop.wav"
    os.symlink(loop.name, loop)
    with pytest.raises(AudioLoadError, match="loop.wav: is a symbolic link that loops"):
        load_audio(loop)
    with pytest.raises(AudioLoadError, match="symbolic link that loops"):
        probe_audio(loop)
    assert "symbolic link that loops" in refused(capsys, tmp_path, "info", loop)


def test_a_link_to_nothing_names_its_target(tmp_path, capsys):
    link = tmp_path / "link.wav"
    os.symlink("gone.wav", link)
    with pytest.raises(AudioFileNotFoundError, match="link.wav: is a symbolic link to gone.wav, which does not exist"):
        load_audio(link)
    assert "which does not exist" in refused(capsys, tmp_path, "info", link)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.timeout(120)
def test_a_fifo_is_named_and_never_opened(tmp_path, capsys):
    fifo = tmp_path / "stream.wav"
    os.mkfifo(fifo)
    with pytest.raises(AudioLoadError, match=r"stream.wav: is a named pipe \(FIFO\), not a regular file"):
        load_audio(fifo)  # opening it would wait for a writer forever
    assert "named pipe (FIFO)" in refused(capsys, tmp_path, "info", fifo)
    # and from a fresh process, with a deadline: the command returns at once
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "resample", str(fifo), str(tmp_path / "out.wav")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 2 and "named pipe (FIFO)" in proc.stderr
    assert not (tmp_path / "out.wav").exists()


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null here")
def test_a_device_is_named(capsys, tmp_path):
    with pytest.raises(AudioLoadError, match="/dev/null: is a character device"):
        load_audio("/dev/null")
    assert "character device" in refused(capsys, tmp_path, "info", "/dev/null")


@pytest.mark.skipif(as_root, reason="permissions do not stop root")
def test_an_unreadable_file(tmp_path, tone_wav, capsys):
    tone_wav.chmod(0)
    try:
        with pytest.raises(AudioLoadError, match="tone.wav: cannot be read"):
            load_audio(tone_wav)
        assert "cannot be read" in refused(capsys, tmp_path, "info", tone_wav)
    finally:
        tone_wav.chmod(0o644)


# --------------------------------------------------------------------------
# Files that are empty, text, cut short or oddly sized
# --------------------------------------------------------------------------


def test_empty_file(tmp_path, capsys):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(EmptyAudioError, match=r"empty.wav: the file is empty \(0 bytes\)"):
        load_audio(path)
    assert "empty (0 bytes)" in refused(capsys, tmp_path, "info", path)


def test_text_file(tmp_path, capsys):
    path = tmp_path / "notes.wav"
    path.write_text("these are my notes, not audio\n")
    with pytest.raises(NotAudioError, match="notes.wav: not an audio file.*contains text"):
        load_audio(path)
    assert "contains text" in refused(capsys, tmp_path, "info", path)


def test_truncated_wav(tmp_path, capsys):
    path = cut(wav(tmp_path / "full.wav", tone(440, sr=16_000, duration=2.0)), tmp_path / "cut.wav", 0.5)
    with pytest.raises(CorruptAudioError, match="cut.wav: truncated: its header declares 32000 frames"):
        load_audio(path)
    with pytest.raises(CorruptAudioError, match="truncated"):
        load_audio(path, target_rate=8_000, stream=True)  # streamed, the same check
    assert "truncated" in refused(capsys, tmp_path, "info", path)
    assert "truncated" in refused(capsys, tmp_path, "resample", path, tmp_path / "out.wav")


def test_truncated_flac_streamed(tmp_path):
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (48_000 * 4, 2)).astype(np.float32)
    sf.write(tmp_path / "full.flac", x, 48_000, subtype="PCM_24")
    path = cut(tmp_path / "full.flac", tmp_path / "cut.flac", 0.6)
    with pytest.raises(CorruptAudioError, match="cut.flac"):
        load_audio(path, target_rate=16_000, stream=True)
    with pytest.warns(AudioWarning, match="truncated"):
        clip = load_audio(path, target_rate=16_000, stream=True, allow_truncated=True)
    assert 0.4 * 64_000 < clip.num_frames < 0.7 * 64_000


@pytest.mark.parametrize("rate", [1, 10_000_000])
def test_absurd_sample_rate(tmp_path, rate, capsys):
    path = wav(tmp_path / f"rate_{rate}.wav", tone(0.1, sr=1000, duration=1.0), rate)
    with pytest.raises(SampleRateError, match=rf"rate_{rate}.wav: declares a sample rate of .* assume_sample_rate"):
        load_audio(path)
    assert "declares a sample rate" in refused(capsys, tmp_path, "info", path)
    code, out, _ = cli(capsys, "info", path, "--assume-rate", "16000", "--json")
    assert code == 0 and json.loads(out)["history"][0]["step"] == "relabel"


def _wav_with_odd_tail(path):
    wav(path, tone(440, sr=16_000, duration=0.5))
    raw = bytearray(path.read_bytes())
    raw += b"\x00"  # one byte more than whole frames: a half sample at the end
    raw[4:8] = (len(raw) - 8).to_bytes(4, "little")
    raw[40:44] = (int.from_bytes(raw[40:44], "little") + 1).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize(
    ("name", "content", "error", "message"),
    [
        ("one_byte.wav", b"R", NotAudioError, "not an audio file"),
        ("riff_only.wav", b"RIFF", CorruptAudioError, "first bytes say WAV.*damaged or was cut short"),
        ("sync_only.mp3", b"\xff\xfb\x90", CorruptAudioError, "first bytes say MPEG audio.*damaged or was cut short"),
        ("header_only.wav", None, EmptyAudioError, "contains no audio frames"),
    ],
)
def test_oddly_sized_files(tmp_path, capsys, name, content, error, message):
    path = tmp_path / name
    if content is None:
        sf.write(path, np.zeros((0, 1), np.float32), 16_000)
    else:
        path.write_bytes(content)
    with pytest.raises(error, match=message):
        load_audio(path)
    assert name in refused(capsys, tmp_path, "info", path)


def test_a_half_sample_at_the_end_is_dropped_quietly(tmp_path):
    path = _wav_with_odd_tail(tmp_path / "odd.wav")
    with warnings.catch_warnings():
        warnings.simplefilter("error", AudioWarning)
        clip = load_audio(path)
    assert clip.num_frames == 8_000


@needs_ffmpeg
def test_truncated_mp3_warns_with_both_durations(tmp_path, capsys):
    full = ffmpeg(wav(tmp_path / "src.wav", tone(440, sr=16_000, duration=5.0)), tmp_path / "full.mp3", "-c:a", "libmp3lame", "-b:a", "64k")
    path = cut(full, tmp_path / "cut.mp3", 1 / 6)
    with pytest.warns(AudioWarning, match=r"cut.mp3: truncated: decoded 0\.\d+ s of the 5\.\d\d s its header declares"):
        clip = load_audio(path)
    assert clip.duration < 1.5 and any("truncated" in w for w in clip.info.warnings)
    with pytest.warns(AudioWarning, match="truncated"):
        load_audio(path, target_rate=8_000, stream=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AudioWarning)
        load_audio(full)  # the whole file: no warning
    before = snapshot(tmp_path)
    code, _, err = cli(capsys, "info", path)
    assert code == 0 and "warning: " in err and "truncated" in err
    assert snapshot(tmp_path) == before


@needs_ffmpeg
def test_truncated_m4a_is_damaged_not_unsupported(tmp_path, capsys):
    if not any(STATUS[b][0] for b in ("torchcodec", "pyav", "ffmpeg")):
        pytest.skip("no FFmpeg-based decoder here")
    full = ffmpeg(wav(tmp_path / "src.wav", tone(440, sr=16_000, duration=5.0)), tmp_path / "full.m4a", "-c:a", "aac", "-b:a", "64k")
    path = cut(full, tmp_path / "cut.m4a", 1 / 6)  # the index ('moov' box) is at the end: gone
    with pytest.raises(CorruptAudioError) as err:
        load_audio(path)
    message = str(err.value)
    assert "cut.m4a: its first bytes say MP4/M4A" in message and "cut short" in message and "moov" in message
    assert "no decoder available" not in message
    assert not isinstance(err.value, UnsupportedCodecError)
    assert "first bytes say MP4/M4A" in refused(capsys, tmp_path, "info", path)


@needs_ffmpeg
def test_truncated_streamable_m4a_loads_what_is_there_with_a_warning(tmp_path):
    src = wav(tmp_path / "src.wav", tone(440, sr=16_000, duration=5.0))
    full = ffmpeg(src, tmp_path / "full.m4a", "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart")
    path = cut(full, tmp_path / "cut.m4a", 1 / 6)
    try:
        with pytest.warns(AudioWarning, match="truncated: decoded"):
            clip = load_audio(path)
    except CorruptAudioError as exc:  # no decoder here reads past the damage: refused, with the reason
        assert "damaged or truncated" in str(exc)
    else:
        assert clip.duration < 2.0


# --------------------------------------------------------------------------
# Samples that are not numbers, and levels beyond full scale
# --------------------------------------------------------------------------


def test_nan_samples_are_refused_with_count_and_time(nan_wav, tmp_path, capsys):
    for load in (load_audio, probe_audio):
        with pytest.raises(CorruptAudioError) as err:
            load(nan_wav)
        message = str(err.value)
        assert "nan.wav: 100 samples of 32000 are not numbers (NaN or infinite), the first at 0.500 s" in message
        assert "non_finite='zero'" in message and "--non-finite zero" in message
    with pytest.raises(CorruptAudioError, match="100 samples"):
        load_audio(nan_wav, target_rate=8_000, stream=True)
    assert "100 samples" in refused(capsys, tmp_path, "info", nan_wav)
    assert "100 samples" in refused(capsys, tmp_path, "resample", nan_wav, tmp_path / "out.wav")  # no -32768 clicks written


@pytest.mark.parametrize("stream", [False, True])
def test_nan_samples_can_be_replaced_with_silence_and_it_is_recorded(nan_wav, stream):
    with pytest.warns(AudioWarning, match=r"nan.wav: 100 samples were not numbers .* replaced with 0"):
        clip = load_audio(nan_wav, non_finite="zero", target_rate=16_000, stream=stream)
    assert np.isfinite(clip.samples).all()
    assert np.all(clip.samples[0, 8000:8100] == 0.0)
    assert clip.info.non_finite_samples == 100
    assert clip.info.history[0] == {"step": "non_finite", "replaced_with": 0.0, "samples": 100, "first_seconds": 0.5}


def test_infinite_samples_too(tmp_path):
    x = tone(440, sr=16_000, duration=1.0)
    x[100], x[200] = np.inf, -np.inf
    path = wav(tmp_path / "inf.wav", x, subtype="FLOAT")
    with pytest.raises(CorruptAudioError, match=r"2 samples of 16000 are not numbers .* first at 0.006 s"):
        load_audio(path)


def test_nan_on_the_command_line_with_non_finite_zero(nan_wav, tmp_path, capsys):
    code, out, err = cli(capsys, "info", nan_wav, "--non-finite", "zero", "--json")
    assert code == 0 and json.loads(out)["non_finite_samples"] == 100
    assert "warning: " in err and "replaced with 0" in err
    out_path = tmp_path / "clean.wav"
    code, _, err = cli(capsys, "resample", nan_wav, out_path, "--non-finite", "zero")
    assert code == 0, err
    y, rate = sf.read(out_path, dtype="float32")
    assert rate == 16_000 and np.max(np.abs(y)) < 0.51  # the tone's own level: no full-scale clicks


def test_levels_far_beyond_full_scale_warn_with_the_peak(tmp_path, capsys):
    path = wav(tmp_path / "loud.wav", 600 * tone(440, sr=16_000, duration=1.0), subtype="FLOAT")
    with pytest.warns(AudioWarning, match=r"loud.wav: levels beyond full scale: peak \+49.5 dBFS"):
        clip = load_audio(path)
    assert clip.info.peak_dbfs == pytest.approx(49.54, abs=0.01)
    with pytest.warns(AudioWarning, match=r"peak \+49.5 dBFS"):
        probe_audio(path, stream=True)
    before = snapshot(tmp_path)
    code, _, err = cli(capsys, "info", path)
    assert code == 0 and "warning: " in err and "+49.5 dBFS" in err
    assert snapshot(tmp_path) == before


def test_full_scale_is_not_beyond_it(tmp_path):
    path = wav(tmp_path / "full.wav", np.clip(2 * tone(440, sr=16_000, duration=1.0), -1, 1), subtype="FLOAT")
    with warnings.catch_warnings():
        warnings.simplefilter("error", AudioWarning)
        load_audio(path)


def test_audio_checks_refuse_nan():
    x = tone(440, sr=16_000, duration=0.5)
    x[10] = np.nan
    with pytest.raises(AudioCheckError, match="1 samples are not numbers.*frame 10"):
        check_clipping(x)


# --------------------------------------------------------------------------
# Rates, channels and backends given on the command line
# --------------------------------------------------------------------------


@pytest.mark.parametrize("rate", ["0", "-5", "100000000"])
def test_bad_assume_rate(tone_wav, tmp_path, capsys, rate):
    message = refused(capsys, tmp_path, "info", tone_wav, "--assume-rate", rate)
    assert "--assume-rate" in message and ("positive integer" in message or "outside 1 kHz–768 kHz" in message)
    with pytest.raises(SampleRateError, match="assume_sample_rate"):
        load_audio(tone_wav, assume_sample_rate=int(rate))


@pytest.mark.parametrize("rate", ["0", str(MIN_SAMPLE_RATE - 1), str(MAX_SAMPLE_RATE + 1), "100000000"])
def test_bad_output_rate_writes_nothing(tone_wav, tmp_path, capsys, rate):
    message = refused(capsys, tmp_path, "resample", tone_wav, tmp_path / "out.wav", "--rate", rate)
    assert "--rate" in message
    with pytest.raises(ResampleError):
        load_audio(tone_wav, target_rate=int(rate))


def test_the_rates_the_workbench_writes_it_also_reads(tone_wav, tmp_path, capsys):
    for rate in (MIN_SAMPLE_RATE, MAX_SAMPLE_RATE):
        out = tmp_path / f"at_{rate}.wav"
        code, _, err = cli(capsys, "resample", tone_wav, out, "--rate", rate)
        assert code == 0, err
        assert load_audio(out).sample_rate == rate
    assert check_sample_rate(MAX_SAMPLE_RATE) == MAX_SAMPLE_RATE
    with pytest.raises(SampleRateError, match="outside 1 kHz–768 kHz"):
        check_sample_rate(MAX_SAMPLE_RATE + 1)


@pytest.mark.parametrize("channel", ["99", "-7", "foo", ""])
def test_bad_channel(tmp_path, capsys, channel):
    path = wav(tmp_path / "stereo.wav", np.stack([tone(440, sr=16_000), tone(660, sr=16_000)], axis=1))
    message = refused(capsys, tmp_path, "info", path, "--channel", channel)
    assert "mean" in message and "first" in message and "all" in message
    if channel in ("99", "-7"):
        assert f"channel={channel} does not exist" in message and "0..1" in message
    assert refused(capsys, tmp_path, "resample", path, tmp_path / "out.wav", "--channel", channel) == message


@pytest.mark.parametrize("channel", ["foo", True, 1.5, None])
def test_bad_channel_in_the_library(tone_wav, channel):
    with pytest.raises(AudioLoadError, match="is not a channel choice; pass 'mean'"):
        load_audio(tone_wav, channel=channel)


@pytest.mark.parametrize("backends", ["bogus", "soundfile,,pyav", "soundfile,nope"])
def test_bad_backends(tone_wav, tmp_path, capsys, backends):
    message = refused(capsys, tmp_path, "compare-decoders", tone_wav, "--backends", backends)
    assert "--backends" in message and "soundfile, torchcodec, pyav, ffmpeg" in message
    with pytest.raises(AudioLoadError, match="choose from: soundfile"):
        load_audio(tone_wav, backends=backends.split(","))


def test_one_backend_is_not_a_comparison(tone_wav, tmp_path, capsys):
    assert "needs two backends" in refused(capsys, tmp_path, "compare-decoders", tone_wav, "--backends", "soundfile")


def test_bad_backend_and_non_finite_in_the_library(tone_wav):
    with pytest.raises(AudioLoadError, match="unknown audio backend 'bogus'; choose one of: auto, soundfile"):
        load_audio(tone_wav, backend="bogus")
    with pytest.raises(AudioLoadError, match="non_finite='skip'"):
        load_audio(tone_wav, non_finite="skip")
    with pytest.raises(ResampleError, match="only with target_rate"):
        load_audio(tone_wav, resampler="soxr_hq")
    with pytest.raises(ResampleError, match="unknown resampler 'sox'"):
        load_audio(tone_wav, target_rate=16_000, resampler="sox")


# --------------------------------------------------------------------------
# Outputs of 'resample'
# --------------------------------------------------------------------------


def test_resample_refuses_to_overwrite_its_input(tone_wav, tmp_path, capsys):
    message = refused(capsys, tmp_path, "resample", tone_wav, tone_wav, "--rate", "8000")
    assert "OUT" in message and "is also an input" in message
    message = refused(capsys, tmp_path, "resample", tone_wav, tmp_path / "sub" / ".." / "tone.wav", "--force")
    assert "is also an input" in message  # however spelled, and whatever --force says


def test_resample_refuses_to_overwrite_another_kind_of_file_without_force(tone_wav, tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    message = refused(capsys, tmp_path, "resample", tone_wav, notes)
    assert "notes.txt: resample writes WAV or FLAC files, and a .txt name would say otherwise" in message and "--force" in message
    code, _, err = cli(capsys, "resample", tone_wav, notes, "--force")
    assert code == 0, err
    assert load_audio(notes).sample_rate == 16_000


def test_resample_writes_what_its_name_says(tone_wav, tmp_path, capsys):
    message = refused(capsys, tmp_path, "resample", tone_wav, tmp_path / "out.mp3")  # not WAV data under an MP3 name
    assert "a .mp3 name would say otherwise; name the output .wav or .flac" in message
    assert "without a suffix" in refused(capsys, tmp_path, "resample", tone_wav, tmp_path / "out")
    code, _, err = cli(capsys, "resample", tone_wav, tmp_path / "out.flac")
    assert code == 0, err
    assert sf.info(str(tmp_path / "out.flac")).format == "FLAC" and load_audio(tmp_path / "out.flac").sample_rate == 16_000


def test_resample_replaces_its_own_kind_of_file(tone_wav, tmp_path, capsys):
    out = wav(tmp_path / "out.wav", tone(300, sr=8_000, duration=0.1), 8_000)
    code, _, err = cli(capsys, "resample", tone_wav, out, "--rate", "22050")
    assert code == 0, err
    assert load_audio(out).sample_rate == 22_050


def test_resample_into_a_folder_or_under_a_file(tone_wav, tmp_path, capsys):
    (tmp_path / "folder").mkdir()
    assert "is a folder; give a file name inside it" in refused(capsys, tmp_path, "resample", tone_wav, tmp_path / "folder")
    message = refused(capsys, tmp_path, "resample", tone_wav, tmp_path / "tone.wav" / "deeper" / "out.wav")
    assert "tone.wav is a file, not a folder" in message


@pytest.mark.skipif(as_root, reason="permissions do not stop root")
def test_resample_into_a_read_only_folder(tone_wav, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert "cannot write in" in refused(capsys, tmp_path, "resample", tone_wav, ro / "out.wav")
    finally:
        ro.chmod(0o755)


def test_resample_with_an_unknown_method_decodes_nothing_and_writes_nothing(tone_wav, tmp_path, capsys):
    assert "unknown resampler 'nope'" in refused(capsys, tmp_path, "resample", tone_wav, tmp_path / "new" / "out.wav", "--method", "nope")


# --------------------------------------------------------------------------
# Long files: read in blocks, identical results, bounded memory
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stereo_flac(tmp_path_factory):
    x = speech_like(sr=48_000, duration=20.0)
    path = tmp_path_factory.mktemp("long") / "speech.flac"
    sf.write(path, np.stack([x, np.roll(x, 480)], axis=1), 48_000, subtype="PCM_24")
    return path


@pytest.mark.parametrize("channel", ["mean", "first", 1, "all"])
@pytest.mark.parametrize("method", ["soxr_hq", "soxr_vhq"])
def test_streamed_resampling_is_identical_to_whole_file_resampling(stereo_flac, channel, method):
    whole = load_audio(stereo_flac, channel=channel).resample(16_000, method)
    streamed = load_audio(stereo_flac, channel=channel, target_rate=16_000, resampler=method, stream=True)
    np.testing.assert_array_equal(streamed.samples, whole.samples)
    assert streamed.samples.flags.c_contiguous and streamed.sample_rate == 16_000
    assert streamed.info.history == whole.info.history
    assert streamed.info.channel_mode == whole.info.channel_mode and streamed.info.frames == whole.info.frames
    np.testing.assert_allclose(streamed.info.channel_levels_dbfs, whole.info.channel_levels_dbfs, atol=1e-4)


@pytest.mark.parametrize("backend", ["pyav", "ffmpeg"])
def test_other_decoders_stream_identically(tmp_path, backend):
    if not STATUS[backend][0] or FFMPEG is None:
        pytest.skip(f"{backend} or the ffmpeg command is not available here")
    src = wav(tmp_path / "src.wav", np.stack([tone(440, sr=44_100, duration=3.0), tone(660, sr=44_100, duration=3.0)], axis=1), 44_100)
    path = ffmpeg(src, tmp_path / "speech.m4a", "-c:a", "aac", "-b:a", "96k")
    whole = load_audio(path, backend=backend, channel="all").resample(16_000)
    streamed = load_audio(path, backend=backend, channel="all", target_rate=16_000, stream=True)
    np.testing.assert_array_equal(streamed.samples, whole.samples)
    assert streamed.info.decoder == backend


def test_auto_streaming_skips_torchcodec_and_says_so(tmp_path):
    if FFMPEG is None or not STATUS["pyav"][0]:
        pytest.skip("needs the ffmpeg command and PyAV")
    path = ffmpeg(wav(tmp_path / "src.wav", tone(440, sr=16_000, duration=1.0)), tmp_path / "a.m4a", "-c:a", "aac")
    clip = load_audio(path, target_rate=16_000, stream=True)
    assert clip.info.decoder == "pyav"
    assert clip.info.attempts["torchcodec"].startswith("skipped: it decodes whole files only")


def test_resamplers_that_cannot_stream_load_the_whole_file(stereo_flac):
    clip = load_audio(stereo_flac, target_rate=16_000, resampler="mislabelled", stream=True)
    assert clip.sample_rate == 16_000 and clip.num_frames == 20 * 48_000
    assert "relabelled" in clip.info.history[-1]["note"]


def test_probe_reports_what_load_reports(stereo_flac):
    whole = load_audio(stereo_flac).info.to_dict()
    for stream in (True, False, None):
        probed = probe_audio(stereo_flac, stream=stream).to_dict()
        levels = probed.pop("channel_levels_dbfs")
        np.testing.assert_allclose(levels, whole["channel_levels_dbfs"], atol=1e-4)
        assert probed == {k: v for k, v in whole.items() if k != "channel_levels_dbfs"}


def test_streaming_keeps_memory_to_the_result(tmp_path):
    """3 minutes of 48 kHz stereo is 69 MB as float32; streamed to 16 kHz mono, the peak is the 11.5 MB result and a block or two."""
    seconds = 180
    x = (0.1 * np.random.default_rng(0).standard_normal(seconds * 48_000)).astype(np.float32)
    path = wav(tmp_path / "three_minutes.wav", np.stack([x, x], axis=1), 48_000)
    del x
    decoded = seconds * 48_000 * 2 * 4
    result = seconds * 16_000 * 4

    def peak(**kwargs):
        tracemalloc.start()
        try:
            clip = load_audio(path, target_rate=16_000, **kwargs)
            return tracemalloc.get_traced_memory()[1], clip
        finally:
            tracemalloc.stop()

    streamed_peak, streamed = peak(stream=True)
    whole_peak, whole = peak(stream=False)
    np.testing.assert_array_equal(streamed.samples, whole.samples)
    assert whole_peak > decoded
    assert streamed_peak < result + 16 * 2**20, streamed_peak / 2**20


def test_the_long_file_benchmark_measures_in_a_fresh_process(tmp_path):
    from workbench.benchmarks.audio_bench import make_long_flac_in_pieces, measure_long_file

    path = make_long_flac_in_pieces(tmp_path / "long.flac", minutes=0.25, piece_seconds=5.0)
    assert sf.info(path).frames == 15 * 48_000
    load = measure_long_file(path, "load", stream=True)
    assert load["frames"] == 15 * 16_000 and load["rate"] == 16_000 and load["channels"] == 1
    assert load["seconds"] > 0 and load["peak_rss_bytes"] >= load["baseline_rss_bytes"] > 0
    info = measure_long_file(path, "info", stream=True)
    assert info["frames"] == 15 * 48_000 and info["channels"] == 2
