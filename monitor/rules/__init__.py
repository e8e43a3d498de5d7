"""The rule query language: parse, compile, match (pure: no database, no network)."""

from monitor.rules.matcher import CompiledQuery, PreparedDocument, compile_query, snippet
from monitor.rules.model import Document, Query
from monitor.rules.parser import parse_query
from monitor.rules.prefilter import RuleSet

__all__ = ["CompiledQuery", "Document", "PreparedDocument", "Query", "RuleSet", "compile_query", "parse_query",
           "snippet"]
