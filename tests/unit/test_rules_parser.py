"""The rule parser: the trees it builds, the errors it reports, and that it never crashes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import RuleSyntaxError
from monitor.rules import And, Document, Near, Not, Or, Term, compile_query, parse_query

a, b, c = Term("a"), Term("b"), Term("c")

TREES = [
    ("a", a),
    ("a b", And((a, b))),
    ("a AND b", And((a, b))),
    ("a OR b", Or((a, b))),
    ("a or b", And((a, Term("or"), b))),                 # operators only in capitals
    ("a OR b c", Or((a, And((b, c))))),
    ("a OR b AND c", Or((a, And((b, c))))),
    ("(a OR b) c", And((Or((a, b)), c))),
    ("NOT a b", And((Not(a), b))),
    ("NOT a OR b", Or((Not(a), b))),
    ("NOT NOT a", Not(Not(a))),
    ("a NOT b", And((a, Not(b)))),
    ("a NEAR/3 b c", And((Near((a,), (b,), 3), c))),
    ("a OR b NEAR/3 c", Or((a, Near((b,), (c,), 3)))),
    ("NOT a NEAR/3 b", Not(Near((a,), (b,), 3))),
    ("(a OR b) NEAR/2 c", Near((a, b), (c,), 2)),
    ("(a OR (b OR c)) NEAR/2 c", Near((a, b, c), (c,), 2)),
    ('"New  Quality" NEAR/0 b*', Near((Term("New Quality", phrase=True),), (Term("b", prefix=True),), 0)),
    ("innovat*", Term("innovat", prefix=True)),
    ('"new product*"', Term("new product", phrase=True, prefix=True)),
    ("title:a", Term("a", field="title")),
    ("Title: a", Term("a", field="title")),              # space after the colon is fine
    ("title:(a OR NOT b)", Or((Term("a", field="title"), Not(Term("b", field="title"))))),
    ("text:(a NEAR/1 b)", Near((Term("a", field="text"),), (Term("b", field="text"),), 1)),
    ('source:"Xinhua English"', Term("Xinhua English", phrase=True, field="source")),
    ("lang:zh 新质生产力", And((Term("zh", field="lang"), Term("新质生产力")))),
    ("新质生产力", Term("新质生产力")),
    ("（a OR b）", Or((a, b))),                           # full-width parentheses
    ("“a b”", Term("a b", phrase=True)),                 # curly quotes
    ("NEARBY", Term("NEARBY")),
    ("ANDROID OR ORACLE", Or((Term("ANDROID"), Term("ORACLE")))),
    ("a AND(b)", And((a, b))),
    # -- ONEAR, site:, url:, "phrase"~n
    ("a ONEAR/3 b", Near((a,), (b,), 3, ordered=True)),
    ("a ONEAR/3 b c", And((Near((a,), (b,), 3, ordered=True), c))),
    ("NOT a ONEAR/0 b", Not(Near((a,), (b,), 0, ordered=True))),
    ("(a OR b) ONEAR/2 新质", Near((a, b), (Term("新质"),), 2, ordered=True)),
    ("title:(a ONEAR/1 b)", Near((Term("a", field="title"),), (Term("b", field="title"),), 1, ordered=True)),
    ("ONEARBY", Term("ONEARBY")),
    ("site:xinhuanet.com", Term("xinhuanet.com", field="site")),
    ("site:News.XinhuaNet.com.", Term("news.xinhuanet.com", field="site")),
    ("site:https://www.x.com:8080/a/b", Term("www.x.com", field="site")),
    ("site:*.x.com", Term("x.com", field="site")),
    ("SITE：x.com chip", And((Term("x.com", field="site"), Term("chip")))),
    ("chip AND site:x.com", And((Term("chip"), Term("x.com", field="site")))),
    ("url:/2024-03/", Term("/2024-03/", field="url")),
    ("url:https://x.com/a(b) c", And((Term("https://x.com/a", field="url"), Term("b"), c))),
    ("site:http://x.com/ OR b", Or((Term("x.com", field="site"), b))),
    ("url:*/world/*.htm", Term("*/world/*.htm", field="url")),
    ('url:"/a b/"', Term("/a b/", phrase=True, field="url")),
    ("title:(a OR site:x.com)", Or((Term("a", field="title"), Term("x.com", field="site")))),
    ('"a b"~2', Term("a b", phrase=True, slop=2)),
    ('"a b"~0', Term("a b", phrase=True)),
    ('"a  b*"~1 c', And((Term("a b", phrase=True, prefix=True, slop=1), c))),
    ('title:"a b"~3', Term("a b", phrase=True, field="title", slop=3)),
    ('"a b"~2 NEAR/3 c', Near((Term("a b", phrase=True, slop=2),), (c,), 3)),
    ("“a b”～2", Term("a b", phrase=True, slop=2)),
]


@pytest.mark.parametrize("query, tree", TREES)
def test_parse_tree(query, tree):
    assert parse_query(query) == tree


ERRORS = [
    # query, fragment of the message, position
    ("", "empty query", 0),
    ("   ", "empty query", 0),
    ("(chips", "add the missing ')'", 0),
    ("((chips) OR x", "add the missing ')'", 0),
    ("chips)", "no '(' for it to close", 5),
    ("chips OR", "ends where a term was expected", 8),
    ("chips AND", "ends where a term was expected", 9),
    ("chips NOT", "ends where a term was expected", 9),
    ("OR chips", "a term is missing before OR", 0),
    ("chips AND OR wafer", "a term is missing before OR", 10),
    ("chips OR ) wafer", "a term is missing before ')'", 9),
    ("AND", "a term is missing before AND", 0),
    ("()", "empty parentheses", 1),
    ("titel:chips", "unknown field scope 'titel:' (did you mean title:?)", 0),
    ("uri:chips", "the known scopes are title:, text:, source:, lang:, site:, url:", 0),
    ("uri:chips", "did you mean url:?", 0),
    ("Note: chips", "put it in quotes", 0),
    ("title:", "title: must be followed by a term", 0),
    ("title: OR x", "title: must be followed by a term", 0),
    ("a title:NOT b", "title: must be followed by a term", 2),
    ("title:text:chips", "cannot follow another", 6),
    ('"unclosed', "unclosed quote", 0),
    ('chip "unclosed', "unclosed quote", 5),
    ('""', "empty phrase", 0),
    ('"  "', "empty phrase", 0),
    ('"…, —"', "the phrase has no letters or digits", 0),
    ("chip NEAR exports", "NEAR needs a number", 5),
    ("chip NEAR/ exports", "NEAR needs a number", 5),
    ("chip NEAR/x exports", "NEAR needs a number", 5),
    ("chip NEAR/５ exports", "NEAR needs a number", 5),
    ("NEAR/3 chip", "a term is missing before NEAR", 0),
    ("chip NEAR/3", "ends where a term was expected", 11),
    ("chip NEAR/3 NOT x", "a term is missing before NOT", 12),
    ("(a AND b) NEAR/3 c", "NEAR joins terms, phrases or (a OR b) groups", 0),
    ("c NEAR/3 (a NOT b)", "NEAR joins terms, phrases or (a OR b) groups", 9),
    ("a NEAR/2 b NEAR/2 c", "NEAR cannot be chained", 11),
    ("source:x NEAR/2 y", "not on source:, lang:", 0),
    ("y NEAR/2 lang:en", "not on source:, lang:", 9),
    ("source:(x NEAR/2 y)", "not on source:, lang:", 7),
    ("title:a NEAR/2 text:b", "both sides in the same field", 8),
    ("in*vest", "a wildcard can only end a word", 0),
    ("*vest", "a wildcard can only end a word", 0),
    ("a *", "a wildcard can only end a word", 2),
    ('"new * forces"', "a wildcard can only end a word", 0),
    ("chip -wafer", "write NOT wafer", 5),
    ("chip && wafer", "write AND", 5),
    ("chip || wafer", "write OR", 5),
    ("chip | wafer", "write OR", 5),
    ("chip + wafer", "'+' has no letters or digits", 5),
    ("chip 。", "no letters or digits", 5),
    ("(" * 100 + "a" + ")" * 100, "nested more than 64 levels", 64),
    # -- ONEAR, site:, url:, "phrase"~n
    ("chip ONEAR/ exports", "ONEAR needs a number", 5),
    ("chip ONEAR exports", "ONEAR needs a number", 5),
    ("chip ONEAR/x exports", "ONEAR needs a number", 5),
    ("ONEAR/3 chip", "a term is missing before ONEAR", 0),
    ("chip ONEAR/3", "ends where a term was expected", 12),
    ("a ONEAR/2 b NEAR/2 c", "NEAR cannot be chained", 12),
    ("(a AND b) ONEAR/3 c", "ONEAR joins terms, phrases or (a OR b) groups", 0),
    ("chip ONEAR/3 site:x.com", "not on source:, lang:, site: or url:", 13),
    ("title:a ONEAR/2 text:b", "ONEAR needs both sides in the same field", 8),
    ("site:", "site: must be followed by a value, e.g. site:xinhuanet.com", 0),
    ("chip site:", "site: must be followed by a value", 5),
    ("site: OR x", "site: must be followed by a value", 0),
    ("site:(a.com OR b.com)", "write site:a OR site:b", 0),
    ("site:*", "site: takes a host name or a domain", 5),
    ("site:a*.com", "site: takes a host name or a domain", 5),
    ("site:https://", "site: takes a host name or a domain", 5),
    ('site:"a b"', "site: takes a host name or a domain", 5),
    ("url:", "url: must be followed by a value", 0),
    ("url:**", "url: needs some characters of the URL", 4),
    ("title:site:x.com", "cannot follow another", 6),
    ('"a b"~x', "~ after a phrase needs a number of words", 5),
    ('"a b"~', "~ after a phrase needs a number of words", 5),
    ('chip "a b"~-1', "~ after a phrase needs a number of words", 10),
    ('"a b"~５', "~ after a phrase needs a number of words", 5),
    ('source:"a b"~2', "~ only applies to phrases searched in the title and text", 7),
    ('url:"a b"~2', "~ only applies to phrases searched in the title and text", 4),
    ("NOT " * 100 + "a", "nested more than 64 levels", 256),
    ("chips\x00 wafer", "control character U+0000", 5),
    ('"a\x1b[31m"', "control character U+001B", 2),
]


@pytest.mark.parametrize("query, words, position", ERRORS)
def test_parse_errors(query, words, position):
    with pytest.raises(RuleSyntaxError) as info:
        parse_query(query)
    assert words in str(info.value)
    assert info.value.position == position
    assert info.value.query == query
    assert "⟨here⟩" in str(info.value)  # the message shows where


QUERY_PIECES = ["a", "b", "新质", "chip*", '"x y"', '"x y"~2', "~", "~3", "ONEAR/1", "ONEAR", "site:", "url:", "x.com",
                "*/a*", '"', "(", ")", "（", "）", "AND", "OR", "NOT", "NEAR/2", "NEAR",
                "NEAR/x", "title:", "source:", "lang:", "foo:", "*", "-", "&&", "：", " ", "  ", "“", "。", "\n"]


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(QUERY_PIECES), max_size=14).map(" ".join),
                 st.lists(st.sampled_from(QUERY_PIECES), max_size=14).map("".join)))
def test_parser_only_raises_syntax_errors(text):
    try:
        query = parse_query(text)
    except RuleSyntaxError as exc:
        assert exc.position is not None and 0 <= exc.position <= len(text)
        return
    compiled = compile_query(query)
    document = Document(title=text, text=text, source=text, language=text, url=text)
    compiled.matches(document)
    for start, end in compiled.highlights(document):
        assert 0 <= start < end <= len(text)
