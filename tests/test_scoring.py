"""Scoring as users rely on it: strict and lenient error rates, and the cause of every difference."""

from __future__ import annotations

import argparse
import contextlib
import doctest
import html
import importlib
import io
import json
import pkgutil
import re
from importlib import resources

import pytest

from workbench import scoring
from workbench.cli.score import add_commands as add_score_command
from workbench.errors import WorkbenchError
from workbench.scoring import (
    CAUSE_COLOURS,
    CAUSE_LABELS,
    CAUSE_MARKERS,
    CAUSES,
    COLLOQUIAL_PAIRS,
    COUNTED_CAUSES,
    FORGIVEN_CAUSES,
    ScoringError,
    is_character_language,
    normalise_language,
    normalise_text,
    score,
    score_manifest,
    score_many,
)

# The worked example from the issue: Cantonese speech, written-Chinese transcript.
CANTONESE_REF = "呢几个字都表达唔到，我想讲嘅意思。"
WRITTEN_HYP = "這幾個字都表達不到我想講的意思"
# The Mandarin clip's reference transcript (shared/audio/manifest.csv).
MANDARIN_REF = "开放时间早上9点至下午5点。"
JFK_REF = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
# The Cantonese TV clip's reference (data/manifest.csv) and written-Chinese transcripts of it.
TV_REF = "佢食咗啲嘢，而家喺屋企睇緊電視。"
TV_WRITTEN = "他吃了些東西，現在在家裏看電視"


def counted(s):
    return [t for t in s.alignment if t.counted]


def assert_consistent(s):
    """The alignment carries exactly the counted errors, each with one cause."""
    steps = counted(s)
    assert len(steps) == s.errors == sum(s.breakdown[c] for c in ("numerals", "colloquial", "hallucination", "other"))
    assert sum(t.op == "substitute" for t in steps) == s.substitutions
    assert sum(t.op == "delete" for t in steps) == s.deletions
    assert sum(t.op == "insert" for t in steps) == s.insertions
    assert s.hits + s.substitutions + s.deletions == s.reference_length
    assert set(s.breakdown) == set(CAUSES)


# --------------------------------------------------------------------------
# The worked example
# --------------------------------------------------------------------------


def test_worked_example_strict_and_lenient_cer():
    s = score(WRITTEN_HYP, CANTONESE_REF, language="yue")
    assert s.unit == "char"
    assert s.reference_length == 15
    assert (s.hits, s.substitutions, s.deletions, s.insertions) == (12, 3, 0, 0)
    assert s.cer == pytest.approx(3 / 15) == pytest.approx(0.2)
    assert s.error_rate == s.cer
    assert s.lenient_cer == 0.0
    assert s.wer is None
    assert s.breakdown["colloquial"] == 3
    assert s.breakdown["other"] == 0
    assert s.breakdown["numerals"] == 0
    pairs = [(t.ref, t.hyp) for t in counted(s)]
    assert pairs == [("呢", "這"), ("唔", "不"), ("嘅", "的")]
    assert all(t.cause == "colloquial" for t in counted(s))
    assert_consistent(s)


def test_worked_example_reports_what_was_forgiven_before_scoring():
    s = score(WRITTEN_HYP, CANTONESE_REF, language="yue")
    # 几/幾 个/個 达/達 讲/講 differ only in script; ， and 。 are missing
    script = sorted((t.ref, t.hyp) for t in s.alignment if t.cause == "script")
    assert script == sorted([("几", "幾"), ("个", "個"), ("达", "達"), ("讲", "講")])
    assert s.breakdown["script"] == 4
    assert s.breakdown["punctuation_width"] == 2
    assert s.normalised_reference == "呢几个字都表达唔到我想讲嘅意思"
    assert s.normalised_hypothesis == "这几个字都表达不到我想讲的意思"


# --------------------------------------------------------------------------
# Causes one by one
# --------------------------------------------------------------------------


def test_script_only_difference_is_not_an_error():
    traditional = "開放時間早上九點至下午五點，請準時來這裏參觀。"
    simplified = "开放时间早上九点至下午五点，请准时来这里参观。"
    s = score(simplified, traditional, language="zh")
    assert s.cer == 0.0
    assert s.breakdown["script"] > 0
    assert s.breakdown["other"] == 0
    assert all(t.cause in (None, "script") for t in s.alignment)


def test_script_conversion_is_configurable():
    traditional, simplified = "這幾個字", "这几个字"
    assert score(simplified, traditional, "zh", script="s2hk").cer == 0.0
    kept = score(simplified, traditional, "zh", script=None)
    assert kept.cer == 0.75  # 這/这 幾/几 個/个 differ; 字 is the same
    assert kept.breakdown["other"] == 3
    assert kept.settings["script"] is None
    assert score(simplified, traditional, "zh").settings["script"] == "t2s"
    with pytest.raises(ScoringError, match="s2x"):
        score(simplified, traditional, "zh", script="s2x")


def test_punctuation_and_full_width_are_not_errors():
    s = score("你好,世界", "你好，世界", language="zh")
    assert s.cer == 0.0
    assert s.breakdown["punctuation_width"] == 1
    [step] = [t for t in s.alignment if t.cause]
    assert (step.ref, step.hyp, step.cause) == ("，", ",", "punctuation_width")

    s = score("早上９點", "早上9點", language="zh")
    assert s.cer == 0.0
    assert s.breakdown["punctuation_width"] == 1
    assert s.breakdown["numerals"] == 0

    s = score("你好世界！！", "你好 世界", language="zh")
    assert s.cer == 0.0
    assert s.breakdown["punctuation_width"] == 2


def test_numerals_count_strictly_and_are_forgiven_leniently():
    s = score("开放时间早上九点至下午五点", MANDARIN_REF, language="zh")
    assert s.reference_length == 13
    assert s.substitutions == 2
    assert s.cer == pytest.approx(2 / 13)
    assert s.breakdown["numerals"] == 2
    assert s.breakdown["other"] == 0
    assert s.lenient_cer == 0.0
    assert [(t.ref, t.hyp) for t in counted(s)] == [("9", "九"), ("5", "五")]
    assert s.breakdown["punctuation_width"] == 1  # the final 。
    assert_consistent(s)


@pytest.mark.parametrize(
    ("hyp", "ref", "errors"),
    [
        ("一共十五個", "一共15個", 2),  # one number against two characters
        ("二零二三年", "2023年", 4),
        ("一百零五人", "105人", 4),
        ("廿五號", "25號", 2),  # Cantonese contracted tens
        ("三点五公里", "3.5公里", 3),
        ("3万人", "三万人", 1),
    ],
)
def test_multi_character_numbers(hyp, ref, errors):
    s = score(hyp, ref, language="yue")
    assert s.errors == errors
    assert s.breakdown["numerals"] == errors
    assert s.lenient_error_rate == 0.0
    assert_consistent(s)


def test_different_numbers_are_real_errors():
    s = score("早上8点", "早上9点", language="zh")
    assert s.breakdown["other"] == 1
    assert s.breakdown["numerals"] == 0
    assert s.lenient_cer == s.cer == pytest.approx(1 / 4)


def test_real_recognition_error_is_other():
    s = score("今天天氣很差", "今天天气很好", language="zh")
    assert s.errors == 1
    assert s.breakdown["other"] == 1
    assert s.breakdown["script"] == 1  # 氣/气
    assert s.lenient_cer == s.cer == pytest.approx(1 / 6)
    [step] = counted(s)
    assert (step.op, step.ref, step.hyp, step.cause) == ("substitute", "好", "差", "other")


def test_multi_character_colloquial_pair():
    s = score("我沒有錢", "我冇錢", language="yue")
    assert (s.substitutions, s.deletions, s.insertions) == (1, 0, 1)
    assert s.breakdown["colloquial"] == 2
    assert s.cer == pytest.approx(2 / 3)
    assert s.lenient_cer == 0.0
    assert all("冇 (Cantonese) ↔ 沒有 (written)" in t.note for t in counted(s))
    assert_consistent(s)

    # and the other way round: a written reference, a colloquial transcript
    s = score("我冇錢", "我沒有錢", language="yue")
    assert (s.substitutions, s.deletions, s.insertions) == (1, 1, 0)
    assert s.breakdown["colloquial"] == 2
    assert s.lenient_cer == 0.0
    assert all("沒有 (written) ↔ 冇 (Cantonese)" in t.note for t in counted(s))


def test_colloquial_pairs_sharing_a_character_and_particles():
    s = score("我認識他", "我識佢", language="yue")  # 識/認識 share 識
    assert s.breakdown["colloquial"] == s.errors == 2
    assert s.lenient_cer == 0.0
    s = score("是這樣", "係咁", language="yue")  # 咁 against two characters
    assert s.breakdown["colloquial"] == s.errors == 3
    assert s.lenient_cer == 0.0
    s = score("好", "好㗎", language="yue")  # the particle 㗎 has no written form
    assert s.deletions == s.breakdown["colloquial"] == 1
    assert s.lenient_cer == 0.0


def test_colloquial_and_real_errors_in_one_stretch():
    s = score("他們在這裏食緊飯", "佢哋喺度食緊飯", language="yue")
    assert s.breakdown["colloquial"] == 3  # 佢/他 哋/們 喺/在
    assert s.breakdown["other"] == 2  # 度 against 這裏
    assert s.lenient_cer == pytest.approx(2 / 7)
    assert_consistent(s)


def test_mixed_chinese_and_latin_tokens():
    s = score("我用ＩＰｈｏｎｅ１５，價錢1,000元", "我用iPhone 15 價錢1000元。", language="zh")
    assert s.reference_length == 8  # 我 用 iphone 15 價 錢 1000 元
    assert s.cer == 0.0
    assert s.breakdown["punctuation_width"] > 0
    assert normalise_text("我用iPhone15", "zh") == "我用iphone 15"


def test_large_disagreement_still_scores_with_every_error_attributed():
    ref = "呢度係香港" * 150
    hyp = "這裏是香港" * 150
    s = score(hyp, ref, language="yue")
    assert s.errors == 450
    assert s.breakdown["colloquial"] == 450  # 呢度 ↔ 這裏 and 係 ↔ 是, all the way through
    assert s.lenient_cer == 0.0
    assert_consistent(s)


@pytest.mark.parametrize("hyp", [TV_WRITTEN, "他吃了些東西，現在在家裡看電視", "他吃了些东西，现在在家里看电视"])
def test_multi_character_pairs_of_different_lengths_are_colloquial(hyp):
    # 嘢/東西 and 睇緊/看 differ in length, 而家/現在 and 屋企/家裏 in every character
    s = score(hyp, TV_REF, language="yue")
    assert s.cer > 0
    assert s.lenient_cer == 0.0
    assert s.breakdown["colloquial"] == s.errors == 12
    assert s.breakdown["other"] == 0
    assert all(t.cause == "colloquial" for t in counted(s))
    assert_consistent(s)
    notes = " ".join(t.note for t in counted(s))
    for pair in ("嘢 ↔ 東西", "而家 ↔ 現在", "睇緊 ↔ 看"):
        assert pair in notes.replace("东西", "東西").replace("现在", "現在")


@pytest.mark.parametrize(
    ("hyp", "other", "real"),
    [
        ("他吃了些東西，現在在家裏看電影", 1, [("視", "影")]),  # a real error right after 睇緊 ↔ 看
        ("他吃了東西，現在在家裏看電視", 1, None),  # 啲 lost next to 嘢 ↔ 東西
        ("他吃了些東北，現在在家裏看電視", 2, None),  # 東北 is no written form of 嘢
        ("他吃了些東西，現在在家裏看電視機", 1, [("", "機")]),
    ],
)
def test_real_error_next_to_a_pair_is_other(hyp, other, real):
    s = score(hyp, TV_REF, language="yue")
    assert s.breakdown["other"] == other
    assert s.lenient_cer == pytest.approx(other / 14)
    assert s.lenient_cer < s.cer
    if real is not None:
        assert [(t.ref, t.hyp) for t in s.alignment if t.cause == "other"] == real
    assert_consistent(s)


@pytest.mark.parametrize(
    ("ref", "hyp"),
    [
        ("點解你唔嚟", "為什麼你不來"),
        ("點解你唔嚟", "为甚么你不来"),
        ("我哋今日返工", "我們今天上班"),
        ("佢哋鍾意傾偈", "他們喜歡聊天"),
        ("你喺邊度", "你在哪兒"),
        ("你做乜嘢", "你做甚麼"),
        ("琴日同埋聽日", "昨天和明天"),
        ("佢啱啱瞓覺", "他剛剛睡覺"),
        ("幾多錢", "多少錢"),
        ("你哋係邊個", "你們是誰"),
        ("佢噉講", "他那麼說"),
        ("我搵唔到", "我找不到"),
        ("我睇緊電視", "我在看電視"),
        ("我做緊功課", "我正在做功課"),
        ("佢食緊飯", "他吃着飯"),
        ("冇嚟", "沒有來"),
    ],
)
def test_colloquial_table_pairs_are_forgiven(ref, hyp):
    s = score(hyp, ref, language="yue")
    assert s.cer > 0
    assert s.lenient_cer == 0.0, [(t.ref, t.hyp, t.cause) for t in counted(s)]
    assert_consistent(s)
    # and the other way round: a written reference, a Cantonese transcript
    assert score(ref, hyp, language="yue").lenient_cer == 0.0


def test_progressive_緊_is_forgiven_only_after_a_verb():
    assert score("我看電視", "我睇緊電視", language="yue").lenient_cer == 0.0
    s = score("好張", "好緊張", language="yue")  # 緊張 (nervous): losing 緊 is a real error
    assert s.breakdown["other"] == 1
    assert s.lenient_cer == s.cer


def test_colloquial_table_comes_from_the_data_file():
    table = resources.files("workbench.scoring").joinpath(scoring.COLLOQUIAL_TABLE).read_text(encoding="utf-8")
    assert table.startswith("#")
    pairs = {(p.cantonese, p.written) for p in COLLOQUIAL_PAIRS}
    for pair in [
        ("而家", "現在"),
        ("屋企", "家裏"),
        ("屋企", "家裡"),
        ("嘢", "東西"),
        ("睇緊", "在看"),
        ("食緊", "吃"),
        ("㗎", ""),
        ("呢", "這"),
    ]:
        assert pair in pairs
    assert all(p.cantonese != p.written for p in COLLOQUIAL_PAIRS)
    assert not any("~" in p.cantonese + p.written for p in COLLOQUIAL_PAIRS)


def test_colloquial_table_format():
    text = "# a comment\n\n食\t吃\tto eat\n做\t=\tto do\n㗎\t-\tparticle\n~緊\t在~|~\tprogressive\n而家\t現在\n"
    pairs = {(p.cantonese, p.written, p.meaning) for p in scoring._read_colloquial_table(text)}
    assert pairs == {
        ("食", "吃", "to eat"),
        ("㗎", "", "particle"),
        ("食緊", "在吃", "to eat, progressive"),
        ("食緊", "吃", "to eat, progressive"),
        ("做緊", "在做", "to do, progressive"),
        ("做緊", "做", "to do, progressive"),
        ("而家", "現在", ""),
    }
    with pytest.raises(ScoringError, match="line 2"):
        scoring._read_colloquial_table("食\t吃\n食 吃\n")


# --------------------------------------------------------------------------
# Hallucination
# --------------------------------------------------------------------------


def test_a_loop_is_attributed_to_hallucination():
    s = score(TV_WRITTEN + "。" + "按" * 208, TV_REF, language="yue")
    assert s.hallucination is not None and s.hallucination.looped
    assert s.looped
    assert s.insertions == 208
    assert s.breakdown["hallucination"] == 207  # every 按 after the first
    assert s.breakdown["other"] == 1
    assert s.breakdown["colloquial"] == 12
    # hallucination is a real error: the lenient rate keeps it
    assert s.lenient_error_rate == pytest.approx(208 / 14)
    assert "hallucination" in COUNTED_CAUSES and "hallucination" not in FORGIVEN_CAUSES
    steps = [t for t in s.alignment if t.cause == "hallucination"]
    assert len(steps) == 207 and all(t.hyp == "按" and t.op == "insert" for t in steps)
    assert "'按' repeated 208 times" in steps[0].note
    assert_consistent(s)


def test_a_loop_that_replaces_the_speech_is_hallucination():
    s = score("按" * 208, TV_REF, language="yue")
    assert s.substitutions == 14
    assert s.breakdown["hallucination"] == 207
    assert s.breakdown["other"] == 1  # the first 按 is not beyond the loop's first occurrence
    assert_consistent(s)


@pytest.mark.parametrize("hyp", ["他吃了些東西" + "按" * 30, "按" * 30 + "他吃了些東西"])
def test_colloquial_pairs_are_found_next_to_a_loop(hyp):
    # jiwer may pair the reference with any of the 按: the pairs are still found
    s = score(hyp, "佢食咗啲嘢", language="yue")
    assert s.breakdown["colloquial"] == 6
    assert s.breakdown["hallucination"] == 29
    assert s.breakdown["other"] == 1
    assert s.lenient_error_rate == pytest.approx(30 / 5)
    assert_consistent(s)


def test_a_real_error_is_not_hallucination():
    s = score("今天天氣很差", "今天天气很好", language="zh")
    assert not s.hallucination.looped
    assert s.breakdown["hallucination"] == 0
    assert s.breakdown["other"] == 1
    assert "hallucination:" not in s.summary()
    assert 'class="wb-hallucination"' not in s.to_html()


def test_english_loop_is_attributed_per_word():
    ref = "And so my fellow Americans, ask not what your country can do for you"
    s = score(ref + ". Thank you. Thank you. Thank you. Thank you. Thank you.", ref, language="en")
    assert s.looped
    assert s.insertions == 10
    assert s.breakdown["hallucination"] == 8  # the first "thank you" is not beyond the loop's start
    assert s.breakdown["other"] == 2
    assert [t.hyp for t in s.alignment if t.cause == "hallucination"] == ["thank", "you"] * 4
    assert not score(JFK_REF, JFK_REF, language="en").looped


def test_audio_seconds_flags_too_much_text():
    text = "呢個係我嘅電話號碼，冇事唔好打俾我。"
    assert not score(text, text, language="yue").looped
    s = score(text, text, language="yue", audio_seconds=0.5)
    assert s.looped
    assert "characters for 0.5 s of audio" in s.summary()
    assert s.errors == 0  # nothing to blame on a loop when nothing repeats
    with pytest.raises(ScoringError, match="audio_seconds"):
        score(text, text, language="yue", audio_seconds=-1)


def test_hallucination_in_renderings():
    s = score(TV_WRITTEN + "按" * 208, TV_REF, language="yue", audio_seconds=3.0)
    summary = s.summary()
    assert "hallucination 207" in summary
    [line] = [line for line in summary.splitlines() if line.startswith("hallucination:")]
    assert "'按' repeated 208 times" in line and "3.0 s of audio" in line
    text = s.to_text()
    assert line in text
    marks = next(line for line in text.splitlines()[2:] if line.strip().startswith("c"))
    assert "h" not in marks or "c" in marks
    assert any(set(row.split()) == {"h"} for row in text.splitlines() if row.startswith("     ") and row.strip())
    page = s.to_html()
    assert 'class="wb-hallucination"' in page and "repeated 208 times" in page
    assert 'data-cause="hallucination"' in page
    d = json.loads(json.dumps(s.to_dict(), allow_nan=False))
    assert d["hallucination"]["looped"] is True
    assert d["hallucination"]["repeats"] == 208
    assert d["hallucination"]["spans"] == [[len(TV_WRITTEN) + 1, len(TV_WRITTEN) + 208]]
    assert d["breakdown"]["hallucination"] == 207
    assert CAUSE_LABELS["hallucination"] == "hallucination / loop"
    assert CAUSE_MARKERS["hallucination"] == "h"
    assert len(set(CAUSE_MARKERS.values())) == len(CAUSES)


def test_tables_have_a_hallucination_column():
    df = score_many(
        [
            {"id": "loop", "hypothesis": TV_WRITTEN + "按" * 50, "reference": TV_REF, "language": "yue", "audio_seconds": 3.0},
            {"id": "ok", "hypothesis": TV_WRITTEN, "reference": TV_REF, "language": "yue"},
        ]
    )
    assert "hallucination" in df.columns
    assert list(df["hallucination"]) == [49, 0, 49]
    total = df[df["id"] == "TOTAL"].iloc[0]
    assert total["lenient_error_rate"] == pytest.approx(50 / 28)


# --------------------------------------------------------------------------
# English and other word languages
# --------------------------------------------------------------------------


def test_english_is_scored_by_words_after_whisper_normalisation():
    s = score("and so my fellow americans", "And so, my fellow Americans", language="english")
    assert s.unit == "word"
    assert s.wer == 0.0
    assert s.cer is None
    assert s.reference_length == 5
    assert "EnglishTextNormalizer" in s.settings["normaliser"]

    s = score("Mister Smith's ten dollars.", "Mr. Smith's 10 dollars", language="en")
    assert s.wer == 0.0


def test_english_errors_are_counted_per_word():
    s = score("and so my fellow americans ask not what your country can do", JFK_REF, language="en")
    assert s.reference_length == 22
    assert s.deletions == 10
    assert s.wer == pytest.approx(10 / 22)
    assert s.breakdown["other"] == 10
    assert_consistent(s)


def test_other_space_delimited_language_uses_wer():
    s = score("bonjour le monde", "Bonjour, le monde !", language="fr")
    assert s.unit == "word"
    assert s.wer == 0.0


# --------------------------------------------------------------------------
# Languages and bad input
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("粤语", "yue"),
        ("粵語", "yue"),
        ("廣東話", "yue"),
        ("cantonese", "yue"),
        ("Cantonese", "yue"),
        ("yue", "yue"),
        ("普通话", "zh"),
        ("中文", "zh"),
        ("Mandarin", "zh"),
        ("chinese", "zh"),
        ("zh-Hant", "zh"),
        ("english", "en"),
        ("en-US", "en"),
        ("ja", "ja"),
        ("korean", "ko"),
        ("German", "de"),
        ("haw", "haw"),
    ],
)
def test_language_names_and_codes(name, code):
    assert normalise_language(name) == code


def test_character_languages():
    assert is_character_language("粵語")
    assert is_character_language("zh")
    assert is_character_language("ja")
    assert is_character_language("ko")
    assert not is_character_language("english")
    assert not is_character_language("fr")


def test_unknown_language_is_a_clear_error():
    with pytest.raises(ValueError, match="klingon") as info:
        score("a", "a", language="klingon")
    message = str(info.value)
    assert "yue" in message and "zh" in message and "en" in message
    assert isinstance(info.value, WorkbenchError)


def test_empty_reference_is_a_clear_error():
    with pytest.raises(ScoringError, match="reference is empty"):
        score("你好", "", language="zh")
    with pytest.raises(ScoringError, match="nothing to score"):
        score("你好", "。，！", language="zh")


def test_empty_hypothesis_deletes_everything():
    s = score("", "你好世界", language="zh")
    assert s.cer == 1.0
    assert s.deletions == 4
    assert s.breakdown["other"] == 4
    s = score("", JFK_REF, language="en")
    assert s.wer == 1.0


def test_identical_texts():
    s = score(CANTONESE_REF, CANTONESE_REF, language="yue")
    assert s.cer == 0.0
    assert all(t.cause is None for t in s.alignment)
    assert s.breakdown == dict.fromkeys(CAUSES, 0)


# --------------------------------------------------------------------------
# Renderings
# --------------------------------------------------------------------------


def test_html_marks_every_difference_with_its_cause():
    s = score("開放時間早上九点至下午五点这裏很好", "开放时间早上9点至下午5点。呢度很差", language="yue")
    page = s.to_html()
    assert page == s._repr_html_()
    spans = re.findall(r'<span class="wb-tok wb-([a-z_]+)"[^>]*?title="([^"]*)"', page)
    for t in s.alignment:
        if t.cause:
            assert (t.cause, html.escape(t.title, quote=True)) in spans
    kinds = {kind for kind, _ in spans}
    assert {"numerals", "colloquial", "other", "script", "punctuation_width"} <= kinds
    for kind, title in spans:
        assert title.startswith(scoring.CAUSE_LABELS[kind] + ":")
    assert "colloquial: 呢度 (Cantonese) ↔ 这裏 (written), &#x27;here&#x27;" in page
    assert len(set(CAUSE_COLOURS.values())) == len(CAUSES)
    for cause in CAUSES:
        assert CAUSE_COLOURS[cause] in page


def test_html_escapes_text():
    page = score("你<i>好&", "你好", language="zh").to_html()
    assert "<i>" not in page
    assert "&lt;" in page and "&amp;" in page


def test_text_rendering_for_terminals():
    s = score(WRITTEN_HYP, CANTONESE_REF, language="yue")
    text = s.to_text()
    lines = text.splitlines()
    ref_line = next(line for line in lines if line.startswith("REF"))
    hyp_line = next(line for line in lines if line.startswith("HYP"))
    assert "呢" in ref_line and "這" in hyp_line
    assert ref_line.index("呢") == hyp_line.index("這")  # aligned columns
    assert "CER 0.200 strict, 0.000 lenient" in text
    assert "colloquial 3" in text


def rendered_rows(text: str, label: str) -> str:
    """The text of every REF (or HYP) row of :meth:`Score.to_text`, gaps and missing markers dropped."""
    cells = []
    for line in text.splitlines():
        if line.startswith(label + "  "):
            cells += [c for c in line[len(label) + 2 :].split() if set(c) != {"*"}]
    return "".join(cells)


@pytest.mark.parametrize(
    ("hyp", "ref"),
    [
        (TV_WRITTEN, TV_REF),
        ("他吃了些東西，現在在家裏。看電視！", TV_REF),
        (WRITTEN_HYP, CANTONESE_REF),
        ("開放時間：早上九點，至下午五點", MANDARIN_REF),
        ("，你好世界。", "你好，世界"),
    ],
)
def test_punctuation_stays_where_it_stands_in_each_text(hyp, ref):
    s = score(hyp, ref, language="yue")
    # the alignment's rows read as the texts do
    assert "".join(t.ref for t in s.alignment) == ref
    assert "".join(t.hyp for t in s.alignment) == hyp
    text = s.to_text(width=500)
    assert rendered_rows(text, "REF") == ref
    assert rendered_rows(text, "HYP") == hyp
    page = s.to_html()
    refs = re.findall(r"<span class=\"wb-ref\">(.*?)</span><span class=\"wb-hyp\">", page)
    assert "".join(r for r in refs if "∅" not in r) == ref


def test_reference_comma_follows_its_character():
    s = score(TV_WRITTEN, TV_REF, language="yue")
    refs = [t.ref for t in s.alignment if t.ref]
    assert refs[refs.index("，") - 1] == "嘢"
    hyps = [t.hyp for t in s.alignment if t.hyp]
    assert hyps[hyps.index("，") - 1] == "西"
    assert s.breakdown["punctuation_width"] == 1  # the final 。 only: both texts have the comma


def test_to_dict_is_json():
    s = score(WRITTEN_HYP, CANTONESE_REF, language="yue")
    d = json.loads(json.dumps(s.to_dict(), allow_nan=False))
    assert d["cer"] == 0.2
    assert d["lenient_cer"] == 0.0
    assert d["breakdown"]["colloquial"] == 3
    assert d["alignment"][0] == {"op": "substitute", "ref": "呢", "hyp": "這", "cause": "colloquial", "note": s.alignment[0].note}


@pytest.mark.parametrize("module", ["workbench.scoring", *(f"workbench.scoring.{m.name}" for m in pkgutil.iter_modules(scoring.__path__))])
def test_docstring_examples_run(module):
    assert doctest.testmod(importlib.import_module(module)).failed == 0


# --------------------------------------------------------------------------
# Many transcripts
# --------------------------------------------------------------------------


def write_manifest(folder, rows):
    lines = ["path,language,reference"] + [f"{p},{lang},{ref}" for p, lang, ref in rows]
    path = folder / "manifest.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_manifest_totals_come_from_summed_counts(tmp_path):
    manifest = write_manifest(tmp_path, [("a.wav", "zh", "你好"), ("sub/b.wav", "zh", "今天天气很好我们去公园")])
    results = [
        {"path": str(tmp_path / "a.wav"), "text": "你"},  # 1 error in 2
        {"path": r"C:\runs\b.wav", "text": "今天天气很好我们去公园", "seconds": 1.2},  # 0 in 11, matched by name
        {"path": "elsewhere/c.wav", "text": "多余"},
    ]
    df = score_manifest(results, manifest)
    clips = df[df["path"] != "TOTAL"]
    assert list(clips["path"]) == ["a.wav", "sub/b.wav"]
    assert list(clips["error_rate"]) == [0.5, 0.0]
    total = df[df["path"] == "TOTAL"].iloc[0]
    assert total["reference_length"] == 13
    assert total["deletions"] == 1
    assert total["error_rate"] == pytest.approx(1 / 13)  # not the mean of rates (0.25)
    assert total["other"] == 1
    assert df.attrs["unmatched"] == ["elsewhere/c.wav"]
    assert df.attrs["missing"] == []


def test_manifest_keeps_rows_that_cannot_be_scored(tmp_path):
    manifest = write_manifest(tmp_path, [("a.wav", "zh", "你好"), ("b.wav", "zh", ""), ("c.wav", "zh", "好")])
    df = score_manifest({"a.wav": "你好", "b.wav": "什么"}, manifest)
    assert "reference is empty" in df.loc[df["path"] == "b.wav", "error"].item()
    total = df[df["path"] == "TOTAL"].iloc[0]
    assert total["reference_length"] == 2
    assert df.attrs["missing"] == ["c.wav"]


def test_manifest_errors(tmp_path):
    with pytest.raises(ScoringError, match="does not exist"):
        score_manifest([], tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("file,text\na.wav,hi\n", encoding="utf-8")
    with pytest.raises(ScoringError, match="no path or reference column"):
        score_manifest([{"path": "a.wav", "text": "hi"}], bad)
    manifest = write_manifest(tmp_path, [("a.wav", "zh", "你好")])
    with pytest.raises(ScoringError, match="none of the 1 results"):
        score_manifest([{"path": "z.wav", "text": "hi"}], manifest)


def test_score_many_mixed_units_total_per_unit():
    df = score_many([(WRITTEN_HYP, CANTONESE_REF, "yue"), ("hello word", "hello world", "en")])
    assert list(df["id"]) == [0, 1, "TOTAL (char)", "TOTAL (word)"]
    assert df.loc[df["id"] == "TOTAL (char)", "error_rate"].item() == pytest.approx(0.2)
    assert df.loc[df["id"] == "TOTAL (word)", "error_rate"].item() == pytest.approx(0.5)
    assert df.loc[df["id"] == "TOTAL (char)", "lenient_error_rate"].item() == 0.0


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def run_score(*argv):
    parser = argparse.ArgumentParser(prog="workbench")
    add_score_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["score", *argv])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert args.func(args) == 0
    return out.getvalue()


def test_cli_json():
    d = json.loads(run_score("--hyp", WRITTEN_HYP, "--ref", CANTONESE_REF, "--language", "yue", "--json"))
    assert d["cer"] == 0.2
    assert d["lenient_cer"] == 0.0
    assert d["substitutions"] == 3
    assert d["breakdown"]["colloquial"] == 3


def test_cli_text_and_empty_hypothesis():
    text = run_score("--hyp", "", "--ref", "你好", "--language", "普通话")
    assert text.startswith("REF")
    assert "CER 1.000 strict" in text


def test_cli_bad_input_is_a_workbench_error():
    with pytest.raises(WorkbenchError, match="--hyp and --ref go together"):
        run_score("--hyp", "x", "--language", "zh")
    with pytest.raises(WorkbenchError, match="--language is required"):
        run_score("--hyp", "x", "--ref", "y")
    with pytest.raises(WorkbenchError, match="unknown language"):
        run_score("--hyp", "x", "--ref", "y", "--language", "xx")


def test_cli_scores_a_run_against_a_manifest(tmp_path):
    manifest = write_manifest(tmp_path, [("zh.wav", "zh", MANDARIN_REF)])
    run = tmp_path / "run.jsonl"
    run.write_text(json.dumps({"path": "zh.wav", "text": "开放时间早上九点至下午五点"}, ensure_ascii=False) + "\n", encoding="utf-8")
    d = json.loads(run_score("--results", str(run), "--manifest", str(manifest), "--json"))
    clip, total = d["rows"]
    assert clip["path"] == "zh.wav"
    assert clip["numerals"] == 2
    assert total["path"] == "TOTAL"
    assert total["lenient_error_rate"] == 0.0
    text = run_score("--results", str(run), "--manifest", str(manifest))
    assert "zh.wav" in text and "TOTAL" in text
