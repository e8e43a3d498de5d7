"""Known page chrome, recognised generally (not per site).

Two layers: CSS-ish DOM selectors removed before trafilatura sees the page
(cookie banners, share bars, comment forms, related lists), and line rules
applied to the extracted text for chrome that sits inside the content
container on real sites.
"""

from __future__ import annotations

import re

# Class/id fragments of elements that are never article text.
CHROME_ATTR = re.compile(
    r"(^|[\s_-])(cookie|consent|gdpr|share|sharing|social|breadcrumbs?|crumbs?|related|recommend|"
    r"also-like|you-may|comment-?(form|respond|list|s)|respond|akismet|newsletter|subscribe|"
    r"fontsize|font-size|advert|ads?|sponsor|sidebar|footer|copyright|hotline|icp|"
    r"pagination|post-nav|nav-links|tags?-links|print|toolbar)([\s_-]|$)",
    re.IGNORECASE,
)

# Whole lines that are chrome wherever they appear.
_LINE_PATTERNS = [
    r"^(home|首页)\s*(»|>>|>|›|/).*",                          # breadcrumbs
    r"^home page\s*>>.*",
    r"^head of xinhua news agency$",
    r"^【\s*(large|大)\s*.*(small|小)\s*】$",                   # font-size bars
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
    r".*未经.{0,30}授权.{0,10}不得.*",
    r"^(本网站|本站)所有.*(版权|授权).*",
    r"^(news )?hotline[:：].*",
    r"^新闻热线.*",
    r".*\bicp\b.*\d{6,}.*",
    r".*icp备\d+.*",
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
    r"^(print|打印|关闭|close window)$",
    r"^obtain authorization$",
    r"^\[?(编辑|责编)[:：].{0,20}\]?$",
]
CHROME_LINE = re.compile("|".join(f"(?:{p})" for p in _LINE_PATTERNS), re.IGNORECASE)

# A heading after which the rest of the text is link lists, not article.
TAIL_MARKER = re.compile(
    r"^(related (articles|news|stories|posts|coverage|content|links|reading)|you (may|might) (also )?like|"
    r"more from .{1,40}|recommended( for you| reading)?|most (read|popular|viewed)|read more|more stories|"
    r"trending( now)?|popular (now|stories)|don'?t miss|more on this( story)?|"
    r"você (pode|também pode) gostar|veja também|leia também|相关(新闻|阅读|文章|报道)|推荐阅读|延伸阅读|热点推荐|"
    r"leave a (comment|reply)|comments?|\d+ comments?)\s*[:：.…!]*$",
    re.IGNORECASE,
)

BYLINE = re.compile(r"^(?:by|作者[:：]?|文[/／])\s*([^\d\n]{2,60}?)\s*$", re.IGNORECASE)
SOURCE_LINE = re.compile(
    r"^(?:(?P<date>\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?)(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*)?"
    r"(?:source|来源)\s*[:：]\s*(?P<outlet>[^|｜]{2,80}?)\s*$",
    re.IGNORECASE,
)
DATE_LINE = re.compile(r"^(?:date|日期|发布时间|published|posted on)?\s*[:：]?\s*(?P<date>\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?)"
                       r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$", re.IGNORECASE)


def is_chrome_line(line: str) -> bool:
    return bool(CHROME_LINE.match(line.strip()))


def normalize_date(text: str) -> str | None:
    match = re.match(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})", text)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"
