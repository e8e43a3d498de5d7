"""Folding text so that differences readers do not see do not count.

Three foldings, each for its own purpose:
- `fold_case_and_width`: NFKC + casefold, so case, full-width letters and
  ligatures don't matter (rule matching, near-duplicate tokens);
- `normalize_text`: that, with punctuation and spacing gone too: the key
  under which two lines or texts are "the same" (exact duplicates, repeated
  paragraphs, learned boilerplate);
- `traditional_to_simplified`: one-for-one, for the Chinese characters the
  chrome and metadata rules are written with, so Big5 pages match them too.
"""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)

# Traditional -> simplified for the characters the chrome rules use, one for
# one (offsets stay valid), so Big5 pages from Taiwan or Hong Kong match too.
_TRADITIONAL_TO_SIMPLIFIED = str.maketrans(
    "頁權關聞閱讀報導來編輯責熱線點擊瀏覽時間發佈號級薦無經網為圖攝體轉載與訊電話備製錄標題閉廣視論評",
    "页权关闻阅读报导来编辑责热线点击浏览时间发布号级荐无经网为图摄体转载与讯电话备制录标题闭广视论评",
)


def fold_case_and_width(text: str) -> str:
    """NFKC + casefold ('ＳＴＲＡßＥ' -> 'strasse'); ASCII takes the cheap path with the same result."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", text).casefold()


def normalize_text(text: str) -> str:
    """Case, width, punctuation and whitespace do not make a different story."""
    return _NON_WORD.sub(" ", fold_case_and_width(text)).strip()


def traditional_to_simplified(text: str) -> str:
    """Simplified forms of the characters the chrome rules use; same length, so
    offsets into the result are offsets into `text`."""
    return text if text.isascii() else text.translate(_TRADITIONAL_TO_SIMPLIFIED)
