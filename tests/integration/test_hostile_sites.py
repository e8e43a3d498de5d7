"""Sites that attack the crawler, each a HostileServer on loopback the test
programs: bodies that look like local paths, file:// in sitemaps and
redirects, links to cloud metadata and private addresses, sitemap loops,
impossible dates, absurd Retry-After headers. Two real `newsmon crawl` runs
on a SQLite archive; what each source fetched and recorded is checked."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from replay.environment import newsmon_executable
from tests.helpers.config import write_config
from tests.helpers.hostile import HostileServer

pytestmark = pytest.mark.slow

RSS = "application/rss+xml"
XML = "application/xml"


def article_html(title: str) -> str:
    sentence = (f"{title} was reported on Tuesday by the regional office, which said the figures "
                "had been checked twice before publication and would be revised in the spring. ")
    paragraphs = "".join(f"<p>{sentence * 2}</p>" for _ in range(4))
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"{paragraphs}</article></body></html>")


def rss(*items: tuple[str, str | None]) -> str:
    """An RSS 2.0 feed of (link, pubDate) items."""
    body = "".join(
        f"<item><title>Story {i}</title><link>{link}</link>"
        + (f"<pubDate>{date}</pubDate>" if date else "") + "</item>"
        for i, (link, date) in enumerate(items, 1))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'


def sitemap_index(*locs: str) -> str:
    body = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</sitemapindex>'


def urlset(*locs: str) -> str:
    body = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'


def latin1(text: str) -> str:
    """Header text sent as its raw UTF-8 bytes (http.server writes headers as Latin-1)."""
    return text.encode("utf-8").decode("latin-1")


RETRY_AFTER = {  # source -> a hostile Retry-After header
    "ra_huge": "999999999999",
    "ra_digits": latin1("١٢٠"),
    "ra_date": "Fri, 31 Dec 9999 23:59:59 GMT",
    "ra_long": "9" * 5000,
}
GOOD_DATE = "Tue, 05 Mar 2024 08:00:00 GMT"


def program(site: HostileServer, other: HostileServer, root: Path) -> dict[str, dict]:
    """Routes on both servers; returns the sources' configs."""
    def page(path: str, server: HostileServer = site) -> str:
        server.route(path, article_html(f"Article at {path}"), content_type="text/html; charset=utf-8")
        return server.url(path)

    feed = lambda name, **extra: {"kind": "feed", "start_urls": [site.url(f"/{name}/feed.xml")], **extra}  # noqa: E731
    sitemap = lambda url, **extra: {"kind": "sitemap", "start_urls": [url], **extra}  # noqa: E731

    local_feed = root / "local-feed.xml"  # a valid feed on disk, linking to the hostile site
    local_feed.write_text(rss((site.url("/path/leak.html"), None)), encoding="utf-8")
    site.route("/path_body/feed.xml", str(local_feed), content_type=RSS)
    site.route("/dev_zero/feed.xml", "/dev/zero", content_type=RSS)

    local_urlset = root / "local-urlset.xml"
    local_urlset.write_text(urlset(site.url("/smf/leak.html")), encoding="utf-8")
    site.route("/smf/index.xml", sitemap_index(local_urlset.as_uri(), site.url("/smf/child.xml")), content_type=XML)
    site.route("/smf/child.xml", urlset("file:///etc/passwd", page("/smf/a1.html")), content_type=XML)

    site.route("/redirect_file/feed.xml", status=302, headers={"Location": "file:///etc/passwd"})
    site.route("/redirect_meta/feed.xml", rss((site.url("/rm/go.html"), GOOD_DATE), (page("/rm/a1.html"), GOOD_DATE)),
               content_type=RSS)
    site.route("/rm/go.html", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    site.route("/link_local/feed.xml", rss(
        ("http://169.254.169.254/latest/meta-data/iam/", GOOD_DATE), ("http://[fe80::1]/x.html", GOOD_DATE),
        ("http://metadata.google.internal/computeMetadata/v1/", GOOD_DATE), (page("/ll/a1.html"), GOOD_DATE)),
        content_type=RSS)
    site.route("/private_auto/feed.xml", rss((page("/pa/a1.html", other), GOOD_DATE)), content_type=RSS)
    site.route("/private_deny/feed.xml", rss((page("/pd/a1.html", other), GOOD_DATE),
                                             (page("/pd/a2.html"), GOOD_DATE)), content_type=RSS)

    site.route("/si/index.xml", sitemap_index(site.url("/si/index.xml"), site.url("/si/urls.xml")), content_type=XML)
    site.route("/si/urls.xml", urlset(page("/si/a1.html")), content_type=XML)
    for name, target in (("a", "b"), ("b", "c"), ("c", "a")):
        site.route(f"/cy/{name}.xml", sitemap_index(site.url(f"/cy/{target}.xml")), content_type=XML)
    for level in range(5):
        site.route(f"/dp/{level}.xml", sitemap_index(site.url(f"/dp/{level + 1}.xml")), content_type=XML)

    validators = {"ETag": '"v1"', "Last-Modified": "Tue, 05 Mar 2024 08:00:00 GMT"}
    site.route("/bad_date/feed.xml", rss((page("/bd/a1.html"), GOOD_DATE), (site.url("/bd/a2.html"), "0000-00-00T00:00:00Z"),
                                         (page("/bd/a3.html"), "9999-12-31T23:59:59-14:00"),
                                         (page("/bd/a4.html"), GOOD_DATE)),
               content_type=RSS, headers=validators)
    site.route("/bd/a2.html", article_html("the entry with an impossible date"), content_type="text/html")
    site.route("/good_feed/feed.xml", rss((page("/gf/a1.html"), GOOD_DATE)), content_type=RSS,
               headers={"ETag": '"g1"'})

    for name, value in RETRY_AFTER.items():
        site.route(f"/{name}/feed.xml", "slow down", status=429, headers={"Retry-After": value})

    return {
        "path_body": feed("path_body"), "dev_zero": feed("dev_zero"),
        "sitemap_file": sitemap(site.url("/smf/index.xml")),
        "redirect_file": feed("redirect_file"), "redirect_meta": feed("redirect_meta"),
        "link_local": feed("link_local"), "private_auto": feed("private_auto"),
        "private_deny": feed("private_deny", private_addresses="deny"),
        "self_index": sitemap(site.url("/si/index.xml")), "cycle": sitemap(site.url("/cy/a.xml")),
        "deep": sitemap(site.url("/dp/0.xml")),
        "bad_date": feed("bad_date"), "good_feed": feed("good_feed"),
        **{name: feed(name) for name in RETRY_AFTER},
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    db = root / "archive.sqlite3"
    with HostileServer("127.0.0.1") as site, HostileServer("127.0.0.3") as other:
        config = write_config(root / "config", {
            "database_url": f"sqlite:///{db}",
            "crawl": {"download_timeout": "5s", "retry_times": 0, "obey_robots_txt": False,
                      "max_retry_after": "1s", "extract_workers": 0},
        }, program(site, other, root))
        env = {k: v for k, v in os.environ.items() if k != "NEWSMON_DATABASE_URL"}
        env.update(NEWSMON_CONFIG=str(config), PYTHONUNBUFFERED="1")

        def newsmon(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([newsmon_executable(), *args], env=env, capture_output=True, text=True,
                                  timeout=300)

        assert newsmon("init").returncode == 0
        first = newsmon("crawl")
        mark = len(site.requests)
        second = newsmon("crawl", "bad_date", "good_feed")
        with sqlite3.connect(db) as conn:
            runs = conn.execute("SELECT source, status, errors, error_summary FROM crawl_runs ORDER BY id").fetchall()
            errors = conn.execute("SELECT source, url, stage, message FROM fetch_errors ORDER BY id").fetchall()
            articles = conn.execute("SELECT source, url FROM articles").fetchall()
            state = {r[0]: r[1:] for r in conn.execute("SELECT source, throttled_until FROM source_state")}
        yield dict(first=first, second=second, runs=runs, errors=errors, articles=articles, state=state,
                   site=site, other=other, first_requests=site.requests[:mark], second_requests=site.requests[mark:],
                   other_paths=other.paths(), crawled_at=datetime.now(timezone.utc))


def paths(world, prefix: str) -> list[str]:
    return [path for _m, path, _h in world["first_requests"] if path.startswith(prefix)]


def errors_of(world, source: str) -> list[str]:
    return [f"{stage} {url}: {message}" for s, url, stage, message in world["errors"] if s == source]


def stored(world, source: str) -> set[str]:
    return {url.rsplit("/", 1)[-1] for s, url in world["articles"] if s == source}


def first_run(world, source: str) -> tuple:
    return next(r for r in world["runs"] if r[0] == source)


def test_crawl_finished(world):
    assert "Traceback" not in world["first"].stderr, world["first"].stderr[-3000:]
    sources = {r[0] for r in world["runs"]}
    assert {"path_body", "dev_zero", "bad_date", *RETRY_AFTER} <= sources


@pytest.mark.parametrize("source", ["path_body", "dev_zero"])
def test_body_that_is_a_path_is_parsed_as_data(world, source):
    assert paths(world, "/path/leak") == []  # the local file's links were never followed
    assert any("not a valid RSS/Atom feed" in e for e in errors_of(world, source)), errors_of(world, source)
    assert first_run(world, source)[1] == "failed"


def test_sitemap_file_urls_are_never_read(world):
    assert paths(world, "/smf/leak") == []
    found = errors_of(world, "sitemap_file")
    assert any("file://" in e and "local-urlset.xml" in e and "not an http(s) URL" in e for e in found), found
    assert any("file:///etc/passwd" in e and "not an http(s) URL" in e for e in found), found
    assert stored(world, "sitemap_file") == {"a1.html"}  # the other entries go on
    assert first_run(world, "sitemap_file")[1] == "partial"


def test_redirect_to_file_is_refused_and_named(world):
    found = errors_of(world, "redirect_file")
    assert any("refused redirect" in e and "file:///etc/passwd" in e for e in found), found


def test_redirect_to_metadata_is_refused_and_named(world):
    found = errors_of(world, "redirect_meta")
    assert any("http://169.254.169.254/latest/meta-data/" in e and "link-local" in e and "redirected from" in e
               for e in found), found
    assert stored(world, "redirect_meta") == {"a1.html"}


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/iam/", "http://[fe80::1]/x.html",
                                 "http://metadata.google.internal/computeMetadata/v1/"])
def test_link_local_links_are_never_requested(world, url):
    found = errors_of(world, "link_local")
    assert any(url in e and "refused" in e and "link-local" in e for e in found), found
    assert stored(world, "link_local") == {"a1.html"}


def test_private_target_fetched_when_the_source_is_on_loopback(world):
    assert "/pa/a1.html" in world["other_paths"]
    assert stored(world, "private_auto") == {"a1.html"}


def test_private_target_refused_under_deny(world):
    assert "/pd/a1.html" not in world["other_paths"]
    found = errors_of(world, "private_deny")
    assert any("127.0.0.3" in e and "private or loopback" in e for e in found), found
    assert stored(world, "private_deny") == {"a2.html"}  # its own start host is still fetched


@pytest.mark.parametrize(("prefix", "expected"), [
    ("/si/", {"/si/index.xml": 1, "/si/urls.xml": 1, "/si/a1.html": 1}),
    ("/cy/", {"/cy/a.xml": 1, "/cy/b.xml": 1, "/cy/c.xml": 1}),
    ("/dp/", {"/dp/0.xml": 1, "/dp/1.xml": 1, "/dp/2.xml": 1, "/dp/3.xml": 1}),
])
def test_sitemap_loops_fetch_each_sitemap_once(world, prefix, expected):
    requested = paths(world, prefix)
    assert {p: requested.count(p) for p in set(requested)} == expected


def test_sitemap_depth_cap_recorded(world):
    assert any("nested more than 3 levels" in e for e in errors_of(world, "deep")), errors_of(world, "deep")


def test_bad_date_costs_only_its_entry(world):
    assert stored(world, "bad_date") == {"a1.html", "a4.html"}
    assert "/bd/a2.html" not in paths(world, "/bd/")
    source, status, errors, _summary = first_run(world, "bad_date")
    assert status == "partial" and errors == 2
    found = errors_of(world, "bad_date")
    assert any("entry 2" in e and "/bd/a2.html" in e and "impossible date" in e for e in found), found
    assert any("entry 3" in e and "/bd/a3.html" in e for e in found), found


def test_validators_not_saved_after_a_bad_entry(world):
    feed_requests = {path: headers for _m, path, headers in world["second_requests"] if path.endswith("feed.xml")}
    lower = {path: {k.lower() for k in headers} for path, headers in feed_requests.items()}
    assert "if-none-match" in lower["/good_feed/feed.xml"]  # the control: a clean crawl keeps them
    assert not {"if-none-match", "if-modified-since"} & lower["/bad_date/feed.xml"]


@pytest.mark.parametrize("source", sorted(RETRY_AFTER))
def test_hostile_retry_after_marks_source_throttled_bounded(world, source):
    until = world["state"][source][0]
    assert until is not None
    until = datetime.fromisoformat(until).replace(tzinfo=timezone.utc)
    assert until <= world["crawled_at"] + timedelta(days=1, minutes=5)
    run = first_run(world, source)
    assert run[1] == "failed" and "throttled" in run[3]
