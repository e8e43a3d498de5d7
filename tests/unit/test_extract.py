"""Extraction: real-shaped pages with expected results beside them (the
replay site's manifest), encodings, and hostile input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config import ExtractHints
from monitor.extract import decode_html, extract_article

SITE = Path(__file__).resolve().parents[2] / "replay" / "site"
MANIFEST = json.loads((SITE / "manifest.json").read_text(encoding="utf-8"))


def page_file(path: str) -> Path:
    file = SITE / path.lstrip("/")
    return file / "index.html" if file.is_dir() else file


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
FIXTURE_PAGES = sorted(FIXTURES.glob("*/*.html"))


@pytest.mark.parametrize("page", FIXTURE_PAGES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_pages(page):
    """Each real-shaped page against the expected JSON beside it: every body
    paragraph kept, once; no listed chrome string anywhere; metadata right."""
    expected = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    # Served as the real sites serve them: the Chinese newspaper sends no charset header.
    result = extract_article(page.read_bytes(), url=expected["url"], content_type="text/html")
    paragraphs = result.text.split("\n\n")
    for sentence in expected["body_contains"]:
        assert paragraphs.count(sentence) == 1, f"lost or repeated: {sentence[:60]!r}"
    for chrome in expected["chrome_absent"]:
        assert chrome not in result.text, f"chrome left: {chrome!r}"
        assert chrome not in (result.title or "")
    assert result.title == expected["title"]
    assert result.date == expected["date"]
    assert result.language == expected["language"]
    assert result.encoding == expected["encoding"]


def test_at_least_three_fixtures_per_source():
    per_source = {folder.name: len(list(folder.glob("*.html"))) for folder in FIXTURES.iterdir()}
    assert set(per_source) >= {"xinhua_english", "jjckb", "gzgov_wordpress", "tech_blog", "contentfarm"}
    assert min(per_source.values()) >= 3


def test_metadata_lines_become_fields():
    jjckb = next(p for p in MANIFEST["pages"] if p["path"].endswith("t20231208_1234567.htm"))
    result = extract_article(page_file(jjckb["path"]).read_bytes())
    assert result.outlet == "Economic Information Daily"
    assert "Source:" not in result.text
    xinhua = next(p for p in MANIFEST["pages"] if p["path"].endswith("a1b2c3d4e5f6/c.html"))
    result = extract_article(page_file(xinhua["path"]).read_bytes())
    assert result.captions and result.captions[0].startswith("A researcher conducts pre-launch preparation")
    blog = next(p for p in MANIFEST["pages"] if p["source"] == "tech_blog")
    result = extract_article(page_file(blog["path"]).read_bytes())
    assert result.date == "2021-06-10" and " date " not in result.text


def test_repeated_paragraphs_kept_once():
    farm = next(p for p in MANIFEST["pages"] if p["source"] == "contentfarm")
    text = extract_article(page_file(farm["path"]).read_bytes()).text
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == len(set(paragraphs))


ARTICLE_ZH = "<p>" + "加快形成新质生产力，推动高质量发展。北京、上海等地整合科技创新资源，发展战略性新兴产业。" * 3 + "</p>"
ARTICLE_TW = "<p>" + "加快形成新質生產力，推動高質量發展。北京、上海等地整合科技創新資源，發展戰略性新興產業。" * 3 + "</p>"
ARTICLE_EN = "<p>" + "The company plans to make more breakthroughs in solving bottleneck problems this year. " * 4 + "</p>"


def html(body: str, meta: str = "", title: str = "标题") -> str:
    return f"<html><head>{meta}<title>{title}</title></head><body><article>{body}{body.replace('。', '！')}</article></body></html>"


@pytest.mark.parametrize("label, data, content_type, codec", [
    ("utf-8 declared", html(ARTICLE_ZH, '<meta charset="utf-8">').encode("utf-8"), None, "utf-8"),
    ("gb2312 declared, gb18030 bytes", html(ARTICLE_ZH + "<p>王喆、朱镕基</p>", '<meta charset="gb2312">').encode("gb18030"),
     None, "gb18030"),
    ("gbk in header only", html(ARTICLE_ZH).encode("gbk"), "text/html; charset=GBK", "gb18030"),
    ("gbk, no declaration", html(ARTICLE_ZH).encode("gbk"), "text/html", None),
    ("big5 declared", html(ARTICLE_TW, '<meta charset="big5">', title="標題").encode("big5"),
     None, "big5hkscs"),
    ("wrong declaration: says gb2312, is utf-8", html(ARTICLE_ZH, '<meta charset="gb2312">').encode("utf-8"), None, None),
    ("utf-8 BOM", b"\xef\xbb\xbf" + html(ARTICLE_ZH).encode("utf-8"), None, "utf-8"),
])
def test_encodings(label, data, content_type, codec):
    text, used = decode_html(data, content_type)
    assert "生产力" in text or "生產力" in text, label
    if codec:
        assert used == codec
    result = extract_article(data, content_type=content_type)
    assert "新兴产业" in result.text or "新興產業" in result.text or "生產力" in result.text, label
    assert result.language == "zh"


def test_hints_select_content_and_drop():
    page = (f"<html><body><div id='main'>{ARTICLE_EN}<p class='promo'>Subscribe now for 1 dollar a week to read "
            f"more stories like this one from our newsroom.</p></div><div id='other'>{ARTICLE_EN.replace('company', 'rival')}"
            "</div><span class='when'>Published 2024-03-09</span></body></html>").encode()
    hints = ExtractHints(content_selector="#main", drop_selectors=[".promo"], date_selector=".when")
    result = extract_article(page, hints=hints)
    assert "company plans" in result.text and "rival" not in result.text and "Subscribe" not in result.text
    assert result.date == "2024-03-09"


def test_learned_boilerplate_dropped():
    page = html(ARTICLE_EN + "<p>Follow us on WeChat for daily updates and special reports from our team.</p>").encode()
    from monitor.dedup import normalize_text

    result = extract_article(page, boilerplate=frozenset(
        {normalize_text("Follow us on WeChat for daily updates and special reports from our team.")}))
    assert "WeChat" not in result.text and "company plans" in result.text


BAD_INPUTS = [
    ("empty", b"", "empty"),
    ("whitespace", b"  \n\t ", "empty"),
    ("binary", bytes(range(256)) * 40, "binary"),
    ("gzip bytes", gzip.compress(b"<html>" * 1000), "binary"),
    ("plain text", b"Just some text, no markup at all, long enough to be a paragraph. " * 20, "not an HTML page"),
    ("json", b'{"title": "not a page", "items": [1, 2, 3]}', "not an HTML page"),
    ("truncated", html(ARTICLE_EN).encode()[:110], "truncated"),
    ("no article", b"<html><body><nav><a href='/'>Home</a> <a href='/a'>About</a></nav></body></html>", "no article"),
    ("deep nesting", b"<html><body>" + b"<div>" * 100_000 + b"text" + b"</div>" * 100_000 + b"</body></html>",
     "nested too deeply"),
]


@pytest.mark.parametrize("label, data, reason", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_gives_empty_text_with_reason(label, data, reason):
    result = extract_article(data)
    assert result.text == ""
    assert reason in (result.reason or ""), result.reason


def test_fifty_megabyte_page_is_bounded():
    page = b"<html><body><article>" + (b"<p>" + b"word " * 200 + b"</p>") * 50_000 + b"</article></body></html>"
    assert len(page) > 50_000_000
    result = extract_article(page)
    assert result.reason is None or "truncated" in result.reason
    assert len(result.text) < 6_000_000


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from(["<p>", "</p>", "<div>", "</div>", "<table><tr><td>", "</td></tr></table>", "<img>",
                              "<figcaption>", "Home » ", "Source: X", "新质生产力", "text ", "<!--", "<script>",
                              "<meta charset='gb2312'>", "\x00", "&#0;", "<![CDATA["]), max_size=80).map(
        lambda parts: "".join(parts).encode("utf-8", "replace")),
))
def test_extractor_never_raises(data):
    result = extract_article(data)
    assert isinstance(result.text, str)
    assert result.text or result.reason
