"""crawler.spiders.base.declared_canonical: a page's own rel=canonical or og:url, on real Scrapy
responses; only the <head> is read when its end is near the top."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, Response, TextResponse

from crawler.spiders.base import HEAD_SCAN_BYTES, declared_canonical

PAGE_URL = "https://news.example.org/2024/03/09/story.html?utm_source=feed"


def html(head: str, body: str = "<p>text</p>") -> bytes:
    return f"<html><head><title>t</title>{head}</head><body>{body}</body></html>".encode()


# (label, body, expected canonical URL)
CASES = [
    ("rel=canonical", html('<link rel="canonical" href="https://news.example.org/story/42">'),
     "https://news.example.org/story/42"),
    ("relative, resolved against the page", html('<link rel="canonical" href="/story/42">'),
     "https://news.example.org/story/42"),
    ("white space stripped", html('<link rel="canonical" href="  https://news.example.org/story/42\n">'),
     "https://news.example.org/story/42"),
    ("og:url", html('<meta property="og:url" content="https://news.example.org/og/42">'),
     "https://news.example.org/og/42"),
    ("canonical wins over og:url", html('<meta property="og:url" content="https://news.example.org/og/42">'
                                        '<link rel="canonical" href="https://news.example.org/story/42">'),
     "https://news.example.org/story/42"),
    ("none declared", html(""), None),
    ("empty href", html('<link rel="canonical" href="  ">'), None),
    ("a link in the body is not the page's", html("", '<link rel="canonical" href="https://other.example/x">'),
     None),
    ("no </head> near the top: the whole page is read",
     b"<html><head><title>t</title><!--" + b"x" * (HEAD_SCAN_BYTES + 10) + b'--><link rel="canonical" '
     b'href="https://news.example.org/story/42"></head><body>text</body></html>',
     "https://news.example.org/story/42"),
]


@pytest.mark.parametrize("label, body, expected", CASES, ids=[c[0] for c in CASES])
def test_declared_canonical(label, body, expected):
    response = HtmlResponse(PAGE_URL, body=body, encoding="utf-8")
    assert declared_canonical(response) == expected


def test_legacy_encoding_is_decoded():
    body = '<html><head><meta charset="gbk"><link rel="canonical" href="/新闻/42"></head><body>正文</body></html>'
    response = HtmlResponse(PAGE_URL, body=body.encode("gbk"))
    assert declared_canonical(response) == "https://news.example.org/新闻/42"  # read as GBK, not mojibake


@pytest.mark.parametrize("response", [
    Response(PAGE_URL, body=b'<link rel="canonical" href="/x">'),  # not text: an image, a PDF
    TextResponse(PAGE_URL, body=b"", encoding="utf-8"),
], ids=["binary", "empty"])
def test_nothing_declared_outside_html(response):
    assert declared_canonical(response) is None
