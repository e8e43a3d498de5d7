"""Known page chrome, recognised generally (not per site).

Two layers: CSS-ish DOM selectors removed before trafilatura sees the page
(cookie banners, share bars, comment forms, related lists), and line rules
applied to the extracted text for chrome that sits inside the content
container on real sites.
"""

from __future__ import annotations

import re

from monitor.text.dates import ISO_TIMESTAMP
from monitor.text.normalize import traditional_to_simplified

# Class/id fragments of elements that are never article text.
CHROME_ATTR = re.compile(
    r"(^|[\s_-])(cookie|consent|gdpr|share|sharing|social|breadcrumbs?|crumbs?|related|recommend|"
    r"also-like|you-may|comment-?(form|respond|list|s)|respond|akismet|newsletter|subscribe|"
    r"fontsize|font-size|advert|ads?|sponsor|sidebar|footer|copyright|hotline|icp|"
    r"pagination|post-nav|nav-links|tags?-links|print|toolbar|"
    r"latest-(?:news|stories|posts|articles)|more-(?:news|stories|articles)|most-(?:read|popular|viewed)|"
    r"read-next|up-next|trending|outbrain|taboola|tooltip|popover|hovercard|rollover-[a-z]+-block|modal|popup)([\s_-]|$)",
    re.IGNORECASE,
)

# schema.org microdata that repeats metadata as invisible text in the body.
METADATA_ITEMPROPS = frozenset({
    "datePublished", "dateCreated", "dateModified", "uploadDate", "keywords", "mainEntityOfPage", "publisher",
    "logo", "url", "width", "height", "thumbnailUrl", "contentUrl", "embedUrl", "inLanguage", "wordCount",
    "articleSection", "copyrightHolder", "copyrightYear", "isAccessibleForFree", "identifier", "sameAs",
})

# A line that is only a machine timestamp: leaked markup, never prose. (Bare
# URLs stay: blogs print shopping and source links that readers count as text.)
BARE_VALUE = re.compile(rf"^{ISO_TIMESTAMP}$", re.IGNORECASE)


def is_bare_value(line: str) -> bool:
    return bool(BARE_VALUE.match(line.strip()))


# Whole lines that are chrome wherever they appear.
_LINE_PATTERNS = [
    r"^(home|首页)\s*(»|>>|>|›|/).*",                          # breadcrumbs
    r"^home page\s*>>.*",
    r"^head of xinhua news agency$",
    r"^[【\[]\s*(?:字号|字级|字體|字体|font ?size|text size)?\s*[:：]?\s*(large|大).*(small|小)\s*[】\]]$",  # font-size bars
    r"^(font ?size|字号)[:：]?\s*(大|large).*",
    r"^this (web)?site uses cookies\b.*",
    r"^we use cookies\b.*",
    r"^(accept|accept all|reject|read more|cookie settings)$",
    r"^privacy\s*&\s*cookies policy$",
    r"^this site uses akismet to reduce spam\b.*",
    r"^leave a (comment|reply)\b.*",
    r"^(you must be )?logged in to post a comment.*",
    r"^(your email address will not be published|required fields are marked).*",
    r"^(share|share this|share on|分享到)[:：]?(\s|$).*",
    r"^(all text, pictures|all rights reserved|copyright\s*(©|\(c\))|©\s*\d{4}|版权所有|未经.*授权).*",
    r"^all news content on this site is not authorized\b.*",
    r"^(本网站|本站)所有.*(版权|授权).*",
    r"^(news )?hotline[:：].*",
    r"^新闻热线.*",
    r"^(editor|责任编辑|编辑)[:：]\s*\S{1,30}$",
    r"^read more:?$",
    r"^(read more|see more|also read|read also|more|related|watch|listen|leia (também|mais)|veja (também|mais)|"
    r"lire aussi|siehe auch|mehr zum thema)\s*[:：|]\s*\S.{0,200}$",
    r"^also on [\w.-]+\.[a-z]{2,}\b.*",
    r"^(like this story|enjoyed this article)\?.*",
    r"^tags?(\s*[:：].{0,200})?$",
    r"^tell us what you think.*",
    r"^(sign up|subscribe) (for|to) (our|the) .{0,80}(newsletter|updates|alerts).*",
    r"^(get|download) (the|our) .{0,40}app\b.{0,80}$",
    r"^.{0,60}\bby clicking here\b.{0,40}$",
    r"^(click|tap) here (to|for) .{0,100}$",
    r"^(see also|also read|read also)\b.{0,200}$",
    r"^\(?(leggi anche|lee también|lire aussi|lesen sie auch|leia também|veja também)\b\s*[^\w\s]*\s*\w.{0,200}$",
    r"^(?=.{0,300}$).*\bsign up\b.{0,120}\b(newsletter|inbox)\b.*",   # newsletter CTAs
    r"^(email|e-mail|contact) .{0,60}@\S+\.\S+.{0,80}(follow|twitter|facebook).{0,120}$",  # author contact tails
    r"^follow (us|him|her|them|me) on (twitter|facebook|instagram)\b.{0,120}$",
    r"^(print|打印|关闭|close window)$",
    r"^obtain authorization$",
    r"^copyright\b.{0,100}(\d{4}|all rights reserved).{0,60}$",     # "copyright Inexhibit 2019 - ISSN …"
    r"^(?=.{0,160}$).*(©|\(c\) \d{4}|photos?:|photo credit|credit:).*[^.!?]$",  # short credit/copyright lines
    r".*\[/[a-z_]{2,20}\]\s*$|^\[[a-z_]{2,20}(\s+[a-z_]+=[^\]]*)+\].*",  # leaked WordPress shortcodes
    r"^(?:[【\[][^】\]]{1,20}[】\]]\s*){2,}$",                   # 【纠错】【责任编辑：王亮】 toolbars
    r"^[【\[]\s*(?:纠错|打印|关闭|收藏|责任编辑|编辑|责编|editor|print|close)\b[^】\]]{0,20}[】\]]$",
    r"^\[?(编辑|责编)[:：].{0,20}\]?$",
]
CHROME_LINE = re.compile("|".join(f"(?:{p})" for p in _LINE_PATTERNS), re.IGNORECASE)
# Lines that are chrome wherever a marker appears in them: tried only on lines holding the
# (lower-case) marker, because their leading .* scans every line and cost half of all the rest.
_MARKED_PATTERNS = {
    "未经": r".*未经.{0,30}授权.{0,10}不得.*",                       # "未经授权不得转载"
    "icp": r".*\bicp\b.*\d{6,}.*|.*icp备\d+.*",                  # ICP licence numbers
}
_MARKED = [(marker, re.compile(p, re.IGNORECASE)) for marker, p in _MARKED_PATTERNS.items()]

# A heading after which the rest of the text is link lists, not article.
TAIL_MARKER = re.compile(
    r"^(related (articles|news|stories|posts|coverage|content|links|reading)|you (may|might) (also )?like|"
    r"more from .{1,40}|recommended( for you| reading)?|most (read|popular|viewed)|read more|more stories|"
    r"trending( now)?|popular (now|stories)|don'?t miss|more on this( story)?|"
    r"você (pode|também pode) gostar|veja também|leia também|相关(新闻|阅读|文章|报道)|推荐阅读|延伸阅读|热点推荐|"
    r"leave a (comment|reply)|comments?|\d+ comments?)\s*[:：.…!]*$",
    re.IGNORECASE,
)

MAX_CHROME_LINE = 1000  # chrome is short; bounding the input also bounds the regexes' backtracking


def is_chrome_line(line: str) -> bool:
    line = line.strip()
    if len(line) > MAX_CHROME_LINE:
        return False
    folded = traditional_to_simplified(line)
    if CHROME_LINE.match(folded):
        return True
    lowered = folded.lower()
    return any(marker in lowered and pattern.match(folded) for marker, pattern in _MARKED)


def is_tail_marker(line: str) -> bool:
    """A heading after which, typically, only link lists follow."""
    line = line.strip()
    return len(line) <= 200 and bool(TAIL_MARKER.match(traditional_to_simplified(line)))
