"""`--help` documents every option, and the defaults it states are the ones the workbench uses."""

from __future__ import annotations

import argparse
from dataclasses import fields

import pytest

from workbench.cli import build_parser
from workbench.options import TranscriptionOptions


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", sorted(_subparsers()))
def test_every_option_has_help(command):
    parser = _subparsers()[command]
    undocumented = [
        "/".join(a.option_strings)
        for a in parser._actions
        if a.option_strings and not isinstance(a, argparse._HelpAction) and not (a.help and a.help.strip())
    ]
    assert undocumented == [], f"{command}: options without help: {undocumented}"


# transcribe's flag -> how its help states TranscriptionOptions' default
STATED = {
    "--beam-size": ("beam_size", "default: {}"),
    "--temperature": ("temperature", "default: {:g}"),
    "--chunk-length": ("chunk_length_s", "default: {:g}"),
    "--batch-size": ("batch_size", "default: {}"),
    "--timestamps": ("timestamps", "default: {}"),
    "--temperature-increment": ("temperature_increment", "default: {:g}"),
    "--compression-ratio-threshold": ("compression_ratio_threshold", "default: {}"),
    "--log-prob-threshold": ("log_prob_threshold", "default: {}"),
    "--no-speech-threshold": ("no_speech_threshold", "default: {}"),
    "--task": ("task", "default: {}"),
}


def test_transcribe_help_states_the_real_defaults():
    parser = _subparsers()["transcribe"]
    defaults = {f.name: f.default for f in fields(TranscriptionOptions)}
    helps = {s: a.help for a in parser._actions for s in a.option_strings}
    wrong = {flag: helps[flag] for flag, (name, fmt) in STATED.items() if fmt.format(defaults[name]) not in helps[flag]}
    assert wrong == {}


def test_defaults_are_shown_for_the_engine_and_the_resampler():
    text = " ".join(_subparsers()["transcribe"].format_help().split())
    assert "default: faster-whisper where it is installed, else transformers" in text
    from workbench.resampling import DEFAULT_RESAMPLER

    assert f"default: {DEFAULT_RESAMPLER}" in text
