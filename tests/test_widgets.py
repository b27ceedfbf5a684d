"""The live panel (workbench.widgets), driven from Python through its widgets and callbacks."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, datetime

import ipywidgets as widgets
import numpy as np
import pytest
import soundfile as sf

from workbench import widgets as wbw
from workbench.audio import Clip
from workbench.datasets import BUNDLED_DIR, read_manifest
from workbench.engines import Segment, Word
from workbench.figures import OTHER_COLOUR, RESAMPLER_COLOURS, resampler_colour
from workbench.resampling import RESAMPLERS
from workbench.signals import band_limited_noise, speech_like, tone
from workbench.transcription import Transcript
from workbench.widgets import fragments as wbw_fragments
from workbench.widgets import runs as wbw_runs
from workbench.widgets import signal as wbw_signal
from workbench.widgets import transcribing as wbw_transcribing
from workbench.widgets.common import rounded

from .conftest import SHARED_AUDIO

JFK_FILE = SHARED_AUDIO / "en_jfk_44k_stereo.flac"
BUNDLED_MANIFEST = BUNDLED_DIR / "manifest.csv"
JFK_REFERENCE = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
RATE_48K = 48_000
RATE_16K = 16_000
CLIP_SECONDS = 2.0
#: Hiss above the new Nyquist, so resamplers differ visibly in the "after" panel.
HISS_LOW_HZ = 9_000.0
HISS_LEVEL = 0.3
#: How long the stand-in transcription of the background test takes.
SLOW_TRANSCRIPTION_SECONDS = 1.0
#: Numbers in full precision, as they come out of timings and scores; the panel never shows them so.
RAW_NUMBERS = (1.845238, 2.364972e-03, 3.372520833333333)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    """A tiny manifest: a synthetic 48 kHz stereo clip with hiss, and a 16 kHz mono tone."""
    folder = tmp_path_factory.mktemp("widget_clips")
    speech = speech_like(sr=RATE_48K, duration=CLIP_SECONDS, seed=3)
    hiss = HISS_LEVEL * band_limited_noise(sr=RATE_48K, duration=CLIP_SECONDS, low=HISS_LOW_HZ, seed=4)
    sf.write(folder / "speechlike_48k_stereo.wav", np.stack([speech + hiss, speech], axis=1), RATE_48K, subtype="PCM_24")
    sf.write(folder / "tone_16k.wav", tone(440, sr=RATE_16K, duration=1.0), RATE_16K)
    rows = [
        {"path": "speechlike_48k_stereo.wav", "language": "en", "reference": "hello world", "source": "synthetic: workbench.signals"},
        {"path": "tone_16k.wav", "language": "yue", "reference": "你好", "source": "test fixture tone"},
    ]
    path = folder / "manifest.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def panel(manifest):
    p = wbw.Panel(manifest, background=False)
    yield p
    p.close()


def fake_transcript(text: str = "hello world", language: str = "en", segments=(), timings=None) -> Transcript:
    timings = timings or {"load_s": 0.0, "preprocess_s": 0.0, "inference_s": 0.01, "audio_s": CLIP_SECONDS, "real_time_factor": 0.005}
    return Transcript(text, list(segments), language, None, {"device": "cpu", "precision": "int8"}, {}, timings, [])


def fake_transcribe(monkeypatch, transcript: Transcript) -> list:
    """Make the panel's transcribe return ``transcript``; returns the list of options it was called with."""
    calls = []

    def fake(audio, model, engine, *, options, progress=None):
        calls.append(options)
        return transcript

    monkeypatch.setattr(wbw_transcribing, "transcribe", fake)
    return calls


def descendants(widget) -> list:
    found = []
    for child in getattr(widget, "children", ()):
        found += [child, *descendants(child)]
    return found


@pytest.fixture
def counting_transcribe(monkeypatch):
    """Replace the panel's transcribe with a fast fake that counts its calls."""
    calls = []

    def fake(audio, model, engine, *, options, progress=None):
        calls.append((model, engine, options))
        if progress is not None:
            progress(audio.duration, audio.duration)
        return fake_transcript()

    monkeypatch.setattr(wbw_transcribing, "transcribe", fake)
    return calls


def counter(monkeypatch, module, name):
    """Wrap ``module.name`` so calls are counted; returns the list of calls."""
    calls = []
    real = getattr(module, name)

    def wrapped(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)
    return calls


def upload(panel, name: str, content: bytes) -> None:
    item = {"name": name, "type": "", "size": len(content), "content": memoryview(content), "last_modified": datetime.now(UTC)}
    panel.upload.value = (item,)


def heatmaps(fig):
    return [np.asarray(trace.z) for trace in fig.data]


# --------------------------------------------------------------------------
# Clips, figures and players
# --------------------------------------------------------------------------


def test_clip_list_labels_language_and_synthetic(panel):
    labels = [label for label, _ in panel.clip.options]
    assert labels[0] == "speechlike_48k_stereo.wav · en · synthetic"
    assert labels[1] == "tone_16k.wav · yue"
    assert panel.reference.value == "hello world"
    assert "synthetic" in panel.clip_info.value


def test_figures_players_and_new_nyquist_marker(panel):
    assert set(panel.figures) == {"waveform", "before_after"}
    shapes = panel.figures["before_after"].layout.shapes
    assert [s.y0 for s in shapes] == [RATE_16K / 2, RATE_16K / 2]
    assert "new Nyquist 8 kHz" in [a.text for a in panel.figures["before_after"].layout.annotations]
    assert panel.original_audio.value[:4] == b"RIFF" and panel.resampled_audio.value[:4] == b"RIFF"
    assert sf.info(io.BytesIO(panel.resampled_audio.value)).samplerate == RATE_16K
    (output,) = panel.spectrogram_output.outputs
    assert wbw.PLOTLY_MIMETYPE in output["data"]
    assert panel.displayed_settings["resampler"] == wbw.DEFAULT_RESAMPLER


def test_changing_the_resampler_changes_only_the_after_panel(panel):
    before, after = heatmaps(panel.figures["before_after"])
    panel.resampler.value = "naive_decimation"
    new_before, new_after = heatmaps(panel.figures["before_after"])
    np.testing.assert_array_equal(before, new_before)
    assert not np.array_equal(after, new_after)
    assert "naive_decimation" in panel.figures["before_after"].layout.title.text
    assert "BAD" in panel.resampler_note.value
    assert panel.displayed_settings["resampler"] == "naive_decimation"


def test_going_back_to_a_resampler_or_clip_is_served_from_the_cache(panel, monkeypatch):
    resamples = counter(monkeypatch, Clip, "resample")
    loads = counter(monkeypatch, wbw_signal, "load_audio")
    spectrograms = counter(monkeypatch, wbw_signal, "stft_spectrogram")
    panel.resampler.value = "scipy_poly"
    assert (len(resamples), len(loads), len(spectrograms)) == (1, 0, 1)
    panel.resampler.value = wbw.DEFAULT_RESAMPLER
    panel.resampler.value = "scipy_poly"
    assert (len(resamples), len(loads), len(spectrograms)) == (1, 0, 1)
    panel.clip.value = 1
    panel.clip.value = 0
    assert len(loads) == 1  # the second clip, once
    assert panel.reference.value == "hello world"
    panel.channel.value = "first"
    assert len(loads) == 2
    panel.channel.value = "mean"
    assert len(loads) == 2


def test_mislabelled_resampler_plays_slow(panel):
    panel.resampler.value = "mislabelled"
    info = sf.info(io.BytesIO(panel.resampled_audio.value))
    assert info.samplerate == RATE_16K and info.duration == pytest.approx(3 * CLIP_SECONDS, rel=0.01)


def test_background_mode_keeps_callbacks_short(manifest, monkeypatch):
    def slow(audio, model, engine, *, options, progress=None):
        time.sleep(SLOW_TRANSCRIPTION_SECONDS)
        return fake_transcript()

    monkeypatch.setattr(wbw_transcribing, "transcribe", slow)
    p = wbw.Panel(manifest, background=True)
    try:
        assert p.wait(timeout=60)
        assert p.displayed_settings is not None
        p.transcribe_button.click()
        p.resampler.value = "linear"
        assert p.busy and p.transcript is None  # both callbacks returned while the work goes on
        assert p.wait(timeout=60)
        assert p.displayed_settings["resampler"] == "linear"
        assert p.transcript.text == "hello world" and len(p.runs) == 1
        assert p.progress.value == wbw.PROGRESS_DONE and not p.transcribe_button.disabled
    finally:
        p.close()


# --------------------------------------------------------------------------
# Transcription, scoring and the table of runs
# --------------------------------------------------------------------------


def test_transcription_is_scored_recorded_and_cached(panel, counting_transcribe):
    panel.beam_size.value = 1
    panel.transcribe_button.click()
    assert len(counting_transcribe) == 1
    assert "hello world" in panel.transcript_html.value
    shown = panel.transcript_html.value
    assert "<b>WER 0.000</b> strict" in shown and "wb-alignment" in shown and "wb-legend" in shown
    assert shown.count("strict") == 1  # the rates are said once, and each cause's count once (in the legend)
    assert len(panel.runs) == 1 and panel.runs[0]["error rate"] == 0.0
    assert panel.progress.value == wbw.PROGRESS_DONE

    panel.beam_size.value = 2
    panel.transcribe_button.click()
    panel.beam_size.value = 1
    panel.transcribe_button.click()
    assert len(counting_transcribe) == 2
    assert len(panel.runs) == 2
    assert "cache" in panel.status.value
    frame = panel.runs_frame()
    assert list(frame["beam"]) == [1, 2]
    assert "<table" in panel.compare_table.value and "resampler" in panel.compare_table.value


def test_the_loading_status_stays_until_there_is_progress(panel, monkeypatch):
    seen = []

    def fake(audio, model, engine, *, options, progress=None):
        progress(0.0, 3.0)  # transcribe() says the total before the model loads
        seen.append((panel.status.value, panel.progress.value))
        progress(1.5, 3.0)
        seen.append((panel.status.value, panel.progress.value))
        return fake_transcript()

    monkeypatch.setattr(wbw_transcribing, "transcribe", fake)
    panel.transcribe_button.click()
    (loading, at_start), (halfway, at_half) = seen
    assert "loading" in loading and "transcribed" not in loading
    assert "transcribed 1.5 of 3.0 s" in halfway and at_half > at_start


def test_compare_table_and_chart_follow_the_runs(panel, counting_transcribe):
    for name in ("soxr_hq", "naive_decimation", "linear"):
        panel.resampler.value = name
        panel.transcribe_button.click()
    assert [row["resampler"] for row in panel.runs] == ["soxr_hq", "naive_decimation", "linear"]
    bars = [t for t in panel.compare_figure.data if t.type == "bar"]
    assert sorted(t.name for t in bars) == ["linear", "naive_decimation", "soxr_hq"]
    assert panel.compare_output.outputs
    assert counting_transcribe[-1][2].resampler == "linear"
    panel.clear_runs()
    assert panel.runs == [] and not panel.compare_output.outputs and "No runs yet" in panel.compare_table.value


def test_a_clip_without_reference_is_transcribed_but_not_scored(panel, counting_transcribe):
    panel.reference.value = ""
    panel.transcribe_button.click()
    assert panel.score is None
    assert "No reference" in panel.transcript_html.value
    assert np.isnan(panel.runs[0]["error rate"])


@pytest.mark.skipif(not JFK_FILE.is_file(), reason=f"real recording not present ({JFK_FILE})")
def test_real_transcription_of_a_path(manifest):
    p = wbw.Panel(manifest, model="embedded", engine="faster-whisper", background=False)
    try:
        p.path.value = str(JFK_FILE)
        p.load_button.click()
        assert p.clip.label == "en_jfk_44k_stereo.flac · path"
        assert p.displayed_settings["clip"].endswith("en_jfk_44k_stereo.flac")
        p.reference.value = JFK_REFERENCE
        p.language.value = "en"
        p.beam_size.value = 1
        p.timestamps.value = "none"
        p.transcribe_button.click()
        assert p.last_message == "", p.last_message
        assert "fellow Americans" in p.transcript.text
        assert "WER" in p.transcript_html.value and p.score.error_rate < 0.15
        assert len(p.runs) == 1 and p.runs[0]["engine"] == "faster-whisper"
        assert p.runs[0]["inference s"] > 0
    finally:
        p.close()


# --------------------------------------------------------------------------
# Layout, colours, rounded numbers, status lines and segment times
# --------------------------------------------------------------------------


def test_the_resampler_figure_sits_beside_the_resampler_outside_the_tabs(panel):
    (row,) = [w for w in descendants(panel) if isinstance(w, widgets.HBox) and panel.spectrogram_output in w.children]
    (controls,) = [c for c in row.children if c is not panel.spectrogram_output]
    assert panel.resampler in descendants(controls) and panel.resampled_audio in descendants(controls)
    assert panel.spectrogram_output not in descendants(panel.tabs)
    assert row in panel.children and panel.children.index(row) < panel.children.index(panel.tabs)
    panel.tabs.selected_index = 2  # another tab open: the figure still changes where it is
    panel.resampler.value = "linear"
    (output,) = panel.spectrogram_output.outputs
    assert "linear" in output["data"]["text/plain"]


def test_labels_are_given_room_instead_of_being_cut(panel):
    assert panel.language_fallback.layout.width == "auto"
    assert panel.language_fallback.style.description_width == "initial"
    assert panel.engine.style.button_width == "auto"
    # Status lines are HTML, which wraps; a Label would cut a long line with an ellipsis.
    assert isinstance(panel.status, widgets.HTML) and isinstance(panel.signal_status, widgets.HTML)


def test_every_registered_resampler_has_its_own_fixed_colour():
    colours = [resampler_colour(name) for name in RESAMPLERS]
    assert len(set(colours)) == len(RESAMPLERS), dict(zip(RESAMPLERS, colours, strict=True))
    assert OTHER_COLOUR not in colours and set(RESAMPLER_COLOURS) == set(RESAMPLERS)
    assert resampler_colour("soxr_hq") != resampler_colour("naive_decimation")
    assert resampler_colour("not-a-resampler") == OTHER_COLOUR


def run_row(run: int, resampler: str, error_rate: float = 0.25, **extra) -> dict:
    row = {
        "run": run,
        "clip": "tone_16k.wav · yue",
        "decoder": "auto",
        "channel": "mean",
        "resampler": resampler,
        "model": "embedded",
        "engine": "faster-whisper",
        "language": "zh",
        "decoded as": "zh",
        "beam": 5,
        "batch": 1,
        "timestamps": "segment",
        "fallback": True,
        "metric": "CER",
        "error rate": error_rate,
        "lenient": error_rate / 2,
        "inference s": 1.0,
        "real-time factor": 0.1,
        "fallbacks": "",
        "text": "你好",
    }
    return {**row, **extra}


def test_the_chart_colours_a_resampler_by_its_name_whatever_the_order():
    names = ["naive_decimation", "soxr_hq", "linear", "scipy_poly"]
    forward = wbw_runs.runs_figure([run_row(i + 1, name) for i, name in enumerate(names)])
    backward = wbw_runs.runs_figure([run_row(i + 1, name) for i, name in enumerate(reversed(names))])
    for fig in (forward, backward):
        bars = {t.name: t.marker.color for t in fig.data if t.type == "bar"}
        assert bars == {name: resampler_colour(name) for name in names}
    (only,) = [t for t in wbw_runs.runs_figure([run_row(1, "soxr_hq")]).data if t.type == "bar"]
    assert only.marker.color == resampler_colour("soxr_hq")


def test_the_panel_chart_gives_two_resamplers_two_colours(panel, counting_transcribe):
    for name in ("naive_decimation", "soxr_hq"):
        panel.resampler.value = name
        panel.transcribe_button.click()
    bars = {t.name: t.marker.color for t in panel.compare_figure.data if t.type == "bar"}
    assert bars == {"naive_decimation": resampler_colour("naive_decimation"), "soxr_hq": resampler_colour("soxr_hq")}
    assert len(set(bars.values())) == 2
    assert resampler_colour("soxr_hq") in panel.compare_table.value  # the table's swatch matches the chart


def test_rounded_shows_numbers_short():
    assert [rounded(v) for v in RAW_NUMBERS] == ["1.845", "0.002", "3.373"]
    assert rounded(np.float32(0.1234567), 2) == "0.12" and rounded(np.int64(7)) == "7"
    assert rounded(np.bool_(False)) == "no" and rounded(None) == rounded(float("inf")) == "–"


def test_the_compare_table_is_rounded_one_line_per_run_with_the_error_rates_first():
    rows = [
        run_row(1, "soxr_hq", RAW_NUMBERS[0], **{"inference s": RAW_NUMBERS[2], "real-time factor": RAW_NUMBERS[1]}),
        run_row(2, "naive_decimation", np.float64(RAW_NUMBERS[1]), fallbacks="language yue -> zh: " + "a long reason " * 20),
    ]
    table = wbw_fragments.runs_table_html(rows)
    for raw in RAW_NUMBERS:
        assert repr(raw) not in table and f"{raw:e}" not in table and f"{raw:f}" not in table
    assert ">1.845<" in table and ">3.37<" in table and ">0.002<" in table and ">0.923<" in table
    assert table.count('<tr class="wb-run">') == 2 and table.count("<tr") == 3
    assert "white-space:nowrap" in table and "text-overflow:ellipsis" in table
    headings = [title for _, title, _ in wbw_fragments.RUN_COLUMNS]
    assert headings.index("error rate") < 4 and headings.index("lenient") < 5
    assert table.index(">error rate<") < table.index(">clip<")
    assert "你好" not in table  # the text is in the Transcript tab, not the one-line rows
    assert wbw_fragments.runs_table_html([]) == wbw_fragments.NO_RUNS_HTML


def test_the_panel_shows_timings_and_rates_rounded(panel, monkeypatch):
    timings = {"load_s": RAW_NUMBERS[0], "inference_s": RAW_NUMBERS[2], "audio_s": 1.0, "real_time_factor": RAW_NUMBERS[1]}
    fake_transcribe(monkeypatch, fake_transcript("hello word", timings=timings))
    panel.transcribe_button.click()
    assert panel.last_message == "", panel.last_message
    shown = panel.transcript_html.value + panel.compare_table.value + panel.status.value + panel.signal_status.value
    for raw in RAW_NUMBERS:
        assert repr(raw) not in shown and f"{raw:e}" not in shown and f"{raw:f}" not in shown
    assert "inference 3.37 s" in panel.transcript_html.value and "real-time factor 0.002" in panel.transcript_html.value
    assert "<b>WER 0.500</b>" in panel.transcript_html.value and ">0.500<" in panel.compare_table.value
    assert panel.status.value == '<span class="wb-status">done in 3.4 s</span>'
    hover = panel.figures["waveform"].data[0].hovertemplate
    assert "%{x:.3f}" in hover and "%{y:.3f}" in hover


def test_a_failed_run_leaves_no_stale_lines_once_the_resampler_changes(panel, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(wbw_transcribing, "transcribe", broken)
    panel.transcribe_button.click()
    assert "engine exploded" in panel.last_message and "failed" in panel.status.value
    assert panel.details.layout.display != "none"
    panel.resampler.value = "linear"
    assert panel.last_message == "" and panel.message.value == "" and panel.details.layout.display == "none"
    assert panel.status.value == "" and panel.progress.value == 0 and panel.progress.bar_style == ""
    assert "figures for linear shown" in panel.signal_status.value


@pytest.mark.parametrize("action", ["clip", "channel", "decoder", "transcribe", "clear runs"])
def test_each_new_action_clears_the_last_message(panel, counting_transcribe, action):
    panel.path.value = "/nowhere/missing.wav"
    panel.load_button.click()
    assert "no such file" in panel.last_message
    if action == "clip":
        panel.clip.value = 1
    elif action == "channel":
        panel.channel.value = "first"
    elif action == "decoder":
        panel.decoder.value = panel.decoder.options[-1]
    elif action == "transcribe":
        panel.transcribe_button.click()
    else:
        panel.clear_runs()
    assert panel.last_message == "" and panel.message.value == ""


def test_a_finished_run_status_clears_when_the_clip_changes(panel, counting_transcribe):
    panel.transcribe_button.click()
    assert "done" in panel.status.value and panel.progress.value == wbw.PROGRESS_DONE
    panel.clip.value = 1
    assert panel.status.value == "" and panel.progress.value == 0


def test_a_running_transcription_keeps_its_status_while_settings_change(manifest, monkeypatch):
    def slow(audio, model, engine, *, options, progress=None):
        time.sleep(SLOW_TRANSCRIPTION_SECONDS)
        return fake_transcript()

    monkeypatch.setattr(wbw_transcribing, "transcribe", slow)
    p = wbw.Panel(manifest, background=True)
    try:
        assert p.wait(timeout=60)
        p.transcribe_button.click()
        p.resampler.value = "linear"
        assert p.status.value != "" and p.transcribe_button.disabled  # still the running job's line
        assert p.wait(timeout=60)
        assert "done" in p.status.value
        p.resampler.value = "scipy_poly"
        assert p.status.value == ""
    finally:
        p.close()


SEGMENTS = (
    Segment(0.0, RAW_NUMBERS[0], " hello", words=[Word(0.0, 0.5, " hel"), Word(0.5, RAW_NUMBERS[0], "lo")]),
    Segment(RAW_NUMBERS[0], RAW_NUMBERS[2], " world"),
    Segment(None, None, " (no times reported)"),
)


@pytest.mark.parametrize("timestamps", ["none", "segment", "word"])
def test_segment_times_show_when_timestamps_are_on(panel, monkeypatch, timestamps):
    calls = fake_transcribe(monkeypatch, fake_transcript(segments=SEGMENTS))
    panel.timestamps.value = timestamps
    panel.transcribe_button.click()
    assert calls[-1].timestamps == timestamps
    shown = panel.transcript_html.value
    if timestamps == "none":
        assert "wb-segments" not in shown and "0.00–1.85 s" not in shown
        return
    assert "wb-segments" in shown
    times = re.findall(r'class="wb-time"[^>]*>([^<]*)</td>', shown)
    assert times == ["0.00–1.85 s", "1.85–3.37 s", "–"]  # the engine gave no times for the last one
    assert str(RAW_NUMBERS[0]) not in shown
    assert ('title="0.50–1.85 s"' in shown) == (timestamps == "word")


# --------------------------------------------------------------------------
# Bad input is reported in the panel
# --------------------------------------------------------------------------


def test_upload_of_non_audio_bytes_shows_a_message(panel):
    count = len(panel.sources)
    upload(panel, "notes.wav", b"these are meeting notes, not a recording\n" * 4)
    assert "not an audio file" in panel.last_message
    assert "not an audio file" in panel.message.value
    assert panel.last_message_kind == "error" and panel.details.layout.display == "none"
    assert len(panel.sources) == count


def test_upload_of_audio_adds_the_clip(panel, manifest):
    content = (manifest.parent / "tone_16k.wav").read_bytes()
    upload(panel, "我的录音.wav", content)
    assert panel.last_message == ""
    assert panel.clip.label == "我的录音.wav · upload"
    assert panel.figures["before_after"].layout.shapes == ()  # 16 kHz in, 16 kHz out: no new Nyquist


def test_missing_path_shows_no_such_file(panel, tmp_path):
    shown = panel.signal_status.value
    panel.path.value = str(tmp_path / "missing.wav")
    panel.load_button.click()
    assert "no such file" in panel.last_message
    assert not panel.load_button.disabled
    assert panel.signal_status.value == shown and "decoding" not in shown  # no stale "decoding missing.wav…"


def test_cantonese_on_a_model_without_yue_shows_the_reason(panel):
    panel.clip.value = 1
    panel.language.value = "yue"
    panel.language_fallback.value = False
    panel.model.value = "embedded"
    panel.transcribe_button.click()
    assert "no Cantonese token <|yue|>" in panel.last_message
    assert "&lt;|yue|&gt;" in panel.message.value
    assert panel.progress.bar_style == "danger" and not panel.transcribe_button.disabled
    assert panel.runs == []


def test_unexpected_errors_show_a_short_message_with_folded_details(panel, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(wbw_transcribing, "transcribe", broken)
    panel.transcribe_button.click()
    assert "unexpected" in panel.last_message and "engine exploded" in panel.last_message
    assert panel.details.layout.display != "none" and panel.details.selected_index is None
    assert "Traceback" in panel.details.children[0].value


def test_empty_model_box_and_empty_clip_list(panel, counting_transcribe):
    panel.model.value = "  "
    panel.language.value = "auto"
    panel.transcribe_button.click()  # an empty model box means the embedded model
    assert counting_transcribe[-1][0] == "embedded"
    panel.set_sources([])
    panel.transcribe_button.click()
    assert "Choose a clip" in panel.last_message


def test_a_missing_manifest_is_reported_in_the_panel(tmp_path):
    p = wbw.Panel(tmp_path / "nowhere.csv", background=False)
    try:
        assert "manifest not found" in p.last_message and p.sources == []
    finally:
        p.close()


@pytest.mark.skipif(not BUNDLED_MANIFEST.is_file(), reason=f"the bundled set is not present ({BUNDLED_MANIFEST})")
def test_the_bundled_set_is_the_default_and_synthetic_clips_say_so():
    p = wbw.panel(background=False)
    try:
        entries = read_manifest(BUNDLED_MANIFEST)
        assert len(p.sources) == len(entries)
        for source, entry in zip(p.sources, entries, strict=True):
            assert ("synthetic" in source.label) == ("synthetic" in entry.meta.get("source", "").lower())
        assert p.displayed_settings is not None, p.last_message
    finally:
        p.close()


def test_manifest_entries_can_be_passed_directly(manifest):
    p = wbw.panel(read_manifest(manifest)[1:], background=False)
    try:
        assert [s.label for s in p.sources] == ["tone_16k.wav · yue"]
    finally:
        p.close()


# --------------------------------------------------------------------------
# The resampler-switch benchmark
# --------------------------------------------------------------------------


def test_measure_resampler_switch_reports_cold_and_cached_times():
    result = wbw.measure_resampler_switch(seconds=2, resamplers=("soxr_hq", "naive_decimation"))
    assert list(result["switch"]) == ["naive_decimation"]
    timing = result["switch"]["naive_decimation"]
    assert timing["cold_s"] > 0 and timing["cached_s"] > 0 and timing["back_s"] > 0
    assert result["target_s"] == wbw.SWITCH_TARGET_SECONDS
    assert isinstance(result["met"], bool)
