"""The rule language: table-driven matching cases, highlights and snippets."""

from __future__ import annotations

from dataclasses import replace

import pytest

from monitor.rules import Document, PreparedDocument, compile_query, snippet

XINHUA = Document(
    title="Xinhua Headlines: China Revs Up Developing Tech-Savvy Industries",
    text="BEIJING, March 1 (Xinhua) -- In the smart factory of Chang Guang Satellite Technology, robotic "
         "platforms manufacture optical lenses. Yu explained that new productive forces are productivity in "
         "which scientific and technological innovation plays a leading role. Chip exports grew.",
    source="xinhua_english", language="en",
)
JJCKB = Document(
    title="科技创新开启“新质生产力”之门",
    text="当前，新一轮科技革命和产业变革与我国加快转变经济发展方式形成历史性交汇。加快形成新质生产力，"
         "北京、上海等地整合科技创新资源。５Ｇ手机出货量增长。ＦＵＬＬ-width Ｌetters stay searchable.",
    source="jjckb", language="zh-CN",
)
NQPF = '"new quality productive forces" OR 新质生产力'
XINHUA_URL = replace(XINHUA, url="https://News.Xinhuanet.com:443/english/2024-03/01/c_1310766.htm?src=rss")
JJCKB_URL = replace(JJCKB, url="http://www.jjckb.cn/2024-03/05/c_1310766.htm")


def doc(text: str, title: str = "", **kw) -> Document:
    return Document(title=title, text=text, **kw)


CASES = [
    # query, document, expected
    # -- words, case and folding
    ("satellite", XINHUA, True),
    ("SATELLITE", XINHUA, True),
    ("satellites", XINHUA, False),                       # Latin terms match whole words
    ("chip", doc("chips are scarce"), False),
    ("chip*", doc("chips are scarce"), True),
    ("satellit*", XINHUA, True),
    ("innovat*", XINHUA, True),
    ("innovat*", doc("innovator"), True),
    ("innovat*", doc("in novation"), False),
    ("full-width letters", JJCKB, True),                 # NFKC folds full-width letters
    ("ＣＨＩＰ", doc("chip"), True),                      # ... in the query too
    ("straße", doc("STRASSE"), True),                    # casefold, not lower
    ("u.s.", doc("the U.S. economy"), True),             # punctuation inside a word is a sequence
    ("5g", JJCKB, True),
    ("and", XINHUA, True),                               # lowercase and/or are ordinary words
    ("or", doc("this or that"), True),
    ("or", doc("this and that"), False),
    # -- Chinese: no word boundaries
    ("新质生产力", JJCKB, True),
    ("新质生产力", doc("发展新质生产力的"), True),
    ("生产", JJCKB, True),
    ("新质生产力", doc("新质，生产力"), False),            # a Chinese term is a substring
    ("新质生产", doc("新质 生产力"), False),
    ('"新质 生产力"', doc("新质生产力"), True),             # a space in the query: a sequence
    ("5g手机", JJCKB, True),                             # mixed scripts, full-width digit folded
    ("5g手机", doc("5G 手机"), True),
    ("手机5g", JJCKB, False),
    ("科技 上海", JJCKB, True),                          # adjacent terms: AND
    ("科技 广州", JJCKB, False),
    ("ｃｈｉｐ", doc("芯片chip短缺"), True),               # Latin word between CJK characters
    # -- phrases
    ('"new productive forces"', XINHUA, True),
    ('"productive new forces"', XINHUA, False),
    ('"NEW   productive\nforces"', XINHUA, True),
    ('"new productive force"', XINHUA, False),
    ('"new productive forc*"', XINHUA, True),            # a phrase may end with a prefix
    ('"smart factory"', doc("smart, factory"), True),    # punctuation between words is ignored
    ("“new productive forces”", XINHUA, True),           # curly quotes are quotes
    (NQPF, XINHUA, False),
    (NQPF, JJCKB, True),
    (NQPF, doc("Developing new quality productive forces is key"), True),
    # -- boolean structure and precedence
    ("china AND chip", XINHUA, True),
    ("china AND wafer", XINHUA, False),
    ("wafer OR chip", XINHUA, True),
    ("chip NOT wafer", XINHUA, True),
    ("chip NOT exports", XINHUA, False),
    ("chip AND NOT exports", XINHUA, False),
    ("NOT wafer", XINHUA, True),                         # a lone NOT: documents without it
    ("NOT chip", XINHUA, False),
    ("NOT NOT chip", XINHUA, True),
    ("(wafer OR lens*) AND (optical OR sonar)", XINHUA, True),
    ("（wafer OR lens*） AND （optical OR sonar）", XINHUA, True),  # full-width parentheses
    ("a OR b AND c", doc("a"), True),                    # AND binds tighter than OR
    ("a OR b c", doc("a"), True),                        # ... implicit AND too
    ("(a OR b) c", doc("a"), False),
    ("NOT a OR b", doc("b a"), True),                    # NOT binds tighter than OR
    ("NOT a b", doc("b"), True),                         # ... and than AND
    ("NOT a b", doc("a b"), False),
    # -- field scopes
    ("title:china", XINHUA, True),
    ("title:satellite", XINHUA, False),
    ("text:satellite", XINHUA, True),
    ("text:headlines", XINHUA, False),
    ("TITLE:china", XINHUA, True),
    ("title：新质生产力", JJCKB, True),                   # full-width colon
    ("title:(wafer OR headlines)", XINHUA, True),
    ("title:(chip OR semiconductor)", XINHUA, False),
    ("title:(china NOT revs)", XINHUA, False),
    ('title:"tech-savvy industries"', XINHUA, True),
    ("title:(text:satellite)", XINHUA, True),            # the inner scope wins
    ("china chip", XINHUA, True),                        # unscoped terms search title and text
    ("source:xinhua_english", XINHUA, True),
    ("source:XINHUA_English", XINHUA, True),
    ("source:xinhua", XINHUA, False),                    # the whole source name
    ("source:xinhua*", XINHUA, True),
    ("source:(jjckb OR xinhua_english)", XINHUA, True),
    ("NOT source:jjckb", XINHUA, True),
    ("lang:zh", JJCKB, True),                            # a language code: zh matches zh-CN
    ("lang:zh-cn", JJCKB, True),
    ("lang:zh_CN", JJCKB, True),
    ("lang:zh-tw", JJCKB, False),
    ("lang:zh", XINHUA, False),
    ("lang:z", JJCKB, False),                            # subtags, not any prefix
    ("lang:en", doc("x", language=None), False),
    ("lang:zh 新质生产力", JJCKB, True),
    # -- proximity
    ("chip NEAR/1 exports", XINHUA, True),
    ("exports NEAR/1 chip", XINHUA, True),               # either order
    ("chip NEAR/0 exports", XINHUA, True),               # NEAR/0: adjacent
    ("chang NEAR/2 technology", XINHUA, True),           # two words between them
    ("chang NEAR/1 technology", XINHUA, False),
    ("technology NEAR/2 chang", XINHUA, True),
    ('"smart factory" NEAR/5 satellite', XINHUA, True),
    ('satellite NEAR/3 "smart factory"', XINHUA, True),
    ('satellite NEAR/2 "smart factory"', XINHUA, False),
    ("robot* NEAR/3 lens*", XINHUA, True),
    ("(robot OR robotic) NEAR/3 (lens OR lenses)", XINHUA, True),   # groups of alternatives
    ("(robot OR android) NEAR/3 lenses", XINHUA, False),
    ("chip NEAR/5 chip", doc("one chip only"), False),   # two different occurrences needed
    ("chip NEAR/5 chip", doc("chip and chip"), True),
    ("china NEAR/50 satellite", XINHUA, False),          # not across title and text
    ("title:china NEAR/2 revs", XINHUA, True),
    ("text:china NEAR/2 revs", XINHUA, False),
    ("title:(china NEAR/1 up)", XINHUA, True),
    ("NOT chip NEAR/1 exports", XINHUA, False),          # NOT (chip NEAR/1 exports)
    ("科技 NEAR/3 资源", JJCKB, True),                    # NEAR counts characters in Chinese
    ("科技 NEAR/1 资源", JJCKB, False),
    ("新质生产力 NEAR/5 北京", JJCKB, True),              # punctuation is not a position
    ("新质生产力 NEAR/2 productive", doc("新质生产力 new productive forces"), True),
    ("新质生产力 NEAR/0 productive", doc("新质生产力 new productive forces"), False),
    # -- ordered proximity: ONEAR
    ("chip ONEAR/1 exports", XINHUA, True),
    ("exports ONEAR/1 chip", XINHUA, False),             # the first term must come first
    ("chip ONEAR/0 exports", XINHUA, True),
    ("chang ONEAR/2 technology", XINHUA, True),
    ("chang ONEAR/1 technology", XINHUA, False),
    ("technology ONEAR/5 chang", XINHUA, False),
    ('"smart factory" ONEAR/5 satellite', XINHUA, True),
    ('satellite ONEAR/5 "smart factory"', XINHUA, False),
    ("b ONEAR/1 a", doc("a b x a"), True),               # any pair in order will do
    ("b ONEAR/0 a", doc("a b x a"), False),
    ("chip ONEAR/5 chip", doc("one chip only"), False),
    ("chip ONEAR/5 chip", doc("chip and chip"), True),
    ("(robot OR robotic) ONEAR/3 (lens OR lenses)", XINHUA, True),
    ("(lens OR lenses) ONEAR/3 (robot OR robotic)", XINHUA, False),
    ("robot* ONEAR/3 lens*", XINHUA, True),
    ("title:china ONEAR/3 tech*", XINHUA, True),
    ("title:china ONEAR/2 tech*", XINHUA, False),
    ("china ONEAR/50 satellite", XINHUA, False),         # not across title and text
    ("NOT exports ONEAR/1 chip", XINHUA, True),
    ("科技 ONEAR/3 资源", JJCKB, True),                   # Chinese: characters, no word boundaries
    ("资源 ONEAR/3 科技", JJCKB, False),
    ("新质 ONEAR/0 生产力", JJCKB, True),                  # inside a longer run
    ("生产力 ONEAR/0 新质", JJCKB, False),
    ("新质生产力 ONEAR/2 productive", doc("新质生产力 new productive forces"), True),
    ("productive ONEAR/2 新质生产力", doc("新质生产力 new productive forces"), False),
    # -- phrases with slop: "a b"~n
    ('"chang technology"~2', XINHUA, True),               # chang guang satellite technology
    ('"chang technology"~1', XINHUA, False),
    ('"chang technology"~0', XINHUA, False),
    ('"technology chang"~5', XINHUA, False),              # in order
    ('"productive forces"~0', XINHUA, True),
    ('"new forces"~1', XINHUA, True),
    ('"new productivity"~2', XINHUA, False),              # three words between them
    ('"new productivity"~3', XINHUA, True),
    ('"new forc*"~1', XINHUA, True),                     # a prefix at the end
    ('"a b c"~1', doc("a x b y c"), True),                # each gap on its own
    ('"a b c"~1', doc("a x y b c"), False),
    ('"a b c"~1', doc("a x y b a b x c"), True),          # a later start completes
    ('"a a"~1', doc("a"), False),
    ('"a a"~1', doc("a x a"), True),
    ('"smart lenses"~10', XINHUA, True),
    ('"smart lenses"~9', XINHUA, False),
    ('title:"china tech"~3', XINHUA, True),
    ('text:"china tech"~3', XINHUA, False),
    ('"新质 北京"~3', JJCKB, True),                        # Chinese: up to n characters between
    ('"新质 北京"~2', JJCKB, False),
    ('"新质生产力 北京"~1', doc("形成新质生产力，北京"), True),  # punctuation is not a position
    ('"新质生产力 北京"~0', doc("形成新质生产力，北京"), True),
    ('"新质生产力 北京"~1', doc("新质生产 力北京"), False),     # a glued run stays a substring
    ('"chip grew"~1 NEAR/0 role', XINHUA, True),
    # -- site: and url:
    ("site:xinhuanet.com", XINHUA_URL, True),             # a parent domain
    ("site:news.xinhuanet.com", XINHUA_URL, True),        # the host itself
    ("site:NEWS.XINHUANET.COM", XINHUA_URL, True),
    ("site:com", XINHUA_URL, True),
    ("site:inhuanet.com", XINHUA_URL, False),             # labels, not characters
    ("site:evilxinhuanet.com", replace(XINHUA, url="http://xinhuanet.com/a"), False),
    ("site:xinhuanet.com", replace(XINHUA, url="http://evilxinhuanet.com/a"), False),
    ("site:xinhuanet.com", replace(XINHUA, url="http://xinhuanet.com.evil.org/a"), False),
    ("site:xinhuanet.com", replace(XINHUA, url="http://evil.org/?r=xinhuanet.com"), False),
    ("site:www.xinhuanet.com", XINHUA_URL, False),
    ("site:xinhuanet.com", replace(XINHUA, url="HTTP://XinhuaNet.com./x"), True),
    ("site:xinhuanet.com", XINHUA, False),               # no URL
    ("site:xinhuanet.com", replace(XINHUA, url="http://[xinhuanet.com/"), False),  # no host in a broken URL
    ("site:xinhuanet.com", replace(XINHUA, url="xinhuanet.com/a"), True),  # no scheme
    ("url:[xinhuanet", replace(XINHUA, url="http://[xinhuanet.com/"), True),
    ("site:https://xinhuanet.com/world", XINHUA_URL, True),  # written as a URL: its host
    ("site:*.xinhuanet.com", XINHUA_URL, True),
    ("url:/english/", XINHUA_URL, True),
    ("url:/ENGLISH/2024-03", XINHUA_URL, True),          # case does not matter
    ("url:/world/", XINHUA_URL, False),
    ("url:english*.htm", XINHUA_URL, True),               # * stands for any characters
    ("url:*/2024-03/*/c_*.htm", XINHUA_URL, True),
    ("url:.htm*english", XINHUA_URL, False),
    ("url:https://news.xinhuanet.com/", XINHUA_URL, False),  # the URL as given: here with a port
    ("url:https://news.xinhuanet.com:443/", XINHUA_URL, True),
    ("url:src=rss", XINHUA_URL, True),
    ("url:x", XINHUA, False),
    ("chip AND site:xinhuanet.com", XINHUA_URL, True),
    ("chip AND site:jjckb.cn", XINHUA_URL, False),
    ("chip NOT site:xinhuanet.com", XINHUA_URL, False),
    ("NOT site:jjckb.cn", XINHUA_URL, True),
    ("site:jjckb.cn OR site:xinhuanet.com", XINHUA_URL, True),
    ("site:jjckb.cn 新质生产力", JJCKB_URL, True),
    ("title:(site:jjckb.cn)", JJCKB_URL, True),
    ("site:jjckb.cn AND url:/2024-03/ AND 科技 ONEAR/3 资源", JJCKB_URL, True),
    # -- empty and odd documents
    ("chip", doc(""), False),
    ("NOT chip", doc(""), True),
    ("chip", Document(title=None, text=None), False),    # type: ignore[arg-type]
]


@pytest.mark.parametrize("query, document, expected", CASES)
def test_matching(query, document, expected):
    assert compile_query(query).matches(document) is expected


def test_a_prepared_document_is_reused_across_queries():
    prepared = PreparedDocument(XINHUA)
    assert compile_query("satellite").matches(prepared)
    assert compile_query("title:china").matches(prepared)
    assert prepared.text is prepared.text  # tokenized once


def _spans(query: str, document: Document) -> list[str]:
    return [document.text[a:b] for a, b in compile_query(query).highlights(document)]


HIGHLIGHTS = [
    ("lenses", XINHUA, ["lenses"]),
    ("LENS*", XINHUA, ["lenses"]),
    ('"optical lenses" OR optical', XINHUA, ["optical lenses"]),     # overlaps merged
    ("chip OR wafer", XINHUA, ["Chip"]),
    ("title:china OR lenses", XINHUA, ["lenses"]),
    ("title:china", XINHUA, []),                                     # title hits are not in the text
    ("chip NOT exports", XINHUA, []),                                # no match, no highlights
    ("(lenses AND wafer) OR chip", XINHUA, ["Chip"]),                # only the branch that matched
    ("lenses NOT wafer", XINHUA, ["lenses"]),
    ("chip NEAR/1 exports", XINHUA, ["Chip", "exports"]),
    ("新质生产力", JJCKB, ["新质生产力"]),
    ("科技", JJCKB, ["科技", "科技"]),
    ("5g", JJCKB, ["５Ｇ"]),                                          # spans in the original text
    ("full-width", JJCKB, ["ＦＵＬＬ-width"]),
    ("cafe", doc("Café or cafe\u0301 or cafe"), ["cafe"]),
    ("café", doc("Café or cafe\u0301 or cafe"), ["Café", "cafe\u0301"]),
    ("strasse", doc("Die Straße, die STRASSE"), ["Straße", "STRASSE"]),
    ("가", doc("word \u1100\u1161 next"), ["\u1100\u1161"]),                # jamo compose across characters
    ("chip ONEAR/1 exports", XINHUA, ["Chip", "exports"]),
    ("exports ONEAR/1 chip", XINHUA, []),
    ("b ONEAR/1 c", doc("c b x c b"), ["b x c"][:0] + ["b", "c"]),
    ('"chang technology"~2', XINHUA, ["Chang Guang Satellite Technology"]),
    ('"新质 北京"~3', JJCKB, ["新质生产力，北京"]),
    ("lenses AND site:xinhuanet.com", XINHUA_URL, ["lenses"]),
    ("site:xinhuanet.com", XINHUA_URL, []),                          # nothing in the text to mark
    ("科技 ONEAR/3 资源", JJCKB, ["科技", "资源"]),
]


@pytest.mark.parametrize("query, document, expected", HIGHLIGHTS)
def test_highlights(query, document, expected):
    assert _spans(query, document) == expected


LONG = Document(title="Chips", text=" ".join(f"word{i}" for i in range(200)) + " the wafer shortage " +
                " ".join(f"tail{i}" for i in range(200)))


def test_snippet_centres_on_the_first_hit_and_marks_cuts():
    text = snippet(LONG, compile_query("wafer"), width=80)
    assert "the wafer shortage" in text
    assert text.startswith("…") and text.endswith("…")
    assert len(text) <= 80
    assert set(text.strip("…").split()) <= set(LONG.text.split())  # no partial words at the cuts


def test_snippet_starts_at_the_text_when_the_hit_is_in_the_title():
    text = snippet(LONG, compile_query("title:chips"), width=60)
    assert text.startswith("word0 word1") and text.endswith("…") and len(text) <= 60


def test_snippet_short_text_is_whole_and_whitespace_collapsed():
    assert snippet(doc("  a  short\n\ntext "), compile_query("short")) == "a short text"


def test_snippet_of_chinese_text():
    text = snippet(JJCKB, compile_query("新质生产力"), width=30)
    assert "新质生产力" in text and len(text) <= 30 and text.startswith("…")


def test_snippet_for_the_new_operators():
    long = replace(LONG, url="https://news.example.com/a")
    assert "the wafer shortage" in snippet(long, compile_query('"the shortage"~1'), width=80)
    assert "the wafer shortage" in snippet(long, compile_query("wafer ONEAR/1 shortage"), width=80)
    assert "the wafer shortage" in snippet(long, compile_query("site:example.com wafer"), width=80)
    assert snippet(long, compile_query("site:example.com"), width=60).startswith("word0 word1")


def test_snippet_of_xinhua_example():
    text = snippet(XINHUA, compile_query("lenses"), width=60)
    assert "lenses" in text and len(text) <= 60 and text.startswith("…") and text.endswith("…")
