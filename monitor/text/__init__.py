"""Shared text rules: which characters are CJK, how dates are written and
parsed, and how text is folded for comparison. Extraction, dedup, rules and
search import them from here so the rules agree everywhere."""
