"""RuleSet: the Aho-Corasick prefilter never changes which rules match; and
properties of matching on generated queries and documents."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.rules import Document, PreparedDocument, RuleSet, compile_query, parse_query
from monitor.rules.prefilter import required_keys, required_literals

XINHUA = Document(title="China revs up tech-savvy industries",
                  text="In the smart factory of Chang Guang Satellite Technology, chip exports grew.",
                  source="xinhua_english", language="en")
JJCKB = Document(title="科技创新开启“新质生产力”之门", text="加快形成新质生产力，北京、上海等地整合科技创新资源。",
                 source="jjckb", language="zh-cn")


def test_ruleset_returns_matching_names_sorted():
    rules = RuleSet({"zh": "新质生产力", "sat": "satellite", "none": "wafer", "neg": "NOT wafer",
                     "src": "source:jjckb", "both": '"new quality productive forces" OR 新质生产力',
                     "near": "chip NEAR/1 exports", "wild": "industr*"})
    assert rules.match(XINHUA) == ["near", "neg", "sat", "wild"]
    assert rules.match(JJCKB) == ["both", "neg", "src", "zh"]
    assert len(rules) == 8


def test_ruleset_skips_rules_whose_literals_are_absent():
    rules = RuleSet({"zh": "新质生产力", "sat": "satellite AND NOT wafer", "neg": "NOT wafer", "lang": "lang:en"})
    assert sorted(rules.always) == ["neg"]
    assert rules.candidates(PreparedDocument(JJCKB)) == {"zh", "neg"}
    assert rules.candidates(PreparedDocument(XINHUA)) == {"sat", "neg", "lang"}


KEYS = [
    ("chip", {("word", "chip")}),                         # a whole token of the document
    ("chip*", {("text", "chip")}),                        # a stem: a substring
    ("新质生产力", {("text", "新质生产力")}),
    ("site:x.com", {("site", "x.com")}),
]


@pytest.mark.parametrize("query, keys", KEYS)
def test_required_keys(query, keys):
    assert required_keys(parse_query(query)) == keys


def test_site_rules_are_candidates_by_host_suffix():
    rules = RuleSet({"x": "site:x.com", "news": "site:news.x.com", "evil": "site:evilx.com", "both": "chip site:x.com"})
    assert rules.always == []
    doc = PreparedDocument(Document(title="", text="chip", url="https://news.x.com/a"))
    assert rules.candidates(doc) == {"x", "news", "both"}
    assert rules.match(doc) == ["both", "news", "x"]
    assert rules.candidates(PreparedDocument(Document(title="", text="no", url="https://evilx.com/"))) == {"evil"}
    assert rules.candidates(PreparedDocument(Document(title="", text="chip"))) == {"both"}


def test_lang_and_source_rules_are_candidates_by_value():
    rules = RuleSet({"zh": "lang:zh NOT 科技", "zhcn": "lang:zh-cn", "tw": "lang:zh-tw", "src": "source:jjckb"})
    assert rules.always == []
    assert rules.candidates(PreparedDocument(JJCKB)) == {"zh", "zhcn", "src"}
    assert rules.match(JJCKB) == ["src", "zhcn"]
    assert rules.candidates(PreparedDocument(Document(title="", text="", language=None))) == set()


def test_empty_ruleset():
    assert RuleSet({}).match(XINHUA) == []


LITERALS = [
    ("chip", {"chip"}),
    ("CHIP*", {"chip"}),                                  # a prefix's stem is a substring too
    ('"new quality productive forces"', {"productive"}),  # the longest word of a phrase
    ("新质生产力", {"新质生产力"}),                           # a glued CJK run is one literal
    ('"新质 生产力"', {"生产力"}),
    ("a OR bb", {"a", "bb"}),
    ("a AND bbb", {"bbb"}),                               # any one required word will do
    ("a NOT bbb", {"a"}),
    ("(a OR b) NEAR/2 ccc", {"ccc"}),
    ("NOT a", None),                                      # matches documents without words
    ("a OR NOT b", None),
    ("source:x", {"x"}),                                  # source: and lang: values are keys too
    ('source:"X  Y"', {"x y"}),
    ("source:x*", None),                                  # ... but not a prefix of one
    ("lang:zh_CN", {"zh-cn"}),
    ("source:x chip", {"chip"}),
    ("lang:zh OR 科技", {"zh", "科技"}),
    ("lang:zh* OR 科技", None),
    ("a ONEAR/2 ccc", {"ccc"}),
    ('"new quality forces"~2', {"quality"}),
    ("site:x.com", {"x.com"}),                            # a site is a key of its own
    ("chip AND site:x.com", {"chip"}),                    # ... but a word narrows more
    ("site:x.com OR site:y.org", {"x.com", "y.org"}),
    ("site:x.com OR chip", {"x.com", "chip"}),
    ("url:/world/", None),                                # url: cannot be looked up: the rule runs
    ("url:/world/ chip", {"chip"}),
    ("NOT site:x.com", None),
]


@pytest.mark.parametrize("query, literals", LITERALS)
def test_required_literals(query, literals):
    found = required_literals(parse_query(query))
    assert (set(found) if found is not None else None) == literals


WORDS = ["chip", "chip*", "chips", "satellite", "新质", "生产力", "新质生产力", "质生", "wafer", "china", "lens*",
         "科技", '"smart factory"', '"新质 生产力"', '"5g 手机"', "5g手机", "u.s.", "straße", "ＣＨＩＰ",
         "title:china", "text:chip", "title:新质", "source:jjckb", "source:xinhua*", "lang:zh", "lang:en"]
TEXT_WORDS = ["chip", "Chips", "satellite", "新质生产力", "新质", "生产力", "wafer", "China", "lenses", "科技", "smart",
              "factory", "smart factory", "the", "。", "，", "５Ｇ", "手机", "U.S.", "STRASSE", "ＣＨＩＰ", "lens"]


def _binary(inner):
    return st.tuples(inner, st.sampled_from([" AND ", " OR ", " "]), inner).map("".join)


def _near():
    operand = st.sampled_from([w for w in WORDS if ":" not in w] + ["(chip OR 科技)", '(wafer OR "smart factory")',
                                                                    '"chip china"~2', '"新质 科技"~3'])
    return st.tuples(operand, st.sampled_from(["NEAR", "ONEAR"]), st.integers(0, 4), operand).map(
        lambda t: f"{t[0]} {t[1]}/{t[2]} {t[3]}")


URL_TERMS = ["site:x.com", "site:news.x.com", "site:com", "site:evilx.com", "url:/world/", "url:a*b", "url:X.COM"]
URLS = ["https://news.x.com/world/ab", "http://x.com/", "http://evilx.com/a/b", "", "https://y.org/World/"]


queries = st.recursive(
    st.one_of(st.sampled_from(WORDS), _near(), st.sampled_from(URL_TERMS),
              st.sampled_from(['"chip china"~1', '"smart lens*"~2', '"新质 科技"~2', '"the chip"~3'])),
    lambda inner: st.one_of(_binary(inner), inner.map(lambda q: f"NOT {q}"), inner.map(lambda q: f"({q})"),
                            inner.map(lambda q: f"title:({q})")),
    max_leaves=6,
)
texts = st.lists(st.sampled_from(TEXT_WORDS), max_size=14).map(lambda words: "".join(
    w if i % 3 == 2 else w + " " for i, w in enumerate(words)))  # some words run together, as in Chinese


@settings(max_examples=400, deadline=None)
@given(st.lists(queries, min_size=1, max_size=8), texts, texts,
       st.sampled_from(["jjckb", "xinhua_english", "JJCKB", ""]), st.sampled_from(["en", "zh-cn", "zh", None]),
       st.sampled_from(URLS))
def test_prefilter_never_changes_results(rule_queries, title, text, source, language, url):
    rules = {f"r{i}": q for i, q in enumerate(rule_queries)}
    doc = Document(title=title, text=text, source=source, language=language, url=url)
    brute = sorted(name for name, q in rules.items() if compile_query(q).matches(doc))
    assert RuleSet(rules).match(doc) == brute


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text)


@settings(max_examples=300, deadline=None)
@given(queries, texts, texts)
def test_case_and_width_do_not_matter(query, title, text):
    compiled = compile_query(query)
    doc = Document(title=title, text=text, source="jjckb", language="zh")
    expected = compiled.matches(doc)
    for change in (str.upper, str.lower, _full_width):
        assert compiled.matches(Document(title=change(title), text=change(text), source="JJCKB", language="ZH")) \
            is expected
    spans = compiled.highlights(doc)
    assert spans == sorted(spans)
    assert all(0 <= a < b <= len(text) for a, b in spans)
    assert all(b1 < a2 for (_, b1), (a2, _) in zip(spans, spans[1:]))  # merged: no overlaps, no touching
    assert not spans or expected


@settings(max_examples=200, deadline=None)
@given(texts, st.sampled_from(["新质", "新质生产力", "科技", "生产力", "质生"]))
def test_glued_runs_found_as_substrings_are_at_the_right_tokens(text, needle):
    from monitor.rules.text import FieldIndex, Pattern

    index = FieldIndex(text)
    pattern = Pattern.of(needle)
    by_spans = [p for p in range(len(index.tokens) - len(pattern.tokens) + 1)
                if tuple(index.tokens[p:p + len(pattern.tokens)]) == pattern.tokens
                and all(index.spans[p + i][1] == index.spans[p + i + 1][0] for i in range(len(pattern.tokens) - 1))]
    assert list(FieldIndex(text).token_indexes_of(pattern.needle)) == by_spans
