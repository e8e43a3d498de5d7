"""Title, language and other metadata clean-ups."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"\s+[-|–—_·:]\s+|_(?=[^_]{1,20}$)|\s*[|｜]\s*")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")


def clean_title(title: str | None, site_name: str | None = None) -> str | None:
    """Drop a trailing (or leading) site name: 'Story - Xinhua' -> 'Story'."""
    if not title:
        return None
    title = " ".join(title.split())
    parts = [p for p in _SEPARATORS.split(title) if p and p.strip()]
    if len(parts) < 2:
        return title
    site = (site_name or "").strip().lower()
    if site:
        if parts[-1].strip().lower() == site or site in parts[-1].lower():
            return _join_back(title, parts[:-1])
        if parts[0].strip().lower() == site:
            return _join_back(title, parts[1:])
    # Without a known site name, drop a short last part (a site name) after a longer headline.
    last = parts[-1].strip()
    if len(last) <= 30 and len(title) - len(last) >= 2 * len(last) and len(parts) == 2:
        return parts[0].strip()
    return title


def _join_back(title: str, parts: list[str]) -> str:
    """Keep the original separators inside the kept part of the title."""
    if not parts:
        return title
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip(" -|–—_·:")


def detect_language(text: str) -> str | None:
    sample = text[:5000]
    letters = len(_LETTER.findall(sample))
    if not letters:
        return None
    if len(_KANA.findall(sample)) / letters > 0.05:
        return "ja"
    if len(_HANGUL.findall(sample)) / letters > 0.2:
        return "ko"
    if len(_CJK.findall(sample)) / letters > 0.2:
        return "zh"
    latin = sum(1 for ch in sample if ch.isascii() and ch.isalpha())
    if latin / letters > 0.8:
        return "en" if _looks_english(sample) else None
    return None


_ENGLISH = re.compile(r"\b(the|and|of|to|in|is|that|for|with|was|on)\b", re.IGNORECASE)


def _looks_english(sample: str) -> bool:
    words = max(len(sample.split()), 1)
    return len(_ENGLISH.findall(sample)) / words > 0.08
