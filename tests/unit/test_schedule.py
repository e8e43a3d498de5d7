"""The daemon's schedule for many sources (monitor.schedule), pure: first and next due times, and the
heap of due sources that the dispatch thread takes from."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from monitor.schedule import LAG_TOLERANCE, STARTUP_RATE, Due, DueQueue, Lag, first_due, jitter_offset, next_due

NOW = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
MINUTE = 60.0


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


# first_due ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stored_next, last_run, position, jitter, expected", [
    pytest.param(at(30), None, 0, None, at(30), id="stored next in the future is kept"),
    pytest.param(at(30), at(-3600), 5, 10.0, at(30), id="stored next wins over last run, position and jitter"),
    pytest.param(at(-600), None, 0, None, at(-600), id="stored next in the past is kept: due at once"),
    pytest.param(at(MINUTE), None, 0, None, at(MINUTE), id="stored next exactly one interval ahead is kept"),
    pytest.param(at(3600), None, 0, None, at(MINUTE), id="stored next beyond one interval is clamped"),
    pytest.param(None, at(-20), 0, None, at(40), id="no stored next: one interval after the last run"),
    pytest.param(None, at(-3600), 0, None, at(-3540), id="last run long ago: due in the past"),
    pytest.param(None, at(600), 0, None, at(MINUTE), id="last run in the future (clock change) is clamped"),
    pytest.param(None, at(-20), 7, 30.0, at(40), id="last run: no start-up spread, no jitter"),
])
def test_first_due_from_what_the_archive_kept(stored_next, last_run, position, jitter, expected):
    assert first_due("agency", now=NOW, interval=MINUTE, stored_next=stored_next, last_run=last_run,
                     position=position, jitter=jitter) == expected


@pytest.mark.parametrize("position, interval, jitter, spread", [
    pytest.param(0, MINUTE, None, 0.0, id="first never-checked source starts now"),
    pytest.param(1, MINUTE, None, 1 / STARTUP_RATE, id="the next one a moment later"),
    pytest.param(100, MINUTE, None, 100 / STARTUP_RATE, id="spread at STARTUP_RATE a second"),
    pytest.param(100_000, MINUTE, None, MINUTE, id="spread capped at the interval"),
    pytest.param(100_000, 2.0, None, 2.0, id="short interval caps it sooner"),
    pytest.param(3, MINUTE, 30.0, 3 / STARTUP_RATE, id="jitter added on top of the spread"),
    pytest.param(100_000, MINUTE, 30.0, MINUTE, id="jitter added on top of the capped spread"),
])
def test_first_due_of_a_source_never_checked(position, interval, jitter, spread):
    due = first_due("agency", now=NOW, interval=interval, stored_next=None, last_run=None,
                    position=position, jitter=jitter)
    assert due == NOW + timedelta(seconds=spread + jitter_offset("agency", jitter))


@pytest.mark.parametrize("jitter", [
    pytest.param(None, id="no jitter"),
    pytest.param(0.0, id="zero jitter"),
])
def test_no_jitter_is_no_offset(jitter):
    assert jitter_offset("agency", jitter) == 0.0


@pytest.mark.parametrize("jitter", [
    pytest.param(1.0, id="1s"),
    pytest.param(30.0, id="30s"),
    pytest.param(3600.0, id="1h"),
])
def test_jitter_offset_is_stable_and_within_range(jitter):
    names = [f"source-{n}" for n in range(500)]
    offsets = [jitter_offset(name, jitter) for name in names]
    assert offsets == [jitter_offset(name, jitter) for name in names]  # a hash, not a random draw
    assert all(0.0 <= offset < jitter for offset in offsets)
    assert len(set(offsets)) > 450  # it does spread sources
    # spread over the whole range, not bunched at one end
    assert min(offsets) < jitter * 0.1 and max(offsets) > jitter * 0.9


def test_jitter_offset_differs_between_sources():
    assert jitter_offset("agency", 30.0) != jitter_offset("blog", 30.0)


# next_due -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("due, now, throttled_until, expected", [
    pytest.param(at(0), at(2), None, at(MINUTE), id="on time: the next slot of the grid"),
    pytest.param(at(0), at(50), None, at(MINUTE), id="late within the interval: grid kept, not now+interval"),
    pytest.param(at(0), at(MINUTE), None, at(MINUTE), id="the next slot is exactly now"),
    pytest.param(at(0), at(150), None, at(150), id="next slot passed: missed slots coalesce into now"),
    pytest.param(at(-3600), at(0), None, at(0), id="an hour late: one check now, not sixty"),
    pytest.param(at(0), at(2), at(600), at(600), id="throttled later than the grid wins"),
    pytest.param(at(0), at(150), at(600), at(600), id="throttled later than now wins"),
    pytest.param(at(0), at(2), at(30), at(MINUTE), id="throttle already over by the next slot: grid"),
    pytest.param(at(0), at(150), at(100), at(150), id="throttle over before now: now"),
])
def test_next_due(due, now, throttled_until, expected):
    assert next_due(due, MINUTE, now, throttled_until) == expected


@pytest.mark.parametrize("due, started, now, expected", [
    pytest.param(at(0), at(1), at(2), at(MINUTE), id="started on time: the grid"),
    pytest.param(at(0), at(59), at(61), at(MINUTE + 1), id="started late within the interval: grid, slot passed: now"),
    pytest.param(at(-600), at(0), at(2), at(MINUTE), id="resumed after a pause: once, then every interval from then"),
    pytest.param(at(-600), at(0), at(90), at(90), id="and a long check after it: again at once"),
])
def test_next_due_after_a_late_start(due, started, now, expected):
    assert next_due(due, MINUTE, now, started=started) == expected


# DueQueue -----------------------------------------------------------------------------------------------------------

def queue_of(**dues: float) -> DueQueue:
    queue = DueQueue()
    for source, seconds in dues.items():
        queue.put(source, at(seconds))
    return queue


@pytest.mark.parametrize("dues, now, limit, taken", [
    pytest.param(dict(c=-10, a=-30, b=-20), 0, 10, ["a", "b", "c"], id="oldest first"),
    pytest.param(dict(c=-10, a=-30, b=-20), 0, 2, ["a", "b"], id="at most limit"),
    pytest.param(dict(c=-10, a=-30, b=-20), 0, 0, [], id="limit 0 takes nothing"),
    pytest.param(dict(a=-5, b=0, c=1, d=60), 0, 10, ["a", "b"], id="not yet due stays; due exactly now is taken"),
    pytest.param(dict(a=10, b=20), 0, 10, [], id="nothing due"),
    pytest.param({}, 0, 10, [], id="empty queue"),
])
def test_take(dues, now, limit, taken):
    queue = queue_of(**dues)
    got = queue.take(at(now), limit)
    assert [d.source for d in got] == taken
    assert all(d == Due(d.source, at(dues[d.source])) for d in got)  # each with the time it was due
    assert len(queue) == len(dues) - len(taken)
    assert all(source not in queue for source in taken)
    assert all(source in queue for source in set(dues) - set(taken))


@pytest.mark.parametrize("refused, limit, taken, waiting", [
    pytest.param({"a"}, 10, ["b", "c"], ["a"], id="a refused source does not hold up later ones"),
    pytest.param({"a"}, 1, ["b"], ["a", "c"], id="refused does not count toward the limit"),
    pytest.param({"a", "b", "c"}, 10, [], ["a", "b", "c"], id="all refused: all wait"),
    pytest.param({"b"}, 10, ["a", "c"], ["b"], id="refused in the middle"),
])
def test_take_skips_what_cannot_be_taken_and_keeps_it(refused, limit, taken, waiting):
    queue = queue_of(a=-30, b=-20, c=-10)
    got = queue.take(at(0), limit, can_take=lambda source: source not in refused)
    assert [d.source for d in got] == taken
    assert sorted(s for s in "abc" if s in queue) == sorted(waiting)
    # once it can be taken, it is, still in order and with its original due time
    again = queue.take(at(1), 10)
    assert [d.source for d in again] == sorted(waiting, key=lambda s: dict(a=-30, b=-20, c=-10)[s])
    assert all(d.due == at(dict(a=-30, b=-20, c=-10)[d.source]) for d in again)
    assert len(queue) == 0


def test_a_taken_source_is_not_taken_again_until_put_back():
    queue = queue_of(a=-10)
    assert [d.source for d in queue.take(at(0), 10)] == ["a"]
    assert "a" not in queue and len(queue) == 0
    assert queue.take(at(3600), 10) == []  # not twice at once, however late
    assert queue.next_due_at() is None
    queue.put("a", at(MINUTE))
    assert queue.take(at(30), 10) == []
    assert queue.take(at(MINUTE), 10) == [Due("a", at(MINUTE))]


@pytest.mark.parametrize("puts, now, taken_due, next_at", [
    pytest.param([0, 100], 50, None, 100, id="put later: the earlier wait is dropped"),
    pytest.param([100, 0], 50, 0, None, id="put earlier: the later wait is dropped"),
    pytest.param([0, 0], 50, 0, None, id="same due twice: taken once"),
    pytest.param([0, 100, 0], 50, 0, None, id="back to the first due: taken once"),
    pytest.param([-10, 50, 20], 30, 20, None, id="three puts: the last one counts"),
])
def test_a_source_put_twice_keeps_only_the_latest_due(puts, now, taken_due, next_at):
    queue = DueQueue()
    for seconds in puts:
        queue.put("a", at(seconds))
    assert len(queue) == 1
    got = queue.take(at(now), 10)
    assert got == ([] if taken_due is None else [Due("a", at(taken_due))])
    assert queue.next_due_at() == (None if next_at is None else at(next_at))
    # stale entries never surface as a second take
    assert queue.take(at(10_000), 10) == ([] if next_at is None else [Due("a", at(next_at))])
    assert queue.take(at(20_000), 10) == []


def test_put_twice_and_refused_still_taken_once():
    queue = DueQueue()
    queue.put("a", at(0))
    queue.put("a", at(0))
    assert queue.take(at(1), 10, can_take=lambda source: False) == []
    assert queue.take(at(1), 10) == [Due("a", at(0))]
    assert queue.take(at(2), 10) == [] and len(queue) == 0


@pytest.mark.parametrize("discarded, taken, next_at", [
    pytest.param(["a"], ["b"], None, id="discard removes"),
    pytest.param(["a", "b"], [], None, id="discard all"),
    pytest.param(["zz"], ["a", "b"], None, id="discarding an unknown source is harmless"),
    pytest.param(["a", "a"], ["b"], None, id="discard twice is harmless"),
])
def test_discard(discarded, taken, next_at):
    queue = queue_of(a=-20, b=-10)
    for source in discarded:
        queue.discard(source)
    assert all(source not in queue for source in discarded)
    assert [d.source for d in queue.take(at(0), 10)] == taken
    assert queue.next_due_at() == next_at


def test_a_discarded_source_put_back_is_due_again():
    queue = queue_of(a=-20)
    queue.discard("a")
    queue.put("a", at(5))
    assert queue.next_due_at() == at(5)
    assert queue.take(at(5), 10) == [Due("a", at(5))]


@pytest.mark.parametrize("dues, changes, expected", [
    pytest.param({}, [], None, id="empty"),
    pytest.param(dict(a=30, b=10, c=20), [], 10, id="earliest"),
    pytest.param(dict(a=30, b=10, c=20), [("discard", "b", None)], 20, id="after a discard"),
    pytest.param(dict(a=30, b=10, c=20), [("put", "b", 40)], 20, id="after a put later"),
    pytest.param(dict(a=30, b=10, c=20), [("put", "a", -5)], -5, id="after a put earlier"),
])
def test_next_due_at(dues, changes, expected):
    queue = queue_of(**dues)
    for change, source, seconds in changes:
        if change == "put":
            queue.put(source, at(seconds))
        else:
            queue.discard(source)
    assert queue.next_due_at() == (None if expected is None else at(expected))


TOL = LAG_TOLERANCE.total_seconds()


@pytest.mark.parametrize("dues, now, expected", [
    pytest.param({}, 0, Lag(0, None, 0.0), id="empty"),
    pytest.param(dict(a=10, b=20), 0, Lag(0, None, 0.0), id="nothing due yet"),
    pytest.param(dict(a=0, b=-TOL), 0, Lag(0, None, 0.0), id="late by up to the tolerance is not lag"),
    pytest.param(dict(a=-TOL - 1, b=0), 0, Lag(1, "a", TOL + 1), id="just past the tolerance"),
    pytest.param(dict(a=-30, b=-300, c=-1, d=60), 0, Lag(2, "b", 300.0), id="counts the late, names the oldest"),
])
def test_lag(dues, now, expected):
    assert queue_of(**dues).lag(at(now)) == expected


def test_lag_leaves_out_taken_and_discarded_sources():
    queue = queue_of(a=-300, b=-200, c=-100)
    queue.take(at(0), 1)  # a is being checked: not waiting
    queue.discard("b")
    assert queue.lag(at(0)) == Lag(1, "c", 100.0)




def simulate_overload(queue: DueQueue, names: list[str], capacity: int, ticks: int, spread_results: bool,
                      first_tick: int = 0) -> Counter:
    """`ticks` dispatch ticks a second apart, each taking `capacity` due sources; each check ends at once and
    its source is put back with next_due. `spread_results`: the results arrive one microsecond apart (as
    with the daemon's clock), else all at the tick's time (a coarse clock: equal due times)."""
    served: Counter[str] = Counter()
    for tick in range(first_tick, first_tick + ticks):
        now = at(tick)
        taken = queue.take(now, capacity)
        assert len({d.source for d in taken}) == len(taken)  # never twice at once
        for order, d in enumerate(taken):
            served[d.source] += 1
            finished = now + timedelta(microseconds=order if spread_results else 0)
            queue.put(d.source, next_due(d.due, 1.0, finished))
        assert len(queue) == len(names)  # nothing dropped
    return served


@pytest.mark.parametrize("sources, capacity, ticks, spread_results", [
    pytest.param(200, 50, 20, False, id="200 sources, 50 a tick, 20 ticks"),
    pytest.param(200, 50, 7, False, id="200 sources, 50 a tick, 7 ticks: a round cut short"),
    pytest.param(201, 50, 13, True, id="201 sources, 50 a tick, 13 ticks"),
    pytest.param(201, 50, 1000, True, id="201 sources, 50 a tick, 1000 ticks"),
    pytest.param(1000, 120, 300, True, id="1000 sources, 120 a tick, 300 ticks"),
    pytest.param(201, 50, 13, False, id="201 sources, 50 a tick, 13 ticks, coarse clock"),
    pytest.param(201, 50, 1000, False, id="201 sources, 50 a tick, 1000 ticks, coarse clock"),
])
def test_overload_serves_every_source_in_turn(sources, capacity, ticks, spread_results):
    """Every source due every second and all due at once; the machine checks `capacity` a second. Nobody
    starves: every source is served, in turn, and the wait stays bounded by the backlog."""
    names = [f"s{n:04d}" for n in range(sources)]
    queue = DueQueue()
    for name in names:
        queue.put(name, NOW)
    served = simulate_overload(queue, names, capacity, ticks, spread_results)
    assert sum(served.values()) == capacity * ticks  # overloaded: every tick full
    assert set(served) == set(names), "a source was never served"
    assert queue.lag(at(ticks)).oldest_seconds <= sources / capacity + 1
    counts = [served[name] for name in names]
    assert max(counts) - min(counts) <= 1, f"served {min(counts)} to {max(counts)} times"


@pytest.mark.parametrize("sources, capacity, ticks, spread_results", [
    pytest.param(200, 50, 40, True, id="200 sources, 50 a tick"),
    pytest.param(1000, 120, 60, True, id="1000 sources, 120 a tick"),
    pytest.param(1000, 120, 60, False, id="1000 sources, 120 a tick, coarse clock"),
])
def test_overload_after_the_start_up_spread_serves_every_source(sources, capacity, ticks, spread_results):
    """Never-checked sources placed by first_due (STARTUP_RATE a second, with jitter), then more due than
    can be checked. The first ones are checked more often while the rest are not due yet: counted from when
    all are due (the spread is at most the interval, the jitter at most 3 s)."""
    names = [f"s{n:04d}" for n in range(sources)]
    queue = DueQueue()
    for position, name in enumerate(names):
        queue.put(name, first_due(name, now=NOW, interval=1.0, stored_next=None, last_run=None,
                                  position=position, jitter=3.0))
    simulate_overload(queue, names, capacity, 5, spread_results)
    served = simulate_overload(queue, names, capacity, ticks, spread_results, first_tick=5)
    assert set(served) == set(names)
    counts = [served[name] for name in names]
    assert max(counts) - min(counts) <= 1, f"served {min(counts)} to {max(counts)} times"
