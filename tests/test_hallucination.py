"""Hallucination detection: loops, over-compressible text and text the audio cannot hold are flagged; speech is not."""

from __future__ import annotations

import dataclasses
import doctest
import zlib

import pytest

from workbench import hallucination
from workbench.hallucination import COMPRESSION_RATIO_THRESHOLD, Hallucination, compression_ratio, detect

CORRECT = "佢食咗啲嘢，而家喺屋企睇緊電視。"
JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
# 200 characters of ordinary Cantonese prose: no phrase repeats back to back.
PROSE = (
    "香港係一個國際大都會，人口大約有七百五十萬。每日都有好多遊客嚟呢度購物同食嘢。"
    "我哋今日去咗尖沙咀，睇咗海景，仲食咗好多街頭小食。聽日我哋打算去大嶼山睇大佛，"
    "然後坐纜車返嚟。天氣預報話聽日會落雨，所以我哋要帶遮。呢個城市嘅交通好方便，"
    "地鐵同巴士都去到好多地方。不過樓價真係好貴，好多年輕人都買唔起樓。政府話會增加土地供應，"
    "希望可以解決住屋問題。教育方面，香港有好幾間大學排名都幾高，吸引咗好多海外學生。"
)
NORMAL_SPEECH = [
    (JFK, "en"),
    ("The weather today is sunny, with a light breeze from the west.", "en"),
    ("No, no, no, that's not what I said. I said the meeting is at three, not at two.", "en"),
    (CORRECT, "yue"),
    ("我哋今日去飲茶，你嚟唔嚟呀？", "yue"),
    ("呢個係我嘅電話號碼，冇事唔好打俾我。", "yue"),
    ("對對對對，係呀係呀係呀，我都係咁諗。", "yue"),
    ("哈哈哈哈，好好笑呀。", "yue"),
    ("开放时间早上九点至下午五点。", "zh"),
    ("今天天气很好，我们一起去公园散步吧，好不好？", "zh"),
    (PROSE, "yue"),
]


def test_a_character_loop_after_a_correct_transcript():
    text = CORRECT + "按" * 208
    h = detect(text, language="yue")
    assert h.looped
    assert h.longest_repeat == "按"
    assert h.repeats == 208
    # everything after the loop's first 按 is what the loop added
    assert h.spans == ((len(CORRECT) + 1, len(text)),)
    assert any("'按' repeated 208 times" in r for r in h.reasons)
    assert h.compression_ratio > COMPRESSION_RATIO_THRESHOLD
    assert any("compresses" in r and "2.4" in r for r in h.reasons)


def test_a_phrase_loop_is_found_at_its_sentence_boundary():
    text = "And so my fellow Americans. " + "Thank you. " * 6
    h = detect(text.strip(), language="en")
    assert h.looped
    assert h.longest_repeat == "Thank you."
    assert h.repeats == 6
    [(start, end)] = h.spans
    assert text[start:end].startswith("Thank you.")
    assert text[:start].count("Thank you") == 1  # the first occurrence is not part of the span
    assert h.unit == "word"


@pytest.mark.parametrize(("text", "language"), NORMAL_SPEECH)
def test_normal_speech_is_not_flagged(text, language):
    h = detect(text, audio_seconds=len(text) / 5 + 1, language=language)
    assert not h.looped, h.reasons
    assert h.reasons == ()
    assert h.spans == ()
    assert not h


def test_jfk_is_not_flagged_with_or_without_duration():
    assert not detect(JFK, language="en").looped
    assert not detect(JFK, audio_seconds=11.0, language="en").looped
    assert not detect(JFK).looped  # language detected from the text


def test_too_much_text_for_the_audio_is_flagged_by_rate():
    assert len(PROSE) == 200
    characters = sum(ch.isalnum() for ch in PROSE)  # punctuation is not spoken
    assert characters == 181
    h = detect(PROSE, audio_seconds=2.0, language="yue")
    assert h.looped
    assert h.chars_per_second == pytest.approx(90.5)
    [reason] = h.reasons
    assert reason.startswith("181 characters for 2.0 s of audio")
    assert h.spans == ()  # nothing repeats: no characters to blame on a loop

    h = detect(PROSE, language="yue")  # no duration: no rate test
    assert not h.looped
    assert h.chars_per_second is None

    assert not detect(PROSE, audio_seconds=40.0, language="yue").looped  # 5 characters a second is speech


def test_rate_counts_words_for_word_languages():
    h = detect(JFK, audio_seconds=1.0, language="en")
    assert h.looped
    assert h.unit == "word"
    assert h.chars_per_second == pytest.approx(22.0)
    assert "22 words for 1.0 s" in h.reasons[0]


def test_without_duration_a_loop_is_still_found():
    h = detect(CORRECT + "按" * 208)
    assert h.looped and h.repeats == 208 and h.chars_per_second is None


def test_compression_ratio_is_whispers():
    text = "我哋去咗公園玩。" * 3
    data = text.encode("utf-8")
    assert compression_ratio(text) == len(data) / len(zlib.compress(data))
    assert compression_ratio("") == 0.0


def test_repetitive_text_without_a_back_to_back_loop_is_flagged_by_compression():
    # every sentence differs in one character, so no unit repeats back to back
    text = "".join(f"第{n}次我哋去咗公園玩得好開心。" for n in "一二三四五六七八九十")
    h = detect(text, language="yue")
    assert h.repeats == 0
    assert h.compression_ratio > COMPRESSION_RATIO_THRESHOLD
    assert h.looped
    [reason] = h.reasons
    assert f"compresses {h.compression_ratio:.1f}:1" in reason


def test_short_texts_are_not_judged_by_compression():
    h = detect("好好好好好好", language="yue")
    assert compression_ratio("好" * 20) > COMPRESSION_RATIO_THRESHOLD  # short and repetitive...
    assert not detect("好" * 6, language="yue").looped  # ...but 6 characters are no loop
    assert not h.looped


def test_a_loop_inside_long_text_is_found_window_by_window():
    text = PROSE + "我哋去咗公園。" * 12 + PROSE[::-1]
    h = detect(text, language="yue")
    assert h.looped
    assert h.longest_repeat == "我哋去咗公園。"
    [(start, end)] = h.spans
    assert start == len(PROSE) + len("我哋去咗公園。")
    assert end <= len(PROSE) + len("我哋去咗公園。") * 12


def test_long_text_is_judged_window_by_window():
    # a repetitive stretch inside long ordinary text: the whole text compresses
    # less than 2.4:1, but the 30-second window Whisper would judge does not
    block = "".join(f"第{n}次我哋去咗公園玩得好開心。" for n in "一二三四五六七八九十")
    text = PROSE + block + PROSE[::-1] + PROSE[1::2] + PROSE[::-2]
    assert compression_ratio(text) < COMPRESSION_RATIO_THRESHOLD
    h = detect(text, language="yue")
    assert h.looped
    assert h.compression_ratio > COMPRESSION_RATIO_THRESHOLD
    assert not detect(PROSE + PROSE[::-1] + PROSE[1::2] + PROSE[::-2], language="yue").looped


def test_bad_input():
    with pytest.raises(ValueError, match="audio_seconds"):
        detect("你好", audio_seconds=-1)
    with pytest.raises(ValueError, match="audio_seconds"):
        detect("你好", audio_seconds=float("nan"))
    with pytest.raises(ValueError):
        detect("你好", language="klingon")
    with pytest.raises(TypeError):
        detect(None)


def test_empty_text():
    h = detect("", audio_seconds=3.0, language="yue")
    assert not h.looped
    assert (h.compression_ratio, h.longest_repeat, h.repeats, h.chars_per_second, h.spans) == (0.0, "", 0, 0.0, ())


def test_result_is_frozen():
    h = detect(CORRECT, language="yue")
    assert isinstance(h, Hallucination)
    with pytest.raises(dataclasses.FrozenInstanceError):
        h.looped = True


def test_docstring_examples_run():
    assert doctest.testmod(hallucination).failed == 0
