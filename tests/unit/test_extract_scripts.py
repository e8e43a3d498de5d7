"""Extraction across scripts and the never-worse-than-trafilatura guard.

Table-driven over tests/fixtures/extract_scripts/: one small real-shaped page
per script (Japanese, Korean, Chinese, Spanish, German, Arabic, Hebrew) and a
GB2312 newspaper template whose layout table holds the body, a related-headline
list and a hot-news box. Each page's JSON says which paragraphs must be kept
and which chrome must not be.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.extract import extract_article
from monitor.text.scripts import ends_sentence, is_prose, split_sentences, text_weight

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "extract_scripts"
CASES = sorted(FIXTURES.glob("*.json"))


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_script_has_a_fixture():
    assert {case.stem.split("_")[0] for case in CASES} >= {"ja", "ko", "zh", "es", "de", "ar", "he"}


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_script_fixture(case: Path):
    expected = json.loads(case.read_text(encoding="utf-8"))
    result = extract_article(case.with_suffix(".html").read_bytes(), url=f"https://example.org/{case.stem}.html")
    assert result.text, result.reason
    assert result.encoding == expected["encoding"]
    assert result.language == expected["language"]
    text = _flat(result.text)
    for paragraph in expected["contains"]:
        assert _flat(paragraph) in text
    for chrome in expected["absent"]:
        assert chrome not in text


# -- never worse than trafilatura -----------------------------------------------------------

_PARAGRAPH = ("The council voted on Tuesday to extend the tram line to the northern districts, a project "
              "that has been debated for more than a decade and will cost about two hundred million euros. ")


def test_article_in_chrome_classed_blocks_falls_back_to_trafilatura():
    """A template that wraps every paragraph in a 'related'-classed block: the class rule would keep only
    the longest few paragraphs; trafilatura finds them all, so its text wins and the result says why."""
    paragraphs = "".join(f'<div class="related-block"><p>{i}. {_PARAGRAPH * (1 + i % 2)}</p></div>'
                         for i in range(8))
    html = f"<html><body><h1>Tram line</h1><div class='story'>{paragraphs}</div></body></html>".encode()
    result = extract_article(html)
    assert all(f"{i}. The council" in result.text for i in range(8))
    assert result.fallbacks and result.fallbacks[-1].startswith("dom:")


def test_ordinary_page_has_no_fallback():
    html = f"<html><body><article><p>{_PARAGRAPH}</p><p>{_PARAGRAPH[::-1]}</p></article></body></html>".encode()
    result = extract_article(html)
    assert result.text and result.fallbacks == ()


def test_korean_short_paragraphs_are_an_article():
    """Korean paragraphs are short in characters (Hangul syllables carry more than Latin letters):
    they used to count as 'only short lines' and the page came back empty."""
    lines = ["서울시는 다음 달부터 지하철 기본요금을 올린다고 밝혔다.", "시는 적자가 계속 늘어 요금 조정이 불가피하다고 설명했다.",
             "시민들은 물가가 오르는 상황에서 부담이 커졌다고 말했다."]
    html = ("<html lang='ko'><body><article>" + "".join(f"<p>{line}</p>" for line in lines)
            + "</article></body></html>").encode()
    result = extract_article(html)
    assert result.text, result.reason
    assert all(line in result.text for line in lines)


# -- script rules (monitor.text.scripts) ----------------------------------------------------

@pytest.mark.parametrize(("line", "ends"), [
    ("It rained.", True), ("「本当ですか？」", True), ("東京は晴れ。", True), ("서울은 맑다.", True),
    ("¿Vienes mañana?", True), ("«Es una ley justa.»", True), ("هل هذا صحيح؟", True), ("انتهى الاجتماع.", True),
    ("זה נכון.", True), ("यह सच है।", True), ("Related stories", False), ("相关新闻", False), ("", False),
])
def test_ends_sentence(line, ends):
    assert ends_sentence(line) is ends


def test_split_sentences_without_spaces():
    assert split_sentences("東京は晴れ。明日は雨でしょう！「本当？」と彼は言った。") == [
        "東京は晴れ。", "明日は雨でしょう！", "「本当？」", "と彼は言った。"]
    assert split_sentences("¿Qué pasa? Nada. «Bien.» Fin") == ["¿Qué pasa?", "Nada.", "«Bien.»", "Fin"]
    assert split_sentences("هل هذا صحيح؟ نعم.") == ["هل هذا صحيح؟", "نعم."]


def test_text_weight_and_prose():
    assert text_weight("abc") == 3
    assert text_weight("東京") == 6
    assert text_weight("서울") == 5
    assert is_prose("国家统计局十二日发布数据显示，今年全国粮食总产量再创历史新高。")
    assert not is_prose("我国外贸进出口连续三个月正增长")
    assert not is_prose("Short line.")
