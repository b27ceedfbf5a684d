"""English WER forgives British vs American spelling: Whisper's spelling table ships with the workbench."""

from __future__ import annotations

from workbench.scoring import score
from workbench.scoring.english import english_normaliser


def test_spelling_table_is_available():
    _, source = english_normaliser()
    assert "not available" not in source, source


def test_british_and_american_spellings_score_the_same():
    s = score(
        "I realize the color of the neighbor's favorite theater", "I realise the colour of the neighbour's favourite theatre", language="en"
    )
    assert s.wer == 0.0
