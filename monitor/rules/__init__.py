"""The rule query language: parse, compile, match (pure: no database, no network).

    compiled = compile_query('"new quality productive forces" OR 新质生产力')
    compiled.matches(Document(title=..., text=...))
    RuleSet({"name": "query", ...}).match(doc)  # names of the matching rules
"""

from monitor.rules.matcher import CompiledQuery, PreparedDocument, compile_query
from monitor.rules.model import And, Document, Near, Not, Or, Query, Term
from monitor.rules.parser import parse_query
from monitor.rules.prefilter import RuleSet
from monitor.rules.snippet import snippet

__all__ = ["And", "CompiledQuery", "Document", "Near", "Not", "Or", "PreparedDocument", "Query", "RuleSet", "Term",
           "compile_query", "parse_query", "snippet"]
