"""Untrusted XML (feeds, sitemaps) is checked with defusedxml before anything
parses it: no entity-expansion bombs, no external entities, no DTD tricks."""

from __future__ import annotations

import codecs
import re
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring


class UnsafeXml(ValueError):
    pass


_DECLARED_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]{0,200}?encoding\s*=\s*["'])([A-Za-z0-9._:-]{1,40})(["'])""")


def parse_xml(body: bytes) -> Element:
    """Parse with defusedxml; raises UnsafeXml for forbidden constructs, ParseError for broken XML
    (including an encoding that is unknown or cannot be read)."""
    body = _utf32_as_utf8(body)
    try:
        return _parse(body)
    except (LookupError, ValueError) as exc:  # expat reads no multi-byte legacy encoding (GB2312, Big5, …)
        if isinstance(exc, UnsafeXml):
            raise
        utf8 = _as_utf8(body)
        if utf8 is None:
            raise ParseError(f"cannot read the document's encoding: {exc}") from None
        return _parse(utf8)


_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


def _utf32_as_utf8(body: bytes) -> bytes:
    """Expat reads UTF-8 and UTF-16 but not UTF-32, which feed parsers do read: transcode it, or
    its entity declarations would pass as "broken XML"."""
    if not body.startswith(_UTF32_BOMS):
        return body
    try:
        utf8 = body.decode("utf-32").encode("utf-8")
    except UnicodeDecodeError:
        return body
    match = _DECLARED_ENCODING.match(utf8)
    return match.group(1) + b"utf-8" + match.group(3) + utf8[match.end():] if match else utf8


def _parse(body: bytes) -> Element:
    try:
        return fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXml(f"refused unsafe XML ({exc.__class__.__name__}): entity declarations are not allowed") from None


def _as_utf8(body: bytes) -> bytes | None:
    """The document re-encoded as UTF-8 under its declared encoding, declaration changed to match."""
    match = _DECLARED_ENCODING.match(body)
    if match is None:
        return None
    try:
        text = body[match.end():].decode(match.group(2).decode("ascii"), errors="replace")
    except (LookupError, ValueError):  # not a text codec ("base64"), or one that fails anyway ("punycode")
        return None
    return match.group(1) + b"utf-8" + match.group(3) + text.encode("utf-8")


_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)


def check_xml_safety(body: bytes) -> None:
    """Raise UnsafeXml if the document declares entities; broken XML is left to the feed parser,
    which recovers what it can.

    The whole body is searched (a prolog can hold megabytes of comments before its DTD), with NUL
    bytes dropped so that a UTF-16 or UTF-32 document's declarations are seen too."""
    if not _ENTITY_DECLARATION.search(body.replace(b"\x00", b"") if b"\x00" in body[:4096] else body):
        return
    try:
        parse_xml(body)
    except ParseError:
        pass
