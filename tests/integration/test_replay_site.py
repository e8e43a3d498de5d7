"""The bundled offline replay (replay/site served by replay.server): feeds parse
and lead to real pages, the encodings are the awkward real-world ones, HTTP
caching and the failure paths behave, and manifest.json matches the pages."""

from __future__ import annotations

import html
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import httpx
import lxml.html
import pytest

from replay.server import ReplayServer

REPLAY = Path(__file__).resolve().parents[2] / "replay"
SITE = REPLAY / "site"
MANIFEST = json.loads((SITE / "manifest.json").read_text(encoding="utf-8"))
PAGES = MANIFEST["pages"]
FEED_SOURCES = ["xinhua_english", "jjckb", "gzgov_wordpress", "tech_blog", "contentfarm"]
PLACEHOLDER = "http://replay.invalid"


@pytest.fixture(scope="module")
def server():
    with ReplayServer(slow_seconds=0.3) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        yield http


def visible_text(body: bytes, encoding: str) -> str:
    tree = lxml.html.document_fromstring(body.decode(encoding))
    for element in tree.xpath("//script|//style|//head"):
        element.drop_tree()
    return " ".join(tree.text_content().split())


def page_id(page: dict) -> str:
    return page["path"]


# --- feeds -----------------------------------------------------------------------------------

@pytest.mark.parametrize("source", FEED_SOURCES)
def test_feed_parses_and_every_link_is_a_page(client, server, source):
    feed_path = MANIFEST["feeds"][source]
    response = client.get(feed_path)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] in ("application/rss+xml", "application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(parsed.entries) >= 3
    links = [entry.link for entry in parsed.entries]
    assert all(link.startswith(server.base_url + f"/{source}/") for link in links)
    for link in links:
        page = client.get(link)
        assert page.status_code == 200, link
        assert page.headers["content-type"].startswith("text/html")
    expected = {server.base_url + p["path"] for p in PAGES if p["source"] == source}
    assert set(links) == expected


def test_feed_formats_are_the_real_ones(client):
    assert feedparser.parse(client.get("/xinhua_english/feed.xml").content).version == "rss20"
    assert feedparser.parse(client.get("/contentfarm/feed.xml").content).version == "rss20"
    assert feedparser.parse(client.get("/jjckb/atom.xml").content).version == "atom10"
    assert feedparser.parse(client.get("/tech_blog/atom.xml").content).version == "atom10"
    wordpress = client.get("/gzgov_wordpress/feed/")  # WordPress's URL: a directory
    assert wordpress.headers["content-type"].startswith("application/rss+xml")
    entry = feedparser.parse(wordpress.content).entries[0]
    assert entry.author == "admin" and entry.content[0].value.startswith("<p>")
    jjckb = client.get("/jjckb/atom.xml")
    assert jjckb.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert "新质生产力" in jjckb.content.decode("utf-8")


# --- encodings -------------------------------------------------------------------------------

@pytest.mark.parametrize("page", [p for p in PAGES if p["source"] == "jjckb"], ids=page_id)
def test_jjckb_pages_are_gb18030_declared_gb2312_without_charset_header(client, page):
    response = client.get(page["path"])
    assert response.headers["content-type"] == "text/html"  # the <meta> is all a client has
    body = response.content
    assert b"charset=gb2312" in body[:400] or b'charset="gb2312"' in body[:400]
    text = body.decode("gb18030")  # strict: every byte valid
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb2312")  # 喆 and friends are outside GB2312
    assert page["title"] in html.unescape(text)
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_chinese_jjckb_article_is_chinese(client):
    (page,) = [p for p in PAGES if p["source"] == "jjckb" and p["language"] == "zh"]
    text = client.get(page["path"]).content.decode("gb18030")
    assert "新质生产力" in text and "镕" in text


def test_utf8_sites_say_so_in_the_header(client):
    response = client.get("/xinhua_english/20240301/a1b2c3d4e5f6/c.html")
    assert response.headers["content-type"] == "text/html; charset=utf-8"


# --- HTTP behaviour ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/xinhua_english/feed.xml",
    "/jjckb/20231208/t20231208_1234567.htm",
    "/gzgov_wordpress/2023/12/scientific-and-technological-innovation-stimulates-surging-power/",
])
def test_conditional_requests_get_304(client, path):
    first = client.get(path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    by_etag = client.get(path, headers={"If-None-Match": etag})
    assert by_etag.status_code == 304 and by_etag.content == b"" and by_etag.headers["etag"] == etag
    by_date = client.get(path, headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    stale = client.get(path, headers={"If-None-Match": '"not-the-etag"'})
    assert stale.status_code == 200 and stale.content == first.content
    older = client.get(path, headers={"If-Modified-Since": "Mon, 01 Jan 2018 00:00:00 GMT"})
    assert older.status_code == 200


def test_placeholder_rewritten_in_text_and_gb18030_bytes(client, server):
    feed = client.get("/gzgov_wordpress/feed/").text
    assert PLACEHOLDER not in feed and f"{server.base_url}/gzgov_wordpress/" in feed
    page = client.get("/jjckb/20240305/t20240305_2345678.htm").content
    assert PLACEHOLDER.encode() not in page
    assert f'<link rel="canonical" href="{server.base_url}/jjckb/20240305/t20240305_2345678.htm">'.encode() in page
    page.decode("gb18030")  # still valid after the byte replacement
    sitemap = client.get("/xinhua_english/sitemap_index.xml").text
    assert PLACEHOLDER not in sitemap and server.base_url in sitemap


def test_head_missing_and_directory_index(client):
    path = "/contentfarm/2023/03/government-work-report-tech-priorities/"
    get = client.get(path)
    head = client.head(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["etag"] == get.headers["etag"]
    assert client.get(path + "index.html").content == get.content
    assert client.get("/xinhua_english/20240301/nothing/c.html").status_code == 404
    assert client.head("/nothing-here").status_code == 404
    assert client.get("/../../etc/passwd").status_code == 404
    assert client.get("/robots.txt").headers["content-type"].startswith("text/plain")


def test_failure_paths(client):
    broken = client.get("/broken/feed.xml")
    assert broken.status_code == 200 and broken.headers["content-type"].startswith("application/rss+xml")
    assert feedparser.parse(broken.content).bozo
    not_xml = client.get("/broken/notxml.xml")
    assert not_xml.headers["content-type"].startswith("application/rss+xml")
    assert not_xml.content.lstrip().lower().startswith(b"<!doctype html")
    assert not feedparser.parse(not_xml.content).entries
    for code in (404, 410, 429, 500, 503):
        assert client.get(f"/status/{code}").status_code == code
    assert client.get("/status/oops").status_code == 400


def test_slow_paths_wait_then_answer(client):
    started = time.monotonic()
    assert client.get("/slow/feed.xml").status_code == 404  # the server's default delay (0.3 s here)
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    served = client.get("/slow/tech_blog/atom.xml?delay=0.5")
    assert time.monotonic() - started >= 0.5
    assert served.status_code == 200 and feedparser.parse(served.content).entries
    with httpx.Client(timeout=0.2) as impatient, pytest.raises(httpx.TimeoutException):
        impatient.get(str(client.base_url) + "/slow/feed.xml?delay=2")


# --- the pages and the manifest ------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_manifest_entry_matches_its_page(client, page):
    file = SITE / page["file"]
    assert file.is_file()
    assert page["url"] == PLACEHOLDER + page["path"]
    assert len(page["date"]) == 10 and page["date"][4] == page["date"][7] == "-"
    assert page["language"] in ("en", "zh")
    assert page["story"]
    response = client.get(page["path"])
    assert response.status_code == 200
    assert response.content.decode(page["encoding"]) == file.read_bytes().decode(page["encoding"]).replace(
        PLACEHOLDER, str(client.base_url).rstrip("/"))
    text = visible_text(file.read_bytes(), page["encoding"])
    assert len(page["body_contains"]) >= 3
    for sentence in page["body_contains"]:
        assert " ".join(sentence.split()) in text, sentence[:60]
    assert page["chrome_absent"]
    for chrome in page["chrome_absent"]:
        assert " ".join(chrome.split()) in text, f"listed chrome not on the page: {chrome!r}"
        assert not any(chrome in sentence for sentence in page["body_contains"])


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_pages_have_real_html5_heads(page):
    body = (SITE / page["file"]).read_bytes().decode(page["encoding"])
    assert body.lstrip().lower().startswith("<!doctype html>")
    tree = lxml.html.document_fromstring(body)
    title = tree.findtext(".//title")
    assert title.startswith(page["title"] + " - ")
    assert tree.xpath('//meta[@name="description"]/@content')
    assert tree.xpath('//meta[@property="og:title"]/@content') == [page["title"]]
    published = tree.xpath('//meta[@property="article:published_time"]/@content')
    if page["source"] in ("jjckb", "tech_blog", "gzgov_portal"):
        assert not published  # the date is only in the visible text
        assert page["date"] in visible_text(body.encode(page["encoding"]), page["encoding"])
    else:
        assert published and published[0].startswith(page["date"])
    assert tree.xpath("//h1")


def test_same_story_on_two_outlets():
    stories = MANIFEST["stories"]
    by_path = {p["path"]: p for p in PAGES}
    assert {by_path[path]["source"] for path in stories["future-industries"]} == {"xinhua_english", "gzgov_wordpress"}
    xinhua, wordpress = sorted(stories["future-industries"],
                               key=lambda path: by_path[path]["source"] != "xinhua_english")
    assert by_path[xinhua]["title"] != by_path[wordpress]["title"]
    assert by_path[xinhua]["body_contains"] == by_path[wordpress]["body_contains"]
    for story, paths in stories.items():
        assert len(paths) > 1 and all(by_path[path]["story"] == story for path in paths)


def test_every_source_has_three_articles_and_the_site_is_small():
    per_source = {}
    for page in PAGES:
        per_source[page["source"]] = per_source.get(page["source"], 0) + 1
    assert set(per_source) >= set(FEED_SOURCES)
    assert all(count >= 3 for count in per_source.values())
    assert sum(f.stat().st_size for f in SITE.rglob("*") if f.is_file()) < 1_000_000


def test_seeds_bundled_and_nothing_reads_shared():
    seeds = sorted(p.name for p in (REPLAY / "seeds").glob("*.txt"))
    assert len(seeds) == 5
    for module in ("build_site.py", "server.py"):
        source = (REPLAY / module).read_text(encoding="utf-8")
        assert "../shared" not in source and "/shared/seeds" not in source


# --- the command ---------------------------------------------------------------------------------

def test_server_command_prints_url_and_stops_on_sigterm():
    process = subprocess.Popen([sys.executable, "-m", "replay.server", "--port", "0"], stdout=subprocess.PIPE,
                               text=True, cwd=REPLAY.parent, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = process.stdout.readline()
        base_url = line.split(" at ")[-1].strip().rstrip("/")
        assert base_url.startswith("http://127.0.0.1:")
        assert httpx.get(base_url + "/tech_blog/atom.xml", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
