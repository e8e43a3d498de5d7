from __future__ import annotations

import pytest

from monitor.dedup.copies import choose_canonical


@pytest.mark.parametrize("url, declared, expected", [
    ("http://a.com/x?utm_source=rss", None, "http://a.com/x"),
    ("http://a.com/x?utm_source=rss", "http://a.com/story/x", "http://a.com/story/x"),  # same site: trust it
    ("http://a.com/x?page=1", "https://b.com/original", "http://a.com/x?page=1"),  # syndication: a copy
    ("http://a.com/amp/x", "http://a.com/x#top", "http://a.com/x"),
])
def test_canonical_choice(url, declared, expected):
    assert choose_canonical(url, declared) == expected
