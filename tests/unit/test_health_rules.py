"""Source health from facts, table by table (monitor.health.rules): failing, silent, drifting,
which one wins, which notice each verdict calls for, and what `newsmon status` shows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from monitor.config.model import HealthConfig
from monitor.health.rules import (
    BASELINE,
    MIN_BASELINE,
    MIN_GAPS,
    RECENT,
    Drift,
    Extraction,
    HealthState,
    Policy,
    SourceFacts,
    display_state,
    drift,
    judge,
    notice_for,
    silence,
    span,
    usual_gap,
)

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
H = 3600.0
OK, FAILING, SILENT, DRIFTING, RECOVERED = (HealthState.OK, HealthState.FAILING, HealthState.SILENT,
                                            HealthState.DRIFTING, HealthState.RECOVERED)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- the config -------------------------------------------------------------------------


@pytest.mark.parametrize("silent_after, factor, seconds", [
    ("3x", 3.0, None),
    ("2.5x", 2.5, None),
    ("2d", None, 2 * 86400.0),
    ("90m", None, 5400.0),
    ("2s", None, 2.0),
])
def test_policy_reads_silent_after_as_a_multiple_or_a_duration(silent_after, factor, seconds):
    policy = Policy.from_config(HealthConfig(silent_after=silent_after, failing_after=5, drift=False))
    assert (policy.silent_factor, policy.silent_seconds) == (factor, seconds)
    assert policy.failing_after == 5 and policy.drift is False


# --- failing ----------------------------------------------------------------------------


@pytest.mark.parametrize("failures, failing_after, expected", [
    (0, 3, OK),
    (2, 3, OK),
    (3, 3, FAILING),
    (7, 3, FAILING),
    (1, 1, FAILING),
])
def test_failing_after_that_many_consecutive_failed_checks(failures, failing_after, expected):
    facts = SourceFacts("s", consecutive_failures=failures, failing_since=at(0), last_error="HTTP 500 from server")
    verdict = judge(facts, Policy(failing_after=failing_after))
    assert verdict.state == expected
    if expected == FAILING:
        assert verdict.since == at(0)
        assert f"{failures} consecutive checks failed" in verdict.detail and "HTTP 500" in verdict.detail


# --- silence ----------------------------------------------------------------------------


def hourly(n: int, start: float = 0) -> list[datetime]:
    return [at(start + i * H) for i in range(n)]


@pytest.mark.parametrize("arrivals, expected", [
    ([], None),
    (hourly(MIN_GAPS), None),  # MIN_GAPS - 1 gaps: too little history
    (hourly(MIN_GAPS + 1), H),
    (list(reversed(hourly(10))), H),  # any order
    (hourly(8) + [at(7 * H + 60)], H),  # one short gap does not move the median
    ([at(0), at(0), at(H), at(2 * H), at(3 * H), at(4 * H), at(5 * H)], H),  # equal times are no gap
    (hourly(6) + [at(5 * H + 10 * H)], H),  # one long pause does not either
    ([at(i * 600) for i in range(40)], 600.0),
])
def test_usual_gap_is_the_median_gap_once_there_is_history(arrivals, expected):
    assert usual_gap(arrivals) == expected


def test_usual_gap_reads_only_the_latest_gaps():
    old_daily = [at(i * 86400) for i in range(40)]
    recent_hourly = hourly(31, start=41 * 86400)  # the source now publishes hourly
    assert usual_gap(old_daily + recent_hourly) == H


@pytest.mark.parametrize("policy, gap, last_new, last_success, expected", [
    # a multiple of the usual gap
    (Policy(silent_factor=3.0), H, at(0), at(2.9 * H), None),
    (Policy(silent_factor=3.0), H, at(0), at(3 * H), SILENT),
    (Policy(silent_factor=3.0), None, at(0), at(100 * H), None),  # no learned gap yet: not judged
    # a duration
    (Policy(silent_factor=None, silent_seconds=2.0), None, at(0), at(1.5), None),
    (Policy(silent_factor=None, silent_seconds=2.0), None, at(0), at(2.5), SILENT),
    (Policy(silent_factor=None, silent_seconds=2 * 86400), H, at(0), at(47 * H), None),
    # nothing to measure from
    (Policy(silent_factor=None, silent_seconds=2.0), None, None, at(100), None),
    (Policy(silent_factor=None, silent_seconds=2.0), None, at(0), None, None),
])
def test_silence_is_measured_to_the_last_successful_check(policy, gap, last_new, last_success, expected):
    facts = SourceFacts("s", last_new_article_at=last_new, last_success_at=last_success, usual_gap_seconds=gap)
    verdict = silence(facts, policy)
    assert (verdict.state if verdict else None) == expected
    if verdict:
        assert verdict.since == last_new and "no new article for" in verdict.detail


def test_silence_names_the_threshold_it_used():
    facts = SourceFacts("s", last_new_article_at=at(0), last_success_at=at(4 * H), usual_gap_seconds=H)
    assert silence(facts, Policy(silent_factor=3.0)).detail == \
        "no new article for 4h of successful checks (3x its usual gap of 1h)"
    assert "health.silent_after: 2h" in silence(facts, Policy(silent_factor=None, silent_seconds=2 * H)).detail


def test_a_source_nobody_checks_is_not_silent():
    """The daemon was down for a day: the last success is old, so there is no evidence of silence."""
    facts = SourceFacts("s", last_new_article_at=at(0), last_success_at=at(600), usual_gap_seconds=600.0)
    assert judge(facts, Policy(silent_factor=3.0)).state == OK


# --- drift ------------------------------------------------------------------------------


def run(lengths: list[int], start: float = 0) -> list[Extraction]:
    return [Extraction(at(start + i * 60), n) for i, n in enumerate(lengths)]


NORMAL = [2400, 3100, 1800, 2750, 2200, 2900, 3300, 2050, 2600, 2450, 2800, 1900, 3000, 2300, 2700]


@pytest.mark.parametrize("recent, baseline, expected", [
    (NORMAL[:RECENT], NORMAL, False),
    ([2400, 0, 2200, 2900, 2500], NORMAL, False),  # one empty page is not a layout change
    ([2400, 2500, 0, 0, 0], NORMAL, True),  # most of the recent pages give nothing
    ([2400, 2500, 90, 120, 60], NORMAL, True),  # or a stub
    ([900, 800, 950, 870, 910], NORMAL, True),  # the median falls below 40% of the source's own
    ([1300, 1250, 1400, 1200, 1350], NORMAL, False),  # a drop to about half is not drift
    ([120, 140, 110, 150, 130], [150, 120, 160, 130, 140, 110, 170, 125, 135, 145], False),  # short by nature
    ([0, 0, 0, 0, 0], NORMAL[:MIN_BASELINE - 1], False),  # too little history to judge
    ([0, 0, 0, 0], NORMAL, False),  # too few recent pages
])
def test_drift_against_the_sources_own_history(recent, baseline, expected):
    found = drift(run(recent, start=10_000), run(baseline))
    assert (found.since is not None) == expected
    if expected:
        assert "has the site's layout changed?" in found.detail


def test_drift_since_is_the_first_bad_extraction():
    found = drift(run([2400, 2500, 90, 0, 60], start=10_000), run(NORMAL))
    assert found.since == at(10_000 + 2 * 60)


@pytest.mark.parametrize("recent, still_drifting", [
    ([2400, 2500, 2300, 0, 2600], False),  # clearly back: one bad page of five, median restored
    ([2400, 2500, 0, 0, 2600], True),  # two of five still bad
    ([1500, 1450, 1600, 1550, 1400], True),  # better, but the median is not back to 60%
    ([0, 0, 0, 0, 0], True),
])
def test_drift_needs_a_clear_return_to_end(recent, still_drifting):
    began = at(5000)
    found = drift(run(recent, start=10_000), run(NORMAL), drifting_since=began)
    assert (found.since is not None) == still_drifting
    if still_drifting:
        assert found.since == began, "the start of the drift is kept: it anchors the baseline"


def test_drift_with_too_few_extractions_left_keeps_what_it_knew():
    began = at(5000)
    assert drift(run([0, 0]), run(NORMAL), drifting_since=began).since == began
    assert drift(run([0, 0]), run(NORMAL)).since is None


def test_window_sizes_are_sane():
    assert RECENT < MIN_BASELINE <= BASELINE


# --- which state wins -------------------------------------------------------------------

DRIFT = Drift(at(100), "4 of the last 5 extractions empty")


@pytest.mark.parametrize("facts, policy, expected", [
    (SourceFacts("s"), Policy(), OK),
    (SourceFacts("s", consecutive_failures=3, drift=DRIFT, last_new_article_at=at(0), last_success_at=at(9e6),
                 usual_gap_seconds=H), Policy(), FAILING),
    (SourceFacts("s", drift=DRIFT, last_new_article_at=at(0), last_success_at=at(9e6), usual_gap_seconds=H),
     Policy(), DRIFTING),  # pages arrive but yield no text: drift explains the silence
    (SourceFacts("s", drift=DRIFT), Policy(drift=False), OK),  # drift: false
    (SourceFacts("s", last_new_article_at=at(0), last_success_at=at(9e6), usual_gap_seconds=H), Policy(), SILENT),
    (SourceFacts("s", consecutive_failures=2, last_new_article_at=at(0), last_success_at=at(9e6),
                 usual_gap_seconds=H), Policy(), SILENT),
])
def test_judge_picks_one_state(facts, policy, expected):
    assert judge(facts, policy).state == expected


# --- what operators are told ------------------------------------------------------------


@pytest.mark.parametrize("state, notified, notice", [
    (OK, None, None),
    (FAILING, None, FAILING),
    (FAILING, FAILING, None),  # no repeats while the state lasts
    (SILENT, FAILING, SILENT),  # a different problem is news
    (OK, FAILING, RECOVERED),
    (OK, DRIFTING, RECOVERED),
    (DRIFTING, SILENT, DRIFTING),
])
def test_each_problem_is_told_once_and_its_recovery_once(state, notified, notice):
    assert notice_for(state, notified) == notice


@pytest.mark.parametrize("verdict, flags, shown", [
    (OK, {}, "ok"),
    (OK, {"configured": False}, "not configured"),
    (FAILING, {"enabled": False}, "disabled"),
    (OK, {"checked": False}, "never checked"),
    (FAILING, {"throttled": True}, "failing"),
    (SILENT, {"throttled": True}, "throttled"),
    (DRIFTING, {}, "drifting"),
    (SILENT, {"lagging": True}, "silent"),
    (OK, {"lagging": True}, "lagging"),
])
def test_display_state(verdict, flags, shown):
    base = dict(configured=True, enabled=True, checked=True, throttled=False, lagging=False)
    assert display_state(verdict, **{**base, **flags}) == shown


@pytest.mark.parametrize("seconds, text", [(0, "0s"), (59, "59s"), (60, "1m"), (3725, "1h 2m"),
                                           (2 * 86400 + 3 * 3600 + 60, "2d 3h"), (86400, "1d")])
def test_span(seconds, text):
    assert span(seconds) == text
