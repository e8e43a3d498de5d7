"""What a crawl subprocess (`python -m crawler`) tells its parent on stdout.

One line per source starts with RESULT_PREFIX and carries that source's result
as JSON; every other line is progress for people. The crawler writes these
lines (crawler.progress) and the parent reads them (monitor.crawl_runner):
defined here, in monitor, because the crawler may import monitor but not the
other way round.
"""

RESULT_PREFIX = "NEWSMON-RESULT "
