from __future__ import annotations

import pytest

from monitor.dedup import canonical_url, content_hash


@pytest.mark.parametrize("a, b", [
    ("HTTP://Example.com:80/a/b.html", "http://example.com/a/b.html"),
    ("http://example.com/a/b.html?utm_source=rss&utm_medium=feed", "http://example.com/a/b.html"),
    ("http://example.com/a/b.html#comments", "http://example.com/a/b.html"),
    ("http://example.com/a/../b.html", "http://example.com/b.html"),
    ("http://example.com/x?b=2&a=1", "http://example.com/x?a=1&b=2"),
])
def test_same_article_same_canonical_url(a, b):
    assert canonical_url(a) == canonical_url(b)


@pytest.mark.parametrize("a, b", [
    ("http://example.com/x?id=1", "http://example.com/x?id=2"),
    ("http://example.com/2024/a.html", "http://example.com/2023/a.html"),
])
def test_different_articles_differ(a, b):
    assert canonical_url(a) != canonical_url(b)


def test_content_hash_ignores_formatting_only():
    assert content_hash("Hello,  World!\n\nNew  line") == content_hash("hello world new line")
    assert content_hash("新质生产力，发展") == content_hash("新质生产力 发展")
    assert content_hash("one story") != content_hash("another story")
