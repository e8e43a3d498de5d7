"""Extraction: real-shaped fixture pages with expected JSON beside them,
encodings, chrome rules, metadata lines, hints, and hostile input.
(The replay site's pages are checked in test_extract_replay.py.)"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config import ExtractHints
from monitor.extract import ExtractedArticle, decode_html, extract_article
from monitor.extract.chrome import is_chrome_line, is_tail_marker
from monitor.extract.metadata import clean_title, detect_language
from monitor.extract.metadata_lines import parse_info_line

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
FIXTURE_PAGES = sorted(FIXTURES.glob("*/*.html"))
SEED_SOURCES = {"xinhua_english", "jjckb", "gzgov_wordpress", "tech_blog", "contentfarm", "encodings"}


@pytest.mark.parametrize("page", FIXTURE_PAGES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_pages(page):
    """Each real-shaped page against the expected JSON beside it: every body
    paragraph kept, once; no listed chrome string anywhere; metadata right."""
    expected = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    # Served as the real sites serve them: most send no charset in the header.
    result = extract_article(page.read_bytes(), url=expected["url"],
                             content_type=expected.get("content_type", "text/html"))
    assert result.reason is None
    paragraphs = result.text.split("\n\n")
    for sentence in expected["body_contains"]:
        assert paragraphs.count(sentence) == 1, f"lost or repeated: {sentence[:60]!r}"
    for chrome in expected["chrome_absent"]:
        assert chrome not in result.text, f"chrome left: {chrome!r}"
        assert chrome not in (result.title or "")
    for field in ("title", "author", "date", "language", "outlet", "encoding"):
        assert getattr(result, field) == expected[field], field
    assert list(result.captions) == expected["captions"]
    for caption in result.captions:
        assert caption not in result.text


def test_at_least_three_fixtures_per_source():
    per_source = {folder.name: len(list(folder.glob("*.html"))) for folder in FIXTURES.iterdir() if folder.is_dir()}
    assert set(per_source) >= SEED_SOURCES
    assert min(per_source.values()) >= 3
    for page in FIXTURE_PAGES:
        expected = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
        assert {"title", "author", "date", "language", "outlet", "body_contains", "chrome_absent",
                "captions"} <= set(expected), page


def test_fixture_kinds_the_issue_names():
    jjckb = {p.stem: p.read_bytes() for p in (FIXTURES / "jjckb").glob("*.html")}
    assert any(b"charset=gb2312" in body and decode_html(body)[1] == "gb18030" for body in jjckb.values())
    assert any(detect_language(extract_article(body).text) == "zh" for body in jjckb.values())
    encodings = {p.stem for p in (FIXTURES / "encodings").glob("*.html")}
    assert {"big5-declared-meta", "gbk-undeclared", "utf8-declared-gb2312"} <= encodings
    assert b"charset" not in (FIXTURES / "encodings" / "gbk-undeclared.html").read_bytes()


# --- chrome and metadata rules, one line each -----------------------------------------

CHROME_LINES = [
    "Home » Scientific and technological innovation stimulates surging power",
    "Home page>> Text", "首页 > 财经 > 正文", "首頁 > 財經", "Head of Xinhua News Agency",
    "【 Large, medium and small 】", "【大 中 小】", "【字号：大 中 小】", "【纠错】【责任编辑：王亮】",
    "This website uses cookies to improve your experience. We'll assume you're ok with this. Accept Read More",
    "We use cookies to personalise content and ads.", "Privacy & Cookies Policy",
    "This site uses Akismet to reduce spam. Learn how your comment data is processed.",
    "Leave a Comment", "Leave a Reply", "Your email address will not be published.",
    "See also  Economic Daily: Blind boxes should say goodbye to \"blind\" growth - Viewpoint",
    "All text, pictures, audio and video manuscripts ... belong to the copyright of Economic Reference Newspaper",
    "Copyright © 2000 - 2024 XINHUANET.com. All rights reserved.", "版权所有 经济参考报社", "版權所有 © 2024 經濟日報",
    "News hotline: 010-63074375 63072334", "新闻热线：010-63074375", "JJCKB.CN Beijing ICP for 18039543", "京ICP备18039543号",
    "粤ICP备2020092020号", "Read More:", "Read more: China's new energy vehicle exports surge", "Share to",
    "Obtain authorization",
]


@pytest.mark.parametrize("line", CHROME_LINES)
def test_chrome_lines(line):
    assert is_chrome_line(line)


BODY_LINES = [
    "Home prices in 70 cities fell for the ninth month, the statistics bureau said.",
    "The company holds copyright to more than 300 patents and software works in the field.",
    "Read more widely, the report argues, and the picture changes.",
    "In 2023, 48 Jilin-1 satellites developed and produced by the company were successfully launched.",
    "加快形成新质生产力，推动高质量发展。",
]


@pytest.mark.parametrize("line", BODY_LINES)
def test_body_lines_are_not_chrome(line):
    assert not is_chrome_line(line)


@pytest.mark.parametrize("line", ["Related Articles", "You may also like", "相关新闻", "相關新聞", "Most Read"])
def test_tail_markers(line):
    assert is_tail_marker(line)


@pytest.mark.parametrize("line, expected", [
    ("2023-12-08 Source: Economic Information Daily", ("2023-12-08", "Economic Information Daily", None)),
    (" date 2021-06-10 ", ("2021-06-10", None, None)),
    ("Source: Xinhua | 2024-02-26 09:30:00 | Editor: Liu Yan", ("2024-02-26", "Xinhua", None)),
    ("发布日期：2024-03-18 来源：广州日报 【字号：大 中 小】 打印", ("2024-03-18", "广州日报", None)),
    ("2024-03-06 10:20 來源：經濟日報", ("2024-03-06", "經濟日報", None)),
    ("Posted on 2024-02-15 by admin", ("2024-02-15", None, "admin")),
    ("Source: the statistics bureau said output rose 5.2 percent in 2023.", None),
    ("By the end of 2023, output had doubled.", None),
])
def test_info_lines(line, expected):
    assert parse_info_line(line) == expected


@pytest.mark.parametrize("raw, site, expected", [
    ("Automated terminal at Qingdao Port sets monthly record - Xinhua", None,
     "Automated terminal at Qingdao Port sets monthly record"),
    ("Guangzhou to boost basic research funding | China Policy Watch", "China Policy Watch",
     "Guangzhou to boost basic research funding"),
    ("浙江工厂加快“机器换人”_新华网", None, "浙江工厂加快“机器换人”"),
    ("Xinhua Headlines: China Revs Up Developing Tech-Savvy Industries for Smarter Future", "Xinhua",
     "Xinhua Headlines: China Revs Up Developing Tech-Savvy Industries for Smarter Future"),
])
def test_titles_lose_site_name(raw, site, expected):
    assert clean_title(raw, site) == expected


@pytest.mark.parametrize("text, language", [
    ("加快形成新质生产力，推动高质量发展。北京、上海等地整合科技创新资源。", "zh"),
    ("The company plans to make more breakthroughs in solving bottleneck problems this year.", "en"),
    ("12345 67890", None),
])
def test_language(text, language):
    assert detect_language(text) == language


def test_byline_becomes_author_not_body():
    page = (f"<html><body><article><h1>Guangzhou to boost research</h1><p>by admin</p>{ARTICLE_EN}</article>"
            "</body></html>").encode()
    result = extract_article(page)
    assert result.author == "admin" and "by admin" not in result.text


def test_related_headlines_after_marker_are_dropped():
    related = "".join(f"<p><a href='/{i}'>Headline number {i} about something else</a></p>" for i in range(4))
    page = f"<html><body><article>{ARTICLE_EN}<h3>You may also like</h3>{related}</article></body></html>".encode()
    result = extract_article(page)
    assert "company plans" in result.text and "Headline number" not in result.text and "also like" not in result.text


def test_repeats_content_farm_vs_legitimate():
    farm = "The government will provide support to enterprises in their innovation efforts to promote integration."
    question = "What kind of food do you like to cook at home?"
    recipe = "Portion Fix Containers: 1 Green, 1 Red, 1 Yellow, 1 tsp"
    answers = [f"Answer number {i}: I mostly cook vegetables and rice, with a lot of garlic and some chilli {i}."
               for i in range(3)]
    body = f"<p>{farm}</p>" + "".join(f"<p>{question}</p><p>{a}</p><p>{recipe}</p>" for a in answers)
    page = f"<html><body><article>{ARTICLE_EN}{body}<p>{farm}</p></article></body></html>".encode()
    paragraphs = extract_article(page).text.split("\n\n")
    assert paragraphs.count(farm) == 1
    assert paragraphs.count(question) == 3
    assert paragraphs.count(recipe) == 3


def test_result_type_is_frozen():
    result = extract_article(b"")
    assert isinstance(result, ExtractedArticle)
    with pytest.raises(AttributeError):
        result.text = "x"  # type: ignore[misc]


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
    ("utf-16 with BOM", html(ARTICLE_ZH).encode("utf-16"), None, "utf-16"),
    ("big5, no declaration", html(ARTICLE_TW, title="標題").encode("big5"), "text/html", "big5hkscs"),
    ("gb2312 declared, body cut mid-character",
     html(ARTICLE_ZH, '<meta charset="gb2312">').replace("</article></body></html>", "生产力").encode("gb18030")[:-1],
     None, "gb18030"),
])
def test_encodings(label, data, content_type, codec):
    text, used = decode_html(data, content_type)
    assert "生产力" in text or "生產力" in text, label
    if codec:
        assert used == codec
    result = extract_article(data, content_type=content_type)
    assert "新兴产业" in result.text or "新興產業" in result.text or "生產力" in result.text, label
    assert result.language == "zh"


@pytest.mark.parametrize("text, codec", [
    ("Il était une fois un été très chaud à côté de la forêt, près de la rivière où jouaient les enfants.", "cp1252"),
    ("Съешь же ещё этих мягких французских булок да выпей чаю. Москва является столицей России.", "cp1251"),
    ("Příliš žluťoučký kůň úpěl ďábelské ódy. Česká republika leží ve střední Evropě.", "cp1250"),
])
def test_undeclared_single_byte_pages_read_right(text, codec):
    data = f"<html><body><p>{text}</p></body></html>".encode(codec)
    decoded, _used = decode_html(data, "text/html")
    assert text in decoded


def test_repetitive_undeclared_gb18030_is_not_mojibake():
    data = ("<html><body><p>" + "新质生产力" * 20_000 + "</p></body></html>").encode("gb18030")
    assert decode_html(data)[1] == "gb18030"


def test_wrong_header_charset_falls_back_instead_of_mojibake():
    data = html(ARTICLE_ZH).encode("gb18030")  # not valid UTF-8
    text, used = decode_html(data, "text/html; charset=utf-8")
    assert "生产力" in text and used == "gb18030"


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
    started = time.perf_counter()
    result = extract_article(page)
    assert time.perf_counter() - started < 60  # generous: shared machines; typically a few seconds
    assert result.reason is None or "truncated" in result.reason
    assert len(result.text) < 6_000_000


def test_fifty_megabyte_page_of_nothing_says_why():
    page = b"<html><body>" + b"<div><a href='/x'>link</a></div>" * 1_700_000 + b"</body></html>"
    result = extract_article(page)
    assert result.text == "" and "5 MB" in (result.reason or "")


def test_deep_nesting_is_fast():
    page = b"<html><body>" + b"<div>" * 100_000 + b"<p>" + b"Deep text here. " * 20 + b"</p>" + b"</div>" * 100_000
    started = time.perf_counter()
    result = extract_article(page + b"</body></html>")
    assert time.perf_counter() - started < 20
    assert result.text == "" and "nested too deeply" in (result.reason or ""), result.reason


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from(["<p>", "</p>", "<div>", "</div>", "<table><tr><td>", "</td></tr></table>", "<img>",
                              "<figcaption>", "Home » ", "Source: X", "新质生产力", "text ", "<!--", "<script>",
                              "<meta charset='gb2312'>", "\x00", "&#0;", "<![CDATA["]), max_size=80).map(
        lambda parts: "".join(parts).encode("utf-8", "replace")),
))
def test_extractor_handles_any_bytes(data):
    """extract_article catches everything (its contract), so "never raises" cannot fail; what can:
    an input reaching that catch-all, whose reason starts "extraction failed", is a bug."""
    result = extract_article(data)
    assert not (result.reason or "").startswith("extraction failed"), result.reason
    assert bool(result.text) != bool(result.reason), (result.text[:80], result.reason)  # text, or why not
