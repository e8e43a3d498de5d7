"""The rule language: table-driven matching cases, parser errors, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import RuleSyntaxError
from monitor.rules import Document, RuleSet, compile_query, parse_query, snippet

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
         "北京、上海等地整合科技创新资源。ＦＵＬＬ-width Ｌetters stay searchable.",
    source="jjckb", language="zh-cn",
)

CASES = [
    # query, document, expected
    ("satellite", XINHUA, True),
    ("SATELLITE", XINHUA, True),
    ("satellites", XINHUA, False),               # whole words for Latin script
    ("satellit*", XINHUA, True),                 # prefix wildcard
    ("innovat*", XINHUA, True),
    ('"new productive forces"', XINHUA, True),
    ('"productive new forces"', XINHUA, False),
    ('"new quality productive forces" OR 新质生产力', XINHUA, False),
    ('"new quality productive forces" OR 新质生产力', JJCKB, True),
    ("新质生产力", JJCKB, True),                 # no word boundaries in Chinese
    ("生产", JJCKB, True),
    ("科技 上海", JJCKB, True),                  # adjacent terms: AND
    ("科技 广州", JJCKB, False),
    ("full-width letters", JJCKB, True),         # NFKC folds full-width letters
    ("china AND chip", XINHUA, True),
    ("china AND wafer", XINHUA, False),
    ("wafer OR chip", XINHUA, True),
    ("chip NOT wafer", XINHUA, True),
    ("chip NOT exports", XINHUA, False),
    ("NOT wafer", XINHUA, True),
    ("(wafer OR lens*) AND (optical OR sonar)", XINHUA, True),
    ("title:china", XINHUA, True),
    ("title:satellite", XINHUA, False),
    ("text:satellite", XINHUA, True),
    ("title:(wafer OR headlines)", XINHUA, True),
    ("source:xinhua_english", XINHUA, True),
    ("source:xinhua", XINHUA, False),
    ("source:xinhua*", XINHUA, True),
    ("lang:zh", JJCKB, True),                    # language prefix: zh matches zh-cn
    ("lang:zh", XINHUA, False),
    ("chip NEAR/1 exports", XINHUA, True),
    ("exports NEAR/1 chip", XINHUA, True),       # either order
    ("chang NEAR/2 technology", XINHUA, True),
    ("chang NEAR/1 technology", XINHUA, False),
    ('"smart factory" NEAR/5 satellite', XINHUA, True),
    ("科技 NEAR/3 资源", JJCKB, True),            # NEAR counts characters in Chinese
    ("and", XINHUA, True),                       # lowercase and/or are words
    ("robotic platforms", XINHUA, True),
    ("a OR b AND c", Document(title="", text="a"), True),   # AND binds tighter than OR
    ("NOT a OR b", Document(title="", text="b a"), True),
]


@pytest.mark.parametrize("query, doc, expected", CASES)
def test_matching(query, doc, expected):
    assert compile_query(query).matches(doc) is expected


ERRORS = [
    ("", "empty query", 0),
    ("(chips", "missing ')'", 0),
    ("chips)", "no '(' to close", 5),
    ("chips OR", "ends where a term was expected", 8),
    ("titel:chips", "unknown field scope 'titel:'", 0),
    ('"unclosed', "unclosed quote", 0),
    ('""', "empty phrase", 0),
    ("chip NEAR exports", "NEAR needs a distance", 5),
    ("(a OR b) NEAR/3 c", "NEAR joins two terms", 9),
    ("()", "empty parentheses", 1),
    ("in*vest", "wildcard goes at the end", 0),
]


@pytest.mark.parametrize("query, words, position", ERRORS)
def test_parse_errors(query, words, position):
    with pytest.raises(RuleSyntaxError) as info:
        parse_query(query)
    assert words in str(info.value)
    assert info.value.position == position


def test_highlights_and_snippet_point_at_the_hit():
    compiled = compile_query("lenses")
    (start, end), = compiled.highlights(XINHUA)
    assert XINHUA.text[start:end] == "lenses"
    text = snippet(XINHUA, compiled, width=60)
    assert "lenses" in text and len(text) <= 64 and text.startswith("…")
    zh = compile_query("新质生产力")
    (start, end), = zh.highlights(JJCKB)
    assert JJCKB.text[start:end] == "新质生产力"


def test_ruleset_matches_rules_in_order():
    rules = RuleSet({"zh": "新质生产力", "sat": "satellite", "none": "wafer", "neg": "NOT wafer",
                     "src": "source:jjckb"})
    assert rules.match(XINHUA) == ["neg", "sat"]
    assert rules.match(JJCKB) == ["neg", "src", "zh"]


words = st.sampled_from(["chip", "chips", "satellite", "新质", "生产力", "wafer", "china", "lens*", "科技",
                         '"smart factory"', "title:china", "source:jjckb", "lang:zh"])
queries = st.recursive(
    words,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from([" AND ", " OR ", " "]), inner).map("".join),
        inner.map(lambda q: f"NOT {q}"),
        inner.map(lambda q: f"({q})"),
    ),
    max_leaves=6,
)
texts = st.lists(st.sampled_from(["chip", "chips", "satellite", "新质生产力", "wafer", "China", "lenses", "科技",
                                  "smart factory", "the", "。"]), max_size=12).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(queries, min_size=1, max_size=6), texts, texts, st.sampled_from(["jjckb", "xinhua"]),
       st.sampled_from(["en", "zh-cn", None]))
def test_prefilter_never_changes_results(rule_queries, title, text, source, language):
    rules = {f"r{i}": q for i, q in enumerate(rule_queries)}
    doc = Document(title=title, text=text, source=source, language=language)
    brute = sorted(name for name, q in rules.items() if compile_query(q).matches(doc))
    assert RuleSet(rules).match(doc) == brute


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_parser_only_raises_syntax_errors(text):
    try:
        query = parse_query(text)
    except RuleSyntaxError:
        return
    compile_query(query).matches(Document(title=text, text=text))
