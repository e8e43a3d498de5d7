"""Page bytes -> text, with the charset found the way browsers do, and the
lies real Chinese sites tell corrected.

Order: BOM (unambiguous, and what browsers obey) > HTTP header charset >
<meta charset> > detection (charset-normalizer). Two corrections on top:

* GB2312/GBK (and their aliases) are always decoded as GB18030, their
  superset: pages declaring GB2312 routinely contain GBK/GB18030 characters
  (rare surnames, 镕, 喆). Big5 is decoded as Big5-HKSCS for the same reason.
* A declaration is trusted only if the bytes decode strictly with it; when
  they do not, the next source is tried and finally detection, instead of
  producing mojibake. Bytes that are valid UTF-8 with non-ASCII sequences
  are UTF-8 whatever the page claims: legacy encodings practically never
  form valid UTF-8 by accident, while "charset=gb2312" templates serving UTF-8
  are common.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from monitor.text.cjk import CJK_PUNCTUATION_RANGES, HAN_RANGES

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_DETECT_BYTES = 200_000  # charset-normalizer on a sample: enough to decide, bounded in time

# Declared name -> codec actually used (a superset of what the page claims).
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030",
              "cp936": "gb18030", "hz": "gb18030", "big5": "big5hkscs", "cp950": "big5hkscs",
              "iso-8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252"}
_SUPERSET_BY_CODEC: dict[str, str] = {}
for _alias, _superset in _SUPERSETS.items():
    try:
        _SUPERSET_BY_CODEC[codecs.lookup(_alias).name] = _superset
    except LookupError:  # pragma: no cover - every CPython has these
        pass
_WIDE = ("utf-16", "utf-32")


def canonical_codec(name: str | None) -> str | None:
    """A Python codec name for a declared charset, widened to its superset;
    None when the name is unknown."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    return _SUPERSET_BY_CODEC.get(codec, codec)


def declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    """Codecs the page declares, strongest first: BOM, HTTP header, <meta>."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return [codec]
    found: list[str] = []
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        if match and (codec := canonical_codec(match.group(1))):
            found.append(codec)
    match = _META_CHARSET.search(body[:4096])
    if match and (codec := canonical_codec(match.group(1).decode("ascii", "ignore"))):
        # A <meta> cannot truthfully say UTF-16: the parser read it as ASCII.
        if not codec.startswith(_WIDE) and codec not in found:
            found.append(codec)
    return found


def _strict(body: bytes, codec: str) -> str | None:
    """Decode strictly, tolerating only a character cut off at the very end
    (bodies are truncated at a size limit)."""
    try:
        decoder = codecs.getincrementaldecoder(codec)(errors="strict")
        return decoder.decode(body, final=False)
    except (UnicodeDecodeError, LookupError):
        return None


def _is_utf8_text(body: bytes) -> str | None:
    if body.isascii():
        return None
    return _strict(body, "utf-8")


# Legacy codecs web pages actually use (the WHATWG encoding list, less the
# exotic): among near-equal detector guesses, prefer one of these over
# hp_roman8, cp775 or mac_* that win on short or repetitive samples.
_WEB_CODECS = ("cp1252", "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "utf_8", "shift_jis", "euc_jp", "euc_kr",
               "cp949", "cp1251", "koi8_r", "koi8_u", "cp1250", "iso8859_2", "cp1256", "cp1253", "cp1254", "cp1255",
               "cp1257", "cp1258", "cp874", "iso8859_15", "iso2022_jp")
_CLOSE_CHAOS = 0.05


def _detect(sample: bytes):  #- charset_normalizer's CharsetMatch
    results = list(from_bytes(sample))
    if not results:
        return None
    best = results[0]
    close = [m for m in results if m.encoding in _WEB_CODECS and m.chaos <= best.chaos + _CLOSE_CHAOS]
    if not close:
        return best
    # The best language fit among them; the list order breaks ties (cp1252 first).
    return max(close, key=lambda m: (round(m.coherence, 2), -_WEB_CODECS.index(m.encoding)))


_CJK_CODECS = frozenset({"gb18030", "big5hkscs", "shift_jis", "euc_jp", "euc_kr", "cp949", "iso2022_jp"})
# What GB18030 bytes decode to when they really are Chinese: Han characters and Chinese punctuation.
_CHINESE = re.compile(f"[{HAN_RANGES}{CJK_PUNCTUATION_RANGES}]")


def _mostly_chinese(body: bytes) -> str | None:
    text = _strict(body[:_DETECT_BYTES], "gb18030")
    if text is None:
        return None
    wide = [ch for ch in text if ord(ch) > 127]
    if len(wide) < 50 or len(_CHINESE.findall("".join(wide))) < 0.9 * len(wide):
        return None
    return _strict(body, "gb18030")


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, codec actually used). Never raises."""
    declared = declared_charsets(body, content_type)
    bom = any(body.startswith(mark) for mark, _codec in _BOMS)
    if bom:
        text = _strict(body, declared[0])
        if text is not None:
            return text.lstrip("\ufeff"), declared[0]
    if (text := _is_utf8_text(body)) is not None:
        return text, "utf-8"
    for codec in declared:
        if codec == "utf-8" or codec.startswith(_WIDE):
            continue  # already known not to fit
        text = _strict(body, codec)
        if text is not None:
            return text, codec
    if body.isascii():
        return body.decode("ascii"), (declared[0] if declared else "utf-8")
    best = _detect(body[:_DETECT_BYTES])
    if best is not None and best.encoding:
        codec = canonical_codec(best.encoding) or "utf-8"
        if not best.coherence and codec not in _CJK_CODECS and (text := _mostly_chinese(body)) is not None:
            # The detector recognised no language at all (very repetitive pages
            # fool it); bytes that are valid GB18030 and read as Chinese are.
            return text, "gb18030"
        text = _strict(body, codec)
        if text is not None:
            return text, codec
        return body.decode(codec, errors="replace"), codec
    return body.decode("utf-8", errors="replace"), "utf-8"
