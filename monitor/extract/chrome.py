"""Known page chrome, recognised generally (not per site).

Two layers: CSS-ish DOM selectors removed before trafilatura sees the page
(cookie banners, share bars, comment forms, related lists), and line rules
applied to the extracted text for chrome that sits inside the content
container on real sites.
"""

from __future__ import annotations

import re


# Traditional -> simplified for the characters the chrome rules use, one for
# one (offsets stay valid), so Big5 pages from Taiwan or Hong Kong match too.
_FOLD = str.maketrans(
    "頁權關聞閱讀報導來編輯責熱線點擊瀏覽時間發佈號級薦無經網為圖攝體轉載與訊電話備製錄標題閉廣視論評",
    "页权关闻阅读报导来编辑责热线点击浏览时间发布号级荐无经网为图摄体转载与讯电话备制录标题闭广视论评",
)


def fold(text: str) -> str:
    return text if text.isascii() else text.translate(_FOLD)

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
BARE_VALUE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)


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

BYLINE = re.compile(r"^(?:by|作者[:：]?|文[/／])\s*([^\d\n]{2,60}?)\s*$", re.IGNORECASE)
SOURCE_LINE = re.compile(
    r"^(?:(?P<date>\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?)(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*)?"
    r"(?:source|来源)\s*[:：]\s*(?P<outlet>[^|｜]{2,80}?)\s*$",
    re.IGNORECASE,
)
DATE_LINE = re.compile(r"^(?:date|日期|发布时间|published|posted on)?\s*[:：]?\s*(?P<date>\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?)"
                       r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$", re.IGNORECASE)


MAX_CHROME_LINE = 1000  # chrome is short; bounding the input also bounds the regexes' backtracking


def is_chrome_line(line: str) -> bool:
    line = line.strip()
    if len(line) > MAX_CHROME_LINE:
        return False
    folded = fold(line)
    if CHROME_LINE.match(folded):
        return True
    lowered = folded.lower()
    return any(marker in lowered and pattern.match(folded) for marker, pattern in _MARKED)


def is_tail_marker(line: str) -> bool:
    """A heading after which, typically, only link lists follow."""
    line = line.strip()
    return len(line) <= 200 and bool(TAIL_MARKER.match(fold(line)))


def normalize_date(text: str) -> str | None:
    match = re.match(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})", text)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


# --- info bars: "Source: Xinhua | 2024-02-26 09:30:00 | Editor: Liu Yan" -------------------

_MONTHS = {m: i for i, names in enumerate((
    ("jan", "january", "janeiro", "enero", "janvier", "januar", "gennaio"),
    ("feb", "february", "fevereiro", "febrero", "février", "februar", "febbraio"),
    ("mar", "march", "março", "marzo", "mars", "märz"),
    ("apr", "april", "abril", "avril", "aprile"),
    ("may", "maio", "mayo", "mai", "maggio"),
    ("jun", "june", "junho", "junio", "juin", "juni", "giugno"),
    ("jul", "july", "julho", "julio", "juillet", "juli", "luglio"),
    ("aug", "august", "agosto", "août"),
    ("sep", "sept", "september", "setembro", "septiembre", "septembre", "settembre"),
    ("oct", "october", "outubro", "octubre", "octobre", "oktober", "ottobre"),
    ("nov", "november", "novembro", "noviembre", "novembre"),
    ("dec", "december", "dezembro", "diciembre", "décembre", "dezember", "dicembre"),
), start=1) for m in names}
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|janeiro|fevereiro|março|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro)[a-zçéû]*\.?"
_TIME = r"(?:,?\s*(?:at\s+)?\d{1,2}[:：]\d{2}(?:[:：]\d{2})?(?:\s*[ap]\.?m\.?)?(?:\s+[A-Z]{2,4}\b)?)?"
_DATE_TEXT = (r"(?:\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\s*T?\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?"
              rf"|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{4}}{_TIME}"
              rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}{_TIME}"
              rf"|\d{{1,2}}\.?\s+(?:de\s+)?{_MONTH}\s+(?:de\s+)?\d{{4}}{_TIME})")
_DATE_LABELS = r"date|日期|发布日期|发布时间|时间|更新时间|published|posted on|posted|updated|released|publicado em|publicado"
_AUTHOR_LABELS = r"posted by|published by|written by|publicado por|author|作者|por|by|von|par"
_TAG_LABELS = r"categor(?:y|ies|ia)|filed under|tags?|tagged|标签|分类"
_LABELS = (rf"source|来源|editor|责任编辑|编辑|责编|字号|font size|views|浏览|点击|阅读|{_DATE_LABELS}|{_AUTHOR_LABELS}"
           rf"|{_TAG_LABELS}")
_TOOL_WORDS = r"打印|关闭|收藏|纠错|print|close|share|分享"
_SEGMENT_START = re.compile(
    rf"\s*[|｜]\s*|\s+[-–·•]\s+|(?<!\w)(?=(?:{_LABELS})\s*[:：])|(?<![\w/.])(?={_DATE_TEXT})"
    rf"|(?<!\w)(?=(?:{_AUTHOR_LABELS})\s)|(?<=\s)(?=(?:{_TOOL_WORDS})(?:[\s:：]|$))",
    re.IGNORECASE)
_SEGMENT_JUNK = " \u3000|｜,，;；-–·•"
_TOOLBAR = re.compile(r"【[^】]{0,30}】|\[[^\]]{0,30}\]")
_SOURCE_FIELD = re.compile(r"^(?:source|来源)\s*[:：]\s*(?P<outlet>\D{2,60}?)\s*$", re.IGNORECASE)
_DATE_FIELD = re.compile(rf"^(?:(?:{_DATE_LABELS})\s*[:：]?\s*(?:on\s+|em\s+)?)?(?P<date>{_DATE_TEXT})$", re.IGNORECASE)
_AUTHOR_FIELD = re.compile(rf"^(?:{_AUTHOR_LABELS})\s*[:：]?\s*(?P<author>[^\d:：]{{2,40}}?)\s*$", re.IGNORECASE)
_IGNORED_FIELD = re.compile(
    rf"^(?:(?:editor|责任编辑|编辑|责编)\s*[:：]\s*\D{{1,40}}|(?:views|浏览|点击|阅读)\s*[:：]?\s*\d*"
    rf"|(?:{_DATE_LABELS})\s*[:：]?|(?:字号|font size)\s*[:：]?.{{0,20}}|(?:{_TOOL_WORDS})\s*[:：]?"
    rf"|(?:{_TAG_LABELS})\s*[:：].{{0,80}})$",
    re.IGNORECASE)


def normalize_any_date(text: str) -> str | None:
    """YYYY-MM-DD from the date forms news pages print; None when unknown or
    ambiguous (03/04/2024)."""
    if (day := normalize_date(text)) is not None:
        return day
    text = text.strip().lower()
    if match := re.match(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", text):
        first, second, year = (int(g) for g in match.groups())
        if first > 12 >= second:
            return _ymd(year, second, first)
        if second > 12 >= first:
            return _ymd(year, first, second)
        return None
    if match := re.match(r"([a-zçéû]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", text):
        month = _MONTHS.get(match.group(1))
        return _ymd(int(match.group(3)), month, int(match.group(2))) if month else None
    if match := re.match(r"(\d{1,2})\.?\s+(?:de\s+)?([a-zçéû]+)\.?\s+(?:de\s+)?(\d{4})", text):
        month = _MONTHS.get(match.group(2))
        return _ymd(int(match.group(3)), month, int(match.group(1))) if month else None
    return None


def _ymd(year: int, month: int, day: int) -> str | None:
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def parse_info_line(line: str) -> tuple[str | None, str | None, str | None] | None:
    """(date, outlet, author) when the whole line is a news page's info bar
    made of a source, a date, an author/editor and toolbar bits; else None."""
    original = _TOOLBAR.sub(" | ", line.strip())
    if not 6 <= len(original) <= 160:
        return None
    folded = fold(original)  # same length: offsets line up with the original
    cuts = sorted({0, len(folded)} | {m.start() for m in _SEGMENT_START.finditer(folded)}
                  | {m.end() for m in _SEGMENT_START.finditer(folded)})
    date = outlet = author = None
    recognized = False
    for start, end in zip(cuts, cuts[1:]):
        segment = folded[start:end].strip(_SEGMENT_JUNK)
        if not segment:
            continue
        offset = start + (len(folded[start:end]) - len(folded[start:end].lstrip(_SEGMENT_JUNK)))
        if (match := _DATE_FIELD.match(segment)) is not None:
            recognized = True
            date = date or normalize_any_date(match.group("date"))
        elif (match := _SOURCE_FIELD.match(segment)) is not None:
            outlet = outlet or original[offset + match.start("outlet"):offset + match.end("outlet")].strip()
        elif (match := _AUTHOR_FIELD.match(segment)) is not None:
            author = author or original[offset + match.start("author"):offset + match.end("author")].strip()
        elif not _IGNORED_FIELD.match(segment):
            return None
    if not recognized and outlet is None:
        return None
    return date, outlet, author
