"""Page bytes -> text, with the charset found the way browsers do, and the
lies real Chinese sites tell corrected."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))

# Pages declare GB2312 or GBK but contain GB18030 characters (a superset of
# both); declared Big5 pages often use HKSCS extensions.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030",
              "cp936": "gb18030", "big5": "big5hkscs", "iso-8859-1": "cp1252", "latin-1": "cp1252",
              "ascii": "cp1252", "us-ascii": "cp1252"}


def _canonical(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    for alias, superset in _SUPERSETS.items():
        try:
            if codecs.lookup(alias).name == codec:
                return superset
        except LookupError:  # pragma: no cover
            continue
    return codec


def declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    """HTTP header first, then BOM, then <meta>, as HTML5 says."""
    found: list[str] = []
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return [codec]
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        if match and (codec := _canonical(match.group(1))):
            found.append(codec)
    match = _META_CHARSET.search(body[:4096])
    if match and (codec := _canonical(match.group(1).decode("ascii", "ignore"))):
        found.append(codec)
    return found


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, codec). Declared charsets are tried strictly; if all fail, detect."""
    for codec in declared_charsets(body, content_type):
        try:
            text = body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        return text.lstrip("\ufeff"), codec
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(body[:200_000]).best()
    if best is not None and best.encoding:
        codec = _canonical(best.encoding) or best.encoding
        return body.decode(codec, errors="replace"), codec
    return body.decode("utf-8", errors="replace"), "utf-8"
