"""Untrusted XML (feeds, sitemaps) is checked with defusedxml before anything
parses it: no entity-expansion bombs, no external entities, no DTD tricks."""

from __future__ import annotations

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from xml.etree.ElementTree import Element, ParseError


class UnsafeXml(ValueError):
    pass


def parse_xml(body: bytes) -> Element:
    """Parse with defusedxml; raises UnsafeXml for forbidden constructs, ParseError for broken XML."""
    try:
        return fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXml(f"refused unsafe XML ({exc.__class__.__name__}): entity declarations are not allowed") from None


def check_xml_safety(body: bytes) -> None:
    """Raise UnsafeXml if the document declares entities; broken XML is left to the feed parser,
    which recovers what it can."""
    head = body[:65536]
    if b"<!ENTITY" not in head and b"<!entity" not in head:
        return
    try:
        parse_xml(body)
    except ParseError:
        pass
