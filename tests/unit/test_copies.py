"""monitor.dedup.copies: the copy decisions the crawler's pipelines and archive
writer act on, as pure functions of the candidate and what the archive holds."""

from __future__ import annotations

import pytest

from monitor.dedup.copies import (
    Candidate,
    Revisit,
    exact_copies,
    is_redirect_copy,
    needs_archive_check,
    revisit_verdict,
)


def candidate(url: str, source: str = "agency", text: str = "h1") -> Candidate:
    return Candidate(canonical_url=url, source=source, content_hash=text)


# (name, batch, archive {canonical URL or (source, hash): archived canonical URL}, expected originals)
EXACT_CASES = [
    ("all new", [candidate("http://a/1", text="h1"), candidate("http://a/2", text="h2")], {}, [None, None]),
    ("same URL twice in a batch: the first wins",
     [candidate("http://a/1", text="h1"), candidate("http://a/1", text="h2")], {}, [None, "http://a/1"]),
    ("same text, same source, other URL", [candidate("http://a/1"), candidate("http://a/2")], {},
     [None, "http://a/1"]),
    ("same text from another outlet: not a copy (it joins the story)",
     [candidate("http://a/1", "agency"), candidate("http://b/1", "farm")], {}, [None, None]),
    ("archived URL", [candidate("http://a/1")], {"http://a/1": "http://a/1"}, ["http://a/1"]),
    ("archived text of the same source", [candidate("http://a/9")], {("agency", "h1"): "http://a/1"},
     ["http://a/1"]),
    ("a copy of an archived article is not the original of a later one",
     [candidate("http://a/1", text="h1"), candidate("http://a/2", text="h1")], {("agency", "h1"): "http://a/0"},
     ["http://a/0", "http://a/0"]),
]


@pytest.mark.parametrize(("name", "batch", "archive", "expected"), EXACT_CASES, ids=[c[0] for c in EXACT_CASES])
def test_exact_copies(name, batch, archive, expected):
    asked: list[Candidate] = []

    def archived_original(c: Candidate) -> str | None:
        asked.append(c)
        return archive.get(c.canonical_url) or archive.get((c.source, c.content_hash))

    assert exact_copies(batch, archived_original) == expected
    # The archive is asked only about candidates with no earlier copy in the batch.
    first_in_batch = [c for i, c in enumerate(batch) if all(
        c.canonical_url != e.canonical_url and (c.source, c.content_hash) != (e.source, e.content_hash)
        for e, original in zip(batch[:i], expected[:i]) if original is None)]
    assert asked == first_in_batch


@pytest.mark.parametrize(("archived_hash", "new_hash", "verdict"), [
    (None, "h1", Revisit.NEW),
    ("h1", "h1", Revisit.UNCHANGED),
    ("h1", "h2", Revisit.REVISION),
])
def test_revisit_verdict(archived_hash, new_hash, verdict):
    assert revisit_verdict(archived_hash, new_hash) is verdict


@pytest.mark.parametrize(("canonical", "requested", "check"), [
    ("http://a.com/x", "http://a.com/x?utm_source=rss", False),  # the URL the spider looked up
    ("http://a.com/story/x", "http://a.com/x", True),  # redirected or declared elsewhere
])
def test_needs_archive_check(canonical, requested, check):
    assert needs_archive_check(canonical, requested) is check


@pytest.mark.parametrize(("archived", "revisit", "copy"), [
    (True, False, True), (False, False, False), (True, True, False), (False, True, False),
])
def test_redirect_copy(archived, revisit, copy):
    assert is_redirect_copy(archived, revisit) is copy
