"""Redis-backed pieces for crawling on many machines."""
