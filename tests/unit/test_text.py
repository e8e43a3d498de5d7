"""The shared text rules (monitor.text): CJK characters, dates, folding.

One table per rule; the last tests check that the parts that split text into
words (rules, near-duplicate signatures, search) all use the same CJK class.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from monitor.dedup.signatures import tokens as signature_tokens
from monitor.rules.text import TOKEN_RE, is_cjk
from monitor.text.cjk import CJK, HAN, KANA, display_weight, has_cjk
from monitor.text.dates import (
    find_numeric_date,
    first_iso_date,
    normalize_date,
    parse_iso_datetime,
    plausible_date,
    printed_date,
)
from monitor.text.normalize import (
    fold_case_and_width,
    normalize_text,
    traditional_to_simplified,
)

UTC = timezone.utc

# -- CJK ---------------------------------------------------------------------------------------

CHARACTERS = [  # (character, is Han, is kana)
    ("中", True, False),
    ("㐀", True, False),           # Extension A
    ("𠀀", True, False),           # Extension B (U+20000)
    ("𰀀", True, False),           # Extension G (U+30000)
    ("豈", True, False),           # compatibility ideograph (U+F900)
    ("々", True, False),           # iteration mark: 人々
    ("〇", True, False),           # ideographic zero: 二〇二四年
    ("あ", False, True),
    ("カ", False, True),
    ("한", False, False),          # Hangul is spaced into words: not one-character words
    ("a", False, False),
    ("，", False, False),          # full-width punctuation
    ("。", False, False),
]


@pytest.mark.parametrize(("char", "han", "kana"), CHARACTERS)
def test_cjk_classes(char: str, han: bool, kana: bool) -> None:
    assert bool(HAN.match(char)) is han
    assert bool(KANA.match(char)) is kana
    assert bool(CJK.match(char)) is (han or kana)
    assert has_cjk(f"abc {char} def") is (han or kana)


@pytest.mark.parametrize(("text", "weight"), [
    ("", 0),
    ("plain words", 11),
    ("新质生产力", 15),
    ("5G手机", 8),
    ("ニュース", 12),
    ("𠀀", 3),
    ("한국", 2),
])
def test_display_weight_counts_cjk_triple(text: str, weight: int) -> None:
    assert display_weight(text) == weight


@pytest.mark.parametrize("char", [char for char, _han, _kana in CHARACTERS])
def test_rules_and_signatures_agree_on_cjk(char: str) -> None:
    """A CJK character is a word of its own for rule matching and near-duplicate shingles alike."""
    text = f"x{char}{char}y"
    expected = ["x", char, char, "y"] if CJK.match(char) else None
    rule_tokens = TOKEN_RE.findall(fold_case_and_width(text))
    if expected is not None:
        assert is_cjk(char)
        assert rule_tokens == expected
        assert signature_tokens(text) == expected
    else:
        assert not is_cjk(char)


# -- dates -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("parts", "expected"), [
    ((2024, 3, 9), "2024-03-09"),
    ((1990, 1, 1), "1990-01-01"),
    ((2100, 12, 31), "2100-12-31"),
    ((1989, 12, 31), None),        # before any archive: a number that looks like a date
    ((2101, 1, 1), None),
    ((2024, 13, 1), None),
    ((2024, 0, 1), None),
    ((2024, 1, 32), None),
])
def test_plausible_date(parts: tuple[int, int, int], expected: str | None) -> None:
    assert plausible_date(*parts) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-03-09", "2024-03-09"),
    ("2024/3/9 10:30", "2024-03-09"),
    ("2024.03.09", "2024-03-09"),
    ("2024年3月9日", "2024-03-09"),
    ("1900-03-09", None),
    ("Published 2024-03-09", None),  # only at the start
    ("20240309", None),
])
def test_normalize_date(text: str, expected: str | None) -> None:
    assert normalize_date(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Published 2024-03-09 by the desk", "2024-03-09"),
    ("发布时间：2023年12月8日", "2023-12-08"),
    ("1900-01-01 then 2024-03-09", None),  # the first date decides
    ("no date here", None),
])
def test_find_numeric_date(text: str, expected: str | None) -> None:
    assert find_numeric_date(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-03-09", "2024-03-09"),
    ("09/03/2024", None),             # ambiguous: day or month first
    ("25/03/2024", "2024-03-25"),
    ("03/25/2024", "2024-03-25"),
    ("March 9, 2024", "2024-03-09"),
    ("Sept. 21st, 2023", "2023-09-21"),
    ("9 de março de 2024", "2024-03-09"),
    ("12. Februar 2024", "2024-02-12"),
    ("9 juin 2024", "2024-06-09"),
    ("Smarch 9, 2024", None),
    ("March 9, 1889", None),
])
def test_printed_date(text: str, expected: str | None) -> None:
    assert printed_date(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-03-09T08:00:00+08:00", "2024-03-09"),
    ("published 2024-03-09", "2024-03-09"),
    ("1970-01-01T00:00:00Z", None),
    ("", None),
    (None, None),
])
def test_first_iso_date(text: str | None, expected: str | None) -> None:
    assert first_iso_date(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-03-09T10:00:00Z", datetime(2024, 3, 9, 10, tzinfo=UTC)),
    ("2024-03-09T10:00:00.250Z", datetime(2024, 3, 9, 10, 0, 0, 250000, tzinfo=UTC)),
    ("2024-03-09T18:00:00+08:00", datetime(2024, 3, 9, 18, tzinfo=timezone(timedelta(hours=8)))),
    ("2024-03-09T10:00:00", datetime(2024, 3, 9, 10, tzinfo=UTC)),  # no zone: UTC
    ("2024-03-09", datetime(2024, 3, 9, tzinfo=UTC)),
])
def test_parse_iso_datetime(text: str, expected: datetime) -> None:
    parsed = parse_iso_datetime(text)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("text", ["", "yesterday", "Sat, 09 Mar 2024 10:00:00 GMT", "2024-13-01T00:00:00Z"])
def test_parse_iso_datetime_refuses_other_forms(text: str) -> None:
    with pytest.raises(ValueError):
        parse_iso_datetime(text)


# -- folding -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Xinhua NEWS", "xinhua news"),
    ("STRASSE", "strasse"),
    ("Straße", "strasse"),          # casefold, not lower
    ("ＡＢＣ１２３", "abc123"),       # full-width letters and digits
    ("ﬁnance", "finance"),          # ligature
    ("新质生产力", "新质生产力"),
])
def test_fold_case_and_width(text: str, expected: str) -> None:
    assert fold_case_and_width(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("  Hello,   World! ", "hello world"),
    ("Ｈｅｌｌｏ——ｗｏｒｌｄ", "hello world"),
    ("“新质生产力”，发展！", "新质生产力 发展"),
    ("snake_case", "snake case"),
    ("...", ""),
])
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("責任編輯：王亮", "责任编辑：王亮"),
    ("相關新聞", "相关新闻"),
    ("already simplified 编辑", "already simplified 编辑"),
    ("ASCII only", "ASCII only"),
])
def test_traditional_to_simplified_keeps_offsets(text: str, expected: str) -> None:
    assert traditional_to_simplified(text) == expected
    assert len(traditional_to_simplified(text)) == len(text)
