"""Whisper's language table ships with the workbench and matches the one transformers carries."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workbench.languages import _whisper_tables, normalise_language, whisper_languages

from .conftest import ROOT


def test_shipped_table_matches_transformers():
    tokenization = pytest.importorskip("transformers.models.whisper.tokenization_whisper")
    languages, to_code = _whisper_tables()
    assert languages == dict(tokenization.LANGUAGES)
    assert to_code == dict(tokenization.TO_LANGUAGE_CODE)


def test_naming_a_language_imports_no_model_library():
    code = (
        "import sys\n"
        "from workbench.languages import normalise_language\n"
        "assert normalise_language('Cantonese') == 'yue' and normalise_language('mandarin') == 'zh'\n"
        "print(sorted(m for m in ('torch', 'transformers', 'ctranslate2') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_table_has_cantonese_and_its_names():
    assert whisper_languages()["yue"] == "cantonese"
    assert normalise_language("yue-HK") == "yue"
    assert normalise_language("Burmese") == "my"
