"""Spectrograms (workbench.spectra) and the plotly figures built from them (workbench.figures)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
from scipy.signal import chirp, resample_poly

from workbench.audio import AudioInfo, Clip
from workbench.figures import (
    before_after_figure,
    difference_figure,
    log_mel_figure,
    spectrogram_figure,
    sweep_figure,
    to_html,
    waveform_figure,
)
from workbench.spectra import (
    MAX_BINS,
    MAX_FRAMES,
    MAX_POINTS,
    Spectrogram,
    band_energy_db,
    downsample_for_display,
    log_mel_spectrogram,
    n_mels_for_model,
    spectral_difference,
    stft_spectrogram,
    waveform_envelope,
)

SR_IN = 48_000
SR_OUT = 16_000


def sine(freq, sr, seconds=1.0, amplitude=0.5):
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def log_sweep(sr, seconds, f0, f1, amplitude=0.5):
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * chirp(t, f0, seconds, f1, method="logarithmic")).astype(np.float32)


def sweep_frequency(t, seconds, f0, f1):
    """Instantaneous frequency of :func:`log_sweep` at time ``t``."""
    return f0 * (f1 / f0) ** (t / seconds)


def band_limited_noise(sr, seconds, high, seed=0):
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    spec = np.fft.rfft(rng.standard_normal(n))
    spec[np.fft.rfftfreq(n, 1 / sr) > high] = 0
    x = np.fft.irfft(spec, n)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def row_of(freqs, f):
    return int(np.argmin(np.abs(np.asarray(freqs) - f)))


# --------------------------------------------------------------------------
# STFT
# --------------------------------------------------------------------------


@pytest.mark.parametrize("sr", [SR_OUT, 44_100, SR_IN])
def test_tone_peaks_in_its_row_at_its_level(sr):
    spec = stft_spectrogram(sine(1000, sr, amplitude=0.5), sr)
    middle = spec.values[:, spec.n_frames // 2]
    assert spec.freqs[middle.argmax()] == pytest.approx(1000, abs=spec.freqs[1])
    # dBFS: a sine of amplitude 0.5 reads 20*log10(0.5) = -6 dB at every rate.
    assert middle.max() == pytest.approx(-6.02, abs=0.5)
    assert spec.kind == "stft" and spec.units == "dBFS"
    assert spec.values.dtype == np.float32
    assert spec.freqs[-1] == pytest.approx(sr / 2, abs=spec.freqs[1])


def test_window_fixed_in_seconds_gives_the_same_grid_at_48_and_16_khz():
    before = stft_spectrogram(np.zeros(SR_IN), SR_IN)
    after = stft_spectrogram(np.zeros(SR_OUT), SR_OUT)
    assert before.freqs[1] == after.freqs[1] == 40.0
    np.testing.assert_allclose(before.times, after.times)
    np.testing.assert_allclose(before.freqs[: after.n_bins], after.freqs)


def test_stft_accepts_channels_and_rejects_missing_rate():
    stereo = np.stack([sine(1000, SR_OUT), sine(1000, SR_OUT)])
    spec = stft_spectrogram(stereo, SR_OUT)
    assert spec.values.ndim == 2
    with pytest.raises(ValueError, match="sample rate"):
        stft_spectrogram(stereo, None)
    assert stft_spectrogram(stereo, float(SR_OUT)).values.shape == spec.values.shape  # 16000.0, as metadata often has it
    # the same bounds as every other rate in the workbench
    with pytest.raises(ValueError, match=r"sr: a sample rate of 100 MHz, outside 1 kHz–768 kHz"):
        stft_spectrogram(stereo, 100_000_000)
    with pytest.raises(ValueError, match="sr must be a positive integer number of Hz; got 16000.5"):
        stft_spectrogram(stereo, 16000.5)


def test_naive_decimation_puts_a_10_khz_tone_at_6_khz():
    x = sine(10_000, SR_IN)
    naive = stft_spectrogram(x[::3], SR_OUT)
    filtered = stft_spectrogram(resample_poly(x, 1, 3), SR_OUT)
    profile = np.median(naive.values, axis=1)
    assert naive.freqs[profile.argmax()] == pytest.approx(6000, abs=40)  # 16 kHz - 10 kHz
    assert profile.max() == pytest.approx(-6.0, abs=0.5)  # the alias is as loud as the tone
    six = row_of(filtered.freqs, 6000)
    assert np.median(filtered.values[six]) < -40  # a filtering resampler removes it


def test_band_energy_measures_a_tone_and_its_alias():
    x = sine(10_000, SR_IN, amplitude=0.1)
    level = band_energy_db(stft_spectrogram(x[::3], SR_OUT), 5800, 6200)
    assert np.median(level) == pytest.approx(-20 + 1.76, abs=0.5)
    with pytest.raises(ValueError, match="no frequency bins"):
        band_energy_db(stft_spectrogram(x[::3], SR_OUT), 9000, 9500)


# --------------------------------------------------------------------------
# Whisper log-mel
# --------------------------------------------------------------------------


def openai_whisper_log_mel(audio: np.ndarray, n_mels: int) -> np.ndarray:
    """``whisper.audio.log_mel_spectrogram`` from the openai-whisper package, written out."""
    import librosa
    import torch

    filters = torch.from_numpy(librosa.filters.mel(sr=16_000, n_fft=400, n_mels=n_mels))
    stft = torch.stft(torch.from_numpy(audio), 400, 160, window=torch.hann_window(400), return_complex=True)
    magnitudes = stft[..., :-1].abs() ** 2
    log_spec = torch.clamp(filters @ magnitudes, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).numpy()


def speech_like(seconds=3.0, sr=SR_OUT, seed=1):
    """Harmonics plus noise with a fade-out, so the loudest frame is not at the end."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    x = sum(np.sin(2 * np.pi * 180 * k * t) / k for k in range(1, 12)) * 0.1 + 0.01 * rng.standard_normal(len(t))
    return (x * np.linspace(1, 0.2, len(t))).astype(np.float32)


@pytest.mark.parametrize("n_mels", [80, 128])
def test_log_mel_is_what_whisper_computes(n_mels):
    from transformers import WhisperFeatureExtractor

    x = speech_like()
    mel = log_mel_spectrogram(x, 16_000, n_mels=n_mels)
    assert mel.values.shape == (n_mels, len(x) // 160)
    assert mel.kind == "log-mel"

    fe = WhisperFeatureExtractor(feature_size=n_mels)
    unpadded = fe(x, sampling_rate=16_000, padding="longest", truncation=False, return_tensors="np")["input_features"][0]
    np.testing.assert_allclose(mel.values, unpadded, atol=1e-5)

    # What the model gets (padded with silence to 30 s) agrees on every frame whose
    # window lies inside the audio; the last two see zeros instead of the reflected edge.
    padded = fe(x, sampling_rate=16_000, return_tensors="np")["input_features"][0]
    assert padded.shape == (n_mels, 3000)
    np.testing.assert_allclose(mel.values[:, :-2], padded[:, : mel.n_frames - 2], atol=1e-5)

    # And openai-whisper's own formula, independent of transformers.
    np.testing.assert_allclose(mel.values, openai_whisper_log_mel(x, n_mels), atol=1e-4)


def test_log_mel_pad_to_30s_gives_the_model_input():
    mel = log_mel_spectrogram(speech_like(), 16_000, pad_to_30s=True)
    assert mel.values.shape == (80, 3000)


def test_log_mel_centre_frequencies_span_0_to_8_khz():
    mel = log_mel_spectrogram(speech_like(1.0), 16_000, n_mels=80)
    assert np.all(np.diff(mel.freqs) > 0)
    assert 0 < mel.freqs[0] < 100 and 7000 < mel.freqs[-1] < 8000


def test_log_mel_rejects_44_1_khz_and_names_the_rate():
    with pytest.raises(ValueError, match=r"44100 Hz.*[Rr]esample"):
        log_mel_spectrogram(np.zeros(44_100, dtype=np.float32), 44_100)


def test_n_mels_for_model():
    assert n_mels_for_model("openai/whisper-large-v3") == 128
    assert n_mels_for_model("openai/whisper-large-v2") == 80
    assert n_mels_for_model("openai/whisper-base") == 80


# --------------------------------------------------------------------------
# Display-size reduction
# --------------------------------------------------------------------------


def test_downsample_bounds_the_shape_and_keeps_a_one_cell_peak():
    rng = np.random.default_rng(0)
    values = rng.uniform(-100, -50, size=(1025, 5003)).astype(np.float32)
    values[700, 4321] = 0.0  # one bright cell, e.g. a click on an aliased line
    spec = Spectrogram(values, np.arange(5003) * 0.01, np.arange(1025) * 10.0, 20_480, "stft", "dBFS", 0.01)
    small = downsample_for_display(spec, max_frames=1000, max_bins=300)
    assert small.n_frames <= 1000 and small.n_bins <= 300
    assert small.values.max() == 0.0
    i, j = np.unravel_index(small.values.argmax(), small.values.shape)
    assert abs(small.freqs[i] - 7000) <= 30 and abs(small.times[j] - 43.21) <= 0.05
    assert small.values.min() >= values.min()
    # decimating instead would have lost the cell:
    assert values[::4, ::6].max() < -40


def test_downsample_of_a_difference_keeps_the_sign_of_the_largest_change():
    values = np.zeros((10, 100), dtype=np.float32)
    values[2, 10] = -30.0
    values[7, 50] = 12.0
    spec = Spectrogram(values, np.arange(100) * 0.01, np.arange(10) * 100.0, 16_000, "difference", "dB (after - before)", 0.01)
    small = downsample_for_display(spec, max_frames=10, max_bins=5)
    assert small.values.min() == -30.0 and small.values.max() == 12.0


def test_downsample_leaves_a_small_spectrogram_alone():
    spec = stft_spectrogram(sine(1000, SR_OUT), SR_OUT)
    assert downsample_for_display(spec) is spec


def test_waveform_envelope_keeps_a_single_sample_click():
    x = np.zeros(SR_OUT * 600, dtype=np.float32)
    x[1_234_567] = -0.9
    t, v = waveform_envelope(x, SR_OUT, max_points=4000)
    assert len(t) == len(v) == 4000
    assert v.min() == pytest.approx(-0.9)
    assert t[v.argmin()] == pytest.approx(1_234_567 / SR_OUT, abs=600 / 2000)


# --------------------------------------------------------------------------
# Difference
# --------------------------------------------------------------------------


def test_difference_is_zero_for_an_unchanged_band_limited_signal():
    x = band_limited_noise(SR_IN, 3.0, high=6000)
    diff = spectral_difference(stft_spectrogram(x, SR_IN), stft_spectrogram(resample_poly(x, 1, 3), SR_OUT), floor_db=-100)
    assert diff.kind == "difference"
    assert diff.freqs[-1] == 8000
    band = (diff.freqs > 100) & (diff.freqs < 5500)
    inner = diff.values[band][:, 5:-5]
    assert np.nanmedian(np.abs(inner)) < 0.1
    assert np.nanmax(np.abs(inner)) < 1.0


def test_difference_interpolates_between_different_grids():
    x = band_limited_noise(SR_IN, 3.0, high=6000) * 0.1 + sine(1000, SR_IN, seconds=3.0, amplitude=0.5)
    before = stft_spectrogram(x, SR_IN)
    after = stft_spectrogram(resample_poly(x, 1, 3), SR_OUT, hop_seconds=0.02, window_seconds=0.05)
    diff = spectral_difference(before, after)
    # the coarser grid on each axis: 40 Hz bins from `before`, 20 ms hops from `after`
    assert diff.freqs[1] == 40.0 and diff.freqs[-1] == 8000
    assert diff.times[1] == pytest.approx(0.02)
    # a tone reads its amplitude with any window: no change at 1 kHz
    assert np.median(diff.values[row_of(diff.freqs, 1000)][5:-5]) == pytest.approx(0.0, abs=0.3)
    # noise per bin scales with bin width: 20 Hz bins read 10*log10(20/40) = -3 dB
    band = (diff.freqs > 2000) & (diff.freqs < 5500)
    assert np.median(diff.values[band][:, 5:-5]) == pytest.approx(-3.0, abs=0.5)


def test_difference_refuses_mismatched_kinds():
    stft = stft_spectrogram(speech_like(1.0), SR_OUT)
    mel = log_mel_spectrogram(speech_like(1.0), SR_OUT)
    with pytest.raises(ValueError, match="cannot subtract"):
        spectral_difference(stft, mel)


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


def heatmaps(fig):
    return [t for t in fig.data if t.type == "heatmap"]


def nyquist_lines(fig):
    return [s for s in fig.layout.shapes if s.name == "nyquist"]


def test_before_after_figure_marks_the_new_nyquist_and_shows_the_alias():
    x = sine(10_000, SR_IN, seconds=2.0)
    fig = before_after_figure((x, SR_IN), (x[::3], SR_OUT))
    assert isinstance(fig, go.Figure)
    before, after = heatmaps(fig)
    lines = nyquist_lines(fig)
    assert lines and all(s.y0 == s.y1 == 8000 for s in lines)
    assert any("Nyquist" in a.text for a in fig.layout.annotations)
    # one colour scale for both panels, frequency axes shared from 0 to 24 kHz
    assert before.coloraxis == after.coloraxis == "coloraxis"
    assert tuple(fig.layout.yaxis.range) == (0, 24_000)
    assert fig.layout.yaxis2.matches == "y"
    assert "Time (s)" in fig.layout.xaxis.title.text and "Hz" in fig.layout.yaxis.title.text
    # the data drawn: 10 kHz before, its mirror image at 6 kHz after
    for trace, freq in ((before, 10_000), (after, 6_000)):
        z = np.asarray(trace.z)
        peak_row = np.median(z, axis=1).argmax()
        assert np.asarray(trace.y)[peak_row] == pytest.approx(freq, abs=80)


def test_before_after_figure_accepts_clips_and_labels_their_history():
    x = sine(1000, SR_IN)
    before = Clip.from_array(x, SR_IN, name="speech.wav")
    info = AudioInfo(path="speech.wav", history=[{"step": "resample", "method": "soxr_hq", "from_rate": SR_IN, "to_rate": SR_OUT}])
    after = Clip(resample_poly(x, 1, 3).astype(np.float32)[None, :], SR_OUT, info)
    fig = before_after_figure(before, after)
    titles = [a.text for a in fig.layout.annotations]
    assert titles[0].startswith("before: 48 kHz") and titles[1].startswith("after: 16 kHz")
    assert "soxr_hq" in titles[1]
    with pytest.raises(ValueError, match="48000 Hz"):
        before_after_figure(before, after, before_sr=SR_OUT)


def test_difference_figure_is_near_zero_and_diverging():
    x = band_limited_noise(SR_IN, 3.0, high=6000)
    fig = difference_figure((x, SR_IN), (resample_poly(x, 1, 3), SR_OUT))
    (trace,) = heatmaps(fig)
    z = np.asarray(trace.z, dtype=np.float64)
    y = np.asarray(trace.y)
    band = (y > 100) & (y < 5500)
    assert np.nanmedian(np.abs(z[band][:, 5:-5])) < 0.1
    assert y.max() == 8000
    axis = fig.layout.coloraxis
    assert axis.cmid == 0 and axis.cmin == -axis.cmax
    assert "after - before" in axis.colorbar.title.text


def test_sweep_figure_shows_aliasing_as_a_mirrored_line():
    seconds, f0, f1 = 4.0, 100.0, 22_000.0
    x = log_sweep(SR_IN, seconds, f0, f1)
    fig = sweep_figure({"original": (x, SR_IN), "naive x[::3]": (x[::3], SR_OUT), "resample_poly": (resample_poly(x, 1, 3), SR_OUT)})
    original, naive, filtered = heatmaps(fig)
    assert [a.text for a in fig.layout.annotations][:3] == ["original (48 kHz)", "naive x[::3] (16 kHz)", "resample_poly (16 kHz)"]
    # the original panel (24 kHz) marks the 8 kHz Nyquist of the others
    assert [s.y0 for s in nyquist_lines(fig)] == [8000]

    # While the sweep is at 12 kHz, the naive panel's strongest line is at 16 - 12 = 4 kHz.
    times = np.asarray(naive.x)
    t_12k = seconds * np.log(12_000 / f0) / np.log(f1 / f0)
    col = int(np.argmin(np.abs(times - t_12k)))
    y = np.asarray(naive.y)
    naive_z, filtered_z = np.asarray(naive.z), np.asarray(filtered.z)
    assert y[naive_z[:, col].argmax()] == pytest.approx(4000, abs=150)
    assert sweep_frequency(times[col], seconds, f0, f1) == pytest.approx(12_000, rel=0.02)
    four = row_of(y, 4000)
    assert naive_z[four, col] > -12
    assert filtered_z[four, col] < naive_z[four, col] - 40


def test_spectrogram_figure_with_nyquist_line_and_bounded_size_for_10_minutes():
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(SR_OUT * 600)).astype(np.float32)
    fig = spectrogram_figure(x, sr=SR_OUT, nyquist=4000)
    (trace,) = heatmaps(fig)
    assert np.asarray(trace.z).shape[0] <= MAX_BINS and np.asarray(trace.z).shape[1] <= MAX_FRAMES
    assert np.asarray(trace.z).dtype == np.float32
    assert nyquist_lines(fig)[0].y0 == 4000
    assert "Hz" in fig.layout.yaxis.title.text and "dBFS" in fig.layout.coloraxis.colorbar.title.text


def test_waveform_figure_of_a_10_minute_clip_is_bounded():
    x = np.zeros((2, SR_OUT * 600), dtype=np.float32)
    x[1, 5_000_000] = 1.0
    fig = waveform_figure(Clip.from_array(x, SR_OUT))
    assert len(fig.data) == 2
    assert all(len(trace.x) <= MAX_POINTS for trace in fig.data)
    assert max(np.asarray(fig.data[1].y)) == 1.0
    assert fig.layout.xaxis.title.text == "Time (s)"
    with pytest.raises(ValueError, match="sr="):
        waveform_figure(x)


def test_log_mel_figure_has_one_row_per_mel_bin_and_rejects_other_rates():
    fig = log_mel_figure(speech_like(2.0), 16_000, n_mels=128)
    (trace,) = heatmaps(fig)
    assert np.asarray(trace.z).shape == (128, 200)
    assert fig.layout.coloraxis.cmax - fig.layout.coloraxis.cmin == pytest.approx(2.0)
    with pytest.raises(ValueError, match="44100"):
        log_mel_figure((np.zeros(44_100, dtype=np.float32), 44_100))


def test_to_html_writes_a_self_contained_file_atomically(tmp_path):
    fig = spectrogram_figure(sine(1000, SR_OUT), sr=SR_OUT, title="one kilohertz tone")
    out = to_html(fig, tmp_path / "tone.html")
    html = out.read_text(encoding="utf-8")
    assert out == tmp_path / "tone.html"
    assert "one kilohertz tone" in html and '"heatmap"' in html
    assert '<script src="http' not in html
    assert len(html) > 1_000_000  # plotly.js is embedded
    assert [p.name for p in tmp_path.iterdir()] == ["tone.html"]


def test_to_html_leaves_nothing_behind_when_writing_fails(tmp_path, monkeypatch):
    fig = waveform_figure(sine(1000, SR_OUT), sr=SR_OUT)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(fig, "write_html", broken)
    with pytest.raises(OSError, match="disk full"):
        to_html(fig, tmp_path / "wave.html")
    assert list(tmp_path.iterdir()) == []
