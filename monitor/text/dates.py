"""How news pages, feeds and sitemaps write dates, and how newsmon reads them.

Dates printed on pages come out as YYYY-MM-DD strings, or None when the text
holds no date, an impossible one, or one outside 1990-2100 (a year that far
off is a number that looks like a date: a phone number, a product code).
Machine timestamps (sitemaps, JSON-LD, <time datetime>) are ISO 8601.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

FIRST_YEAR, LAST_YEAR = 1990, 2100  # dates outside are numbers that look like dates

# Pattern texts, to be combined into larger patterns.
NUMERIC_DATE = r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}"  # 2024-03-09, 2024/3/9, 2024.03.09, 2024年3月9日 (no 日)
ISO_TIMESTAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"

_MONTH_NAMES = (
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
)
MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, start=1) for name in names}
_MONTH = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|janeiro|fevereiro|março|maio|junho|julho|agosto"
          r"|setembro|outubro|novembro|dezembro)[a-zçéû]*\.?")
_TIME = r"(?:,?\s*(?:at\s+)?\d{1,2}[:：]\d{2}(?:[:：]\d{2})?(?:\s*[ap]\.?m\.?)?(?:\s+[A-Z]{2,4}\b)?)?"
# Any date form `printed_date` reads, with an optional time after it (info bars, date lines).
PRINTED_DATE = (rf"(?:{NUMERIC_DATE}日?(?:\s*T?\d{{1,2}}[:：]\d{{2}}(?:[:：]\d{{2}})?)?"
                rf"|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{4}}{_TIME}"
                rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}{_TIME}"
                rf"|\d{{1,2}}\.?\s+(?:de\s+)?{_MONTH}\s+(?:de\s+)?\d{{4}}{_TIME})")

_NUMERIC = re.compile(NUMERIC_DATE)
_DIGITS = re.compile(r"\d+")
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})")
_NAMED_MONTH_FIRST = re.compile(r"([a-zçéû]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")
_NAMED_DAY_FIRST = re.compile(r"(\d{1,2})\.?\s+(?:de\s+)?([a-zçéû]+)\.?\s+(?:de\s+)?(\d{4})")


def plausible_date(year: int, month: int, day: int) -> str | None:
    """YYYY-MM-DD, or None for a month or day out of range or a year outside 1990-2100."""
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def normalize_date(text: str) -> str | None:
    """YYYY-MM-DD from a year-month-day date at the start of `text` (2024/3/9, 2024年3月9日)."""
    match = _NUMERIC.match(text)
    return _numeric_parts(match.group()) if match else None


def find_numeric_date(text: str) -> str | None:
    """The first year-month-day date anywhere in `text` ("Published 2024-03-09"), normalized."""
    found = _NUMERIC.search(text)
    return _numeric_parts(found.group()) if found else None


def _numeric_parts(date: str) -> str | None:
    year, month, day = (int(number) for number in _DIGITS.findall(date))
    return plausible_date(year, month, day)


def first_iso_date(text: str | None) -> str | None:
    """The day of the first ISO 8601 date in `text` (meta tags, JSON-LD, <time datetime>)."""
    match = _ISO_DAY.search(text or "")
    return plausible_date(*(int(g) for g in match.groups())) if match else None


def printed_date(text: str) -> str | None:
    """YYYY-MM-DD from the date forms news pages print (2024-03-09, 09/03/2024,
    March 9, 2024, 9 de março de 2024); None when unknown or ambiguous (03/04/2024)."""
    if (day := normalize_date(text)) is not None:
        return day
    text = text.strip().lower()
    if match := _DAY_MONTH_YEAR.match(text):
        first, second, year = (int(g) for g in match.groups())
        if first > 12 >= second:
            return plausible_date(year, second, first)
        if second > 12 >= first:
            return plausible_date(year, first, second)
        return None
    if match := _NAMED_MONTH_FIRST.match(text):
        month = MONTHS.get(match.group(1))
        return plausible_date(int(match.group(3)), month, int(match.group(2))) if month else None
    if match := _NAMED_DAY_FIRST.match(text):
        month = MONTHS.get(match.group(2))
        return plausible_date(int(match.group(3)), month, int(match.group(1))) if month else None
    return None


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a time without a zone is taken as UTC (as the archive stores times)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def utc_midnight(day: date) -> datetime:
    """The start of a UTC day."""
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def parse_iso_datetime(text: str) -> datetime:
    """An ISO 8601 timestamp as feeds and sitemaps write it, a trailing Z included
    (Python 3.10's fromisoformat refuses it); a time without a zone is taken as UTC.
    Raises ValueError for anything else."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
