"""Published dates, through the public behaviour (extract_article on small pages), so these
tests hold wherever the date code lives: meta tags, <time>, bylines and info lines, Chinese
dates, per-source hints; nothing made up when the page says nothing usable."""

from __future__ import annotations

import pytest

from monitor.config import ExtractHints
from monitor.extract import extract_article

BODY = ("<p>" + "The provincial government announced a new programme for research laboratories and "
        "industrial parks today. " * 3 + "</p><p>" + "Officials said the plan would be reviewed each year "
        "by an independent panel of engineers and economists. " * 2 + "</p>")


def page(head: str = "", byline: str = "") -> bytes:
    return (f"<html><head><title>Plan announced</title>{head}</head><body><article><h1>Plan announced</h1>"
            f"{byline}{BODY}</article></body></html>").encode()


# (label, page, expected date)
CASES = [
    ("article:published_time", page('<meta property="article:published_time" content="2024-03-09T08:00:00+08:00">'),
     "2024-03-09"),
    ("ISO with Z", page('<meta property="article:published_time" content="2024-03-09T23:30:00Z">'), "2024-03-09"),
    ("meta pubdate", page('<meta name="pubdate" content="2024-03-09">'), "2024-03-09"),
    ("<time datetime>", page(byline='<time datetime="2024-03-09">March 9</time>'), "2024-03-09"),
    ("info line", page(byline="<div>2023-12-08 Source: Economic Information Daily</div>"), "2023-12-08"),
    ("blog date line", page(byline="<p> date 2021-06-10 </p>"), "2021-06-10"),
    ("Chinese date", page(byline="<div>发布时间：2024年3月5日 10:20</div>"), "2024-03-05"),
    ("slashes", page(byline="<div>Published: 2024/03/09</div>"), "2024-03-09"),
    ("English month name", page(byline="<div>By Jane Doe | March 9, 2024</div>"), "2024-03-09"),
    ("meta wins over a byline", page('<meta property="article:published_time" content="2024-03-09">',
                                     "<div>2023-12-08 Source: X</div>"), "2024-03-09"),
    ("no date anywhere", page(), None),
    ("year out of range", page('<meta name="pubdate" content="1890-03-09">'), None),
    ("not a date", page('<meta name="pubdate" content="soon">'), None),
]


@pytest.mark.parametrize("label, html, date", CASES, ids=[c[0] for c in CASES])
def test_published_date(label, html, date):
    result = extract_article(html, url="http://a.example/news/story.html")
    assert result.reason is None and result.text.startswith("The provincial government")
    assert result.date == date


def test_date_selector_hint():
    html = page(byline='<span class="stamp">Updated 2024-03-10</span>')
    assert extract_article(html, hints=ExtractHints(date_selector="span.stamp")).date == "2024-03-10"


def test_date_pattern_hint_takes_its_last_group():
    html = page(byline='<span class="stamp">Posted on 2024.03.10 by the desk</span>')
    hints = ExtractHints(date_selector="span.stamp", date_pattern=r"Posted on (\d{4}\.\d\d\.\d\d)")
    assert extract_article(html, hints=hints).date == "2024-03-10"
