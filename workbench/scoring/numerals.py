"""Numbers written in Arabic digits, Chinese numerals or both, and their values.

``9`` and ``九``, ``15`` and ``十五``, ``3万`` and ``三萬`` are the same number:
a difference between them is attributed to ``numerals``, which the lenient
error rate forgives.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CHINESE_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
    "壹": 1, "贰": 2, "貳": 2, "叁": 3, "參": 3, "肆": 4, "伍": 5, "陆": 6, "陸": 6, "柒": 7, "捌": 8, "玖": 9,
}  # fmt: skip
"""Chinese digits, including the financial forms and 幺 (one, in phone numbers)."""

CHINESE_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CHINESE_MYRIADS = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
CHINESE_TENS = {"廿": "二十", "卅": "三十", "卌": "四十"}
"""Contracted tens, common in Cantonese: 廿五 is 二十五."""
CHINESE_DECIMAL_POINTS = frozenset("点點")

MAX_NUMERAL_TOKENS = 16
"""Longest run of tokens read as one number."""

_NUMERAL_CHARS = frozenset(CHINESE_DIGITS) | frozenset(CHINESE_UNITS) | frozenset(CHINESE_MYRIADS) | frozenset(CHINESE_TENS)


def _is_arabic_number(token: str) -> bool:
    try:
        Decimal(token)
    except InvalidOperation:
        return False
    return token[:1].isdigit() and token[-1:].isdigit()


def _chinese_integer(text: str) -> int | None:
    """Value of a Chinese integer (三百零五, 二零二三, 十五), or None."""
    if not text:
        return None
    if all(ch in CHINESE_DIGITS for ch in text):  # read digit by digit: 二零二三
        return int("".join(str(CHINESE_DIGITS[ch]) for ch in text))
    total, section, digit, previous = 0, 0, None, None
    for ch in text:
        if ch in CHINESE_DIGITS:
            if previous in CHINESE_DIGITS and CHINESE_DIGITS[previous] != 0:
                return None  # 三四十: an estimate, not a number
            digit = CHINESE_DIGITS[ch]
        elif ch in CHINESE_UNITS:
            section += (1 if digit is None else digit) * CHINESE_UNITS[ch]
            digit = None
        elif ch in CHINESE_MYRIADS:
            chunk = section + (digit or 0)
            if chunk == 0 and total == 0:
                return None
            total = (total + chunk) * CHINESE_MYRIADS[ch]
            section, digit = 0, None
        else:
            return None
        previous = ch
    return total + section + (digit or 0)


def _numeral_value(text: str) -> Decimal | None:
    """Value of a number written in Arabic digits, Chinese numerals or both (3万), or None."""
    if not text:
        return None
    for short, full in CHINESE_TENS.items():
        text = text.replace(short, full)
    if _is_arabic_number(text):
        return Decimal(text)
    head = text.rstrip("".join(CHINESE_UNITS) + "".join(CHINESE_MYRIADS))
    if head != text and _is_arabic_number(head):  # 3万, 1.5亿
        value = Decimal(head)
        for ch in text[len(head) :]:
            value *= CHINESE_UNITS.get(ch) or CHINESE_MYRIADS[ch]
        return value
    if any(ch.isdigit() for ch in text):
        return None
    points = [i for i, ch in enumerate(text) if ch in CHINESE_DECIMAL_POINTS]
    if len(points) == 1:  # 三点五
        whole, fraction = text[: points[0]], text[points[0] + 1 :]
        if not fraction or not all(ch in CHINESE_DIGITS for ch in fraction):
            return None
        integer = _chinese_integer(whole)
        if integer is None:
            return None
        return Decimal(f"{integer}.{''.join(str(CHINESE_DIGITS[ch]) for ch in fraction)}")
    if points:
        return None
    integer = _chinese_integer(text)
    return None if integer is None else Decimal(integer)


def _is_numeral_token(token: str) -> bool:
    return _is_arabic_number(token) or (len(token) == 1 and (token in _NUMERAL_CHARS or token in CHINESE_DECIMAL_POINTS))


def _format_number(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")
