"""A source's health from facts about it: failing, silent, drifting or ok. Pure.

The store gathers the facts (monitor.health.facts); monitor.health.evaluate keeps
the verdicts and queues operator alerts. Everything here is a function of its
arguments, so the thresholds are tested table by table (tests/unit/test_health_rules.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from statistics import median

from monitor.config._base import parse_duration
from monitor.config.model import HealthConfig


class HealthState(str, Enum):
    """What operators are told about a source; stored in source_health.state and alert payloads."""

    OK = "ok"
    FAILING = "failing"
    SILENT = "silent"
    DRIFTING = "drifting"
    RECOVERED = "recovered"  # a notice only: the state it announces is ok

    def __str__(self) -> str:
        return self.value


PROBLEMS = frozenset({HealthState.FAILING, HealthState.SILENT, HealthState.DRIFTING})

# Silence: the usual gap is the median of the gaps between the last checks that found new
# articles; below MIN_GAPS gaps there is too little history to call a pause unusual.
GAP_WINDOW = 30
MIN_GAPS = 5

# Drift: the last RECENT extractions against up to BASELINE before them (at least MIN_BASELINE).
RECENT = 5
BASELINE = 30
MIN_BASELINE = 10
SHORT_CHARS = 200  # an extraction shorter than this (or empty) is "very short"
SHORT_SHARE = 0.6  # drifting when this share of the recent ones are very short…
BASELINE_SHORT_SHARE = 0.2  # …while at most this share of the baseline was
MEDIAN_DROP = 0.4  # or when the recent median falls below this fraction of the baseline's
# Hysteresis: a drifting source is well again only when clearly back to its old self.
HEALED_SHORT_SHARE = 0.2
HEALED_MEDIAN = 0.6


@dataclass(frozen=True)
class Policy:
    """health: in newsmon.yaml, parsed: silence is a multiple of the usual gap or a fixed time."""

    failing_after: int = 3
    silent_factor: float | None = 3.0
    silent_seconds: float | None = None
    drift: bool = True

    @classmethod
    def from_config(cls, health: HealthConfig) -> Policy:
        text = health.silent_after.strip()
        if text.endswith("x"):
            return cls(health.failing_after, float(text[:-1]), None, health.drift)
        return cls(health.failing_after, None, parse_duration(text), health.drift)


@dataclass(frozen=True)
class Extraction:
    """One page's extraction: when, and how many characters of text it gave (0: none)."""

    at: datetime
    length: int


@dataclass(frozen=True)
class Drift:
    """The drift check's conclusion: `since` is set while the source is drifting."""

    since: datetime | None
    detail: str | None = None


@dataclass(frozen=True)
class SourceFacts:
    """What the archive says about one source, as of one evaluation."""

    source: str
    consecutive_failures: int = 0
    failing_since: datetime | None = None  # the first failed check of the current streak
    last_error: str | None = None  # already masked
    last_success_at: datetime | None = None
    last_new_article_at: datetime | None = None
    usual_gap_seconds: float | None = None  # None: not enough history (see usual_gap)
    drift: Drift = Drift(None)


@dataclass(frozen=True)
class Verdict:
    state: HealthState
    since: datetime | None = None
    detail: str | None = None


def span(seconds: float) -> str:
    """A length of time in its largest unit or two: 2d 3h, 5h 12m, 40s."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{max(seconds, 0)}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


# --- failing --------------------------------------------------------------------------


def failing(facts: SourceFacts, policy: Policy) -> Verdict | None:
    n = facts.consecutive_failures
    if n < policy.failing_after:
        return None
    detail = f"{n} consecutive checks failed (health.failing_after: {policy.failing_after})"
    if facts.last_error:
        detail += f"; last error: {facts.last_error}"
    return Verdict(HealthState.FAILING, facts.failing_since, detail)


# --- silence --------------------------------------------------------------------------


def usual_gap(arrivals: Sequence[datetime]) -> float | None:
    """Seconds between checks that found new articles, typically (the median of the last
    GAP_WINDOW gaps); None below MIN_GAPS gaps. `arrivals` in any order."""
    times = sorted(arrivals)[-(GAP_WINDOW + 1):]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
    gaps = [g for g in gaps if g > 0]
    return median(gaps) if len(gaps) >= MIN_GAPS else None


def silence_threshold(facts: SourceFacts, policy: Policy) -> tuple[float, str] | None:
    """Seconds without a new article that make the source silent, and how that was decided."""
    if policy.silent_seconds is not None:
        return policy.silent_seconds, f"health.silent_after: {span(policy.silent_seconds)}"
    if facts.usual_gap_seconds is None or policy.silent_factor is None:
        return None
    return (policy.silent_factor * facts.usual_gap_seconds,
            f"{policy.silent_factor:g}x its usual gap of {span(facts.usual_gap_seconds)}")


def silence(facts: SourceFacts, policy: Policy) -> Verdict | None:
    """Silent when a successful check came at least the threshold after the last new article and
    found nothing new. Measured to the last success, not to now: a source nobody checks (the daemon
    is down, the site throttles us) is lagging or throttled, not silent."""
    last_new, checked = facts.last_new_article_at, facts.last_success_at
    threshold = silence_threshold(facts, policy)
    if last_new is None or checked is None or threshold is None:
        return None
    quiet = (checked - last_new).total_seconds()
    if quiet < threshold[0]:
        return None
    return Verdict(HealthState.SILENT, last_new,
                   f"no new article for {span(quiet)} of successful checks ({threshold[1]})")


# --- drift ----------------------------------------------------------------------------


def _short_share(window: Sequence[Extraction]) -> float:
    return sum(1 for e in window if e.length < SHORT_CHARS) / len(window)


def drift(recent: Sequence[Extraction], baseline: Sequence[Extraction], *,
          drifting_since: datetime | None = None) -> Drift:
    """Whether the source's recent extractions look unlike its own history: a sudden share of
    empty or very short texts, or a collapse of the median length (a site changed its layout and
    the extractor now finds a stub or nothing). Each window oldest first; `baseline` is what came
    before `recent`, or before the drift began while drifting.

    `drifting_since`: the previous conclusion, kept while drifting (it anchors the baseline).
    Leaving drift needs a clear return (hysteresis), so a borderline source does not flap."""
    if len(recent) < RECENT or len(baseline) < MIN_BASELINE:
        return Drift(drifting_since, "too few extractions left to judge" if drifting_since else None)
    short_now, short_before = _short_share(recent), _short_share(baseline)
    median_now = median(e.length for e in recent)
    median_before = median(e.length for e in baseline)
    if drifting_since is not None:
        sick = not (short_now <= HEALED_SHORT_SHARE and median_now >= HEALED_MEDIAN * median_before)
    else:
        sick = (short_now >= SHORT_SHARE and short_before <= BASELINE_SHORT_SHARE) or \
            (median_before > 0 and median_now < MEDIAN_DROP * median_before)
    if not sick:
        return Drift(None)
    if drifting_since is None:
        bad = [e for e in recent if e.length < SHORT_CHARS or e.length < MEDIAN_DROP * median_before]
        drifting_since = (bad or list(recent))[0].at
    short = sum(1 for e in recent if e.length < SHORT_CHARS)
    detail = (f"{short} of the last {len(recent)} extractions empty or under {SHORT_CHARS} characters "
              f"(before: {round(short_before * len(baseline))} of {len(baseline)}); median length "
              f"{median_now:g} characters against {median_before:g} before: has the site's layout changed?")
    return Drift(drifting_since, detail)


# --- the verdict ----------------------------------------------------------------------


def judge(facts: SourceFacts, policy: Policy) -> Verdict:
    """The one state operators hear about. Failing first (nothing else can be judged without
    checks), then drifting (it explains a silence: pages arrive but yield no text), then silent."""
    found = failing(facts, policy)
    if found is None and policy.drift and facts.drift.since is not None:
        found = Verdict(HealthState.DRIFTING, facts.drift.since, facts.drift.detail)
    if found is None:
        found = silence(facts, policy)
    return found or Verdict(HealthState.OK)


def notice_for(state: HealthState, notified: HealthState | None) -> HealthState | None:
    """The operator alert a verdict calls for, given the problem operators were last told of
    (None: none, or its recovery): each problem once, and `recovered` once when it heals."""
    if state in PROBLEMS:
        return state if notified != state else None
    return HealthState.RECOVERED if notified in PROBLEMS else None


def display_state(verdict: HealthState, *, configured: bool, enabled: bool, checked: bool, throttled: bool,
                  lagging: bool) -> str:
    """The `state` column of `newsmon status`: the health verdict, or what keeps it from applying."""
    if not configured:
        return "not configured"
    if not enabled:
        return "disabled"
    if not checked:
        return "never checked"
    if verdict == HealthState.FAILING:
        return str(verdict)
    if throttled:
        return "throttled"
    if verdict != HealthState.OK:
        return str(verdict)
    return "lagging" if lagging else "ok"
