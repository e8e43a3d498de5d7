"""The extractor on the replay site's pages (replay/site/, built from the same
seeds by the replay-site builder), against the expectations in its
manifest.json. Skipped when the site has not been built."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.extract import extract_article

SITE = Path(__file__).resolve().parents[2] / "replay" / "site"
MANIFEST_FILE = SITE / "manifest.json"
MANIFEST = json.loads(MANIFEST_FILE.read_text(encoding="utf-8")) if MANIFEST_FILE.is_file() else {"pages": []}

pytestmark = pytest.mark.skipif(not MANIFEST_FILE.is_file(), reason="replay/site/manifest.json not built")


def page_file(entry: dict) -> Path:
    file = SITE / (entry.get("file") or entry["path"]).lstrip("/")
    return file / "index.html" if file.is_dir() else file


def extract(entry: dict):
    return extract_article(page_file(entry).read_bytes(), url=entry.get("url"), content_type="text/html")


@pytest.mark.parametrize("entry", MANIFEST["pages"], ids=lambda e: e["path"])
def test_replay_page_matches_manifest(entry):
    result = extract(entry)
    paragraphs = result.text.split("\n\n")
    for sentence in entry.get("body_contains", []):
        assert paragraphs.count(sentence) == 1, f"lost or repeated: {sentence[:60]!r}"
    for chrome in entry.get("chrome_absent", []):
        assert chrome not in result.text, f"chrome left: {chrome!r}"
        assert chrome not in (result.title or "")
    for field in ("title", "author", "date", "language", "encoding", "outlet"):
        if field in entry:
            assert getattr(result, field) == entry[field], field


def _first(predicate):
    found = next((e for e in MANIFEST["pages"] if predicate(e)), None)
    if found is None:
        pytest.skip("the replay site has no such page")
    return found


def test_visible_source_line_becomes_outlet():
    result = extract(_first(lambda e: e["source"] == "jjckb" and e.get("language") == "en"))
    assert result.outlet == "Economic Information Daily"
    assert "Source:" not in result.text


def test_photo_caption_kept_out_of_body():
    result = extract(_first(lambda e: e["source"] == "xinhua_english" and "a1b2c3d4e5f6" in e["path"]))
    assert result.captions and result.captions[0].startswith("A researcher conducts pre-launch preparation")
    assert all(caption not in result.text for caption in result.captions)


def test_blog_date_line_becomes_date():
    result = extract(_first(lambda e: e["source"] == "tech_blog" and e.get("date") == "2021-06-10"))
    assert result.date == "2021-06-10" and " date " not in result.text


def test_content_farm_repeats_kept_once():
    for entry in (e for e in MANIFEST["pages"] if e["source"] == "contentfarm"):
        paragraphs = extract(entry).text.split("\n\n")
        assert len(paragraphs) == len(set(paragraphs)), entry["path"]


def test_same_story_on_two_outlets_extracts_alike():
    """The manifest's stories: the same article republished elsewhere keeps
    its shared paragraphs on both outlets."""
    by_path = {e["path"]: e for e in MANIFEST["pages"]}
    stories = MANIFEST.get("stories", {})
    assert stories, "the manifest lists no stories told by two outlets"
    for story, paths in stories.items():
        assert all(p in by_path for p in paths), f"{story}: a page of the story is not in the manifest"
        texts = [extract(by_path[p]).text for p in paths]
        assert all(texts), f"{story}: an outlet's copy extracted to no text"
        paragraphs = [set(text.split("\n\n")) for text in texts]
        assert set.intersection(*paragraphs), f"{story}: the outlets share no paragraph"
