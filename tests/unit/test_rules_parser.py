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
    ("url:chips", "the known scopes are title:, text:, source:, lang:", 0),
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
    ("source:x NEAR/2 y", "not on source: or lang:", 0),
    ("y NEAR/2 lang:en", "not on source: or lang:", 9),
    ("source:(x NEAR/2 y)", "not on source: or lang:", 7),
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
    ("NOT " * 100 + "a", "nested more than 64 levels", 256),
]


@pytest.mark.parametrize("query, words, position", ERRORS)
def test_parse_errors(query, words, position):
    with pytest.raises(RuleSyntaxError) as info:
        parse_query(query)
    assert words in str(info.value)
    assert info.value.position == position
    assert info.value.query == query
    assert "⟨here⟩" in str(info.value)  # the message shows where


QUERY_PIECES = ["a", "b", "新质", "chip*", '"x y"', '"', "(", ")", "（", "）", "AND", "OR", "NOT", "NEAR/2", "NEAR",
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
    document = Document(title=text, text=text, source=text, language=text)
    compiled.matches(document)
    for start, end in compiled.highlights(document):
        assert 0 <= start < end <= len(text)
