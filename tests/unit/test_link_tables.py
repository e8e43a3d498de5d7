"""dom.drop_link_tables on its own: link-list cells of layout tables go, the body cell stays."""

from __future__ import annotations

import lxml.html
import pytest

from monitor.extract import dom

BODY = "<p>国务院常务会议今天召开，会议研究部署了推动新质生产力发展的若干措施，强调要加快科技创新。</p>"
LINKS = "".join(f'<a href="/n{i}.htm">相关新闻标题第{i}条</a><br>' for i in range(5))

CASES = [
    # (name, html, dropped, text that must stay, text that must go)
    ("related list beside the body",
     f"<table><tr><td>{BODY}</td><td>{LINKS}</td></tr></table>", 1, "国务院常务会议", "相关新闻标题"),
    ("hot-news box under the body",
     f"<table><tr><td>{BODY}</td></tr><tr><td><b>热点新闻</b>{LINKS}</td></tr></table>", 1,
     "新质生产力", "相关新闻标题"),
    ("navigation table of its own",
     f"<table><tr><td>{LINKS}</td></tr></table><div>{BODY}</div>", 1, "科技创新", "相关新闻标题"),
    ("a body cell with a few links in its prose stays",
     f'<table><tr><td>{BODY}<p>详见<a href="/a">通知</a>、<a href="/b">公告</a>和<a href="/c">解读</a>。'
     f"这是正文的一部分，不是链接列表。</p></td></tr></table>", 0, "通知", None),
    ("two links are not a list",
     '<table><tr><td><a href="/a">上一篇</a> <a href="/b">下一篇</a></td></tr></table>', 0, "上一篇", None),
]


@pytest.mark.parametrize(("name", "html", "dropped", "kept", "gone"), CASES, ids=[c[0] for c in CASES])
def test_drop_link_tables(name, html, dropped, kept, gone):
    tree = lxml.html.fromstring(f"<html><body>{html}</body></html>")
    assert dom.drop_link_tables(tree) == dropped
    text = tree.text_content()
    assert kept in text
    if gone:
        assert gone not in text
