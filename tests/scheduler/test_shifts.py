"""scheduler.shifts: stints, gaps, rest breaks owed, and travel and visits around blocked time.

Hand examples pin the documented cases (a split shift, the 6-hour rule, a break window
outside a stint); property tests check the time arithmetic against brute force over
every integer instant of a small day, with blocked intervals drawn disjoint and sorted as
the callers (gaps between stints, breaks inside them) give them.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scheduler.model import TimeWindow
from scheduler.shifts import (
    BreakNeed,
    arrive,
    break_needs,
    earliest_start,
    free_time,
    gaps,
    latest_start,
    leave_by,
    overlaps,
    stints,
)
from scheduler.timeutil import parse_hhmm
from tests.helpers import make_plan, provider, worker

H = 3600
M = 60
_SETTINGS = settings(max_examples=300, deadline=None)


def tw(start: str, end: str) -> TimeWindow:
    """Return a window from ``HH:MM`` times."""
    return TimeWindow(parse_hhmm(start), parse_hhmm(end))


def plan_with(shift: tuple[str, str] = ("07:00", "22:00"), availability: list[tuple[str, str]] | None = None,
              rule: dict[str, Any] | None = None):
    """Return a one-worker plan (``w1`` of ``care-1``) with a shift, availability and break rule."""
    extra = {"availability": [{"start": a, "end": b} for a, b in availability]} if availability else {}
    providers = [provider("care-1", **({"break": rule} if rule is not None else {}))]
    plan = make_plan(providers=providers, workers=[worker("w1", "care-1", shift=shift, **extra)])
    return plan, plan.workers[0]


# --------------------------------------------------------------------------- stints and gaps

def test_stints_without_availability_are_the_whole_shift():
    """No availability: one stint, the shift, and no gap."""
    _, w = plan_with(shift=("08:00", "16:00"))
    assert stints(w) == (tw("08:00", "16:00"),)
    assert gaps(w) == ()


def test_stints_and_gaps_of_a_split_shift():
    """07:00-13:30 and 16:00-22:00: two stints and the gap between them."""
    _, w = plan_with(availability=[("07:00", "13:30"), ("16:00", "22:00")])
    assert stints(w) == (tw("07:00", "13:30"), tw("16:00", "22:00"))
    assert gaps(w) == (tw("13:30", "16:00"),)


def test_gaps_leave_out_the_shift_before_the_first_and_after_the_last_stint():
    """Time on shift before the first stint or after the last is not a gap: the day starts later, ends earlier."""
    _, w = plan_with(shift=("06:00", "23:00"),
                     availability=[("08:00", "10:00"), ("10:00", "12:00"), ("13:00", "15:00"), ("18:00", "20:00")])
    # 10:00 touches 10:00: no gap there.
    assert gaps(w) == (tw("12:00", "13:00"), tw("15:00", "18:00"))


@st.composite
def availabilities(draw: st.DrawFn) -> list[tuple[int, int]]:
    """Sorted, non-overlapping (possibly touching) intervals of whole minutes inside 06:00-23:00."""
    cuts = sorted(draw(st.lists(st.integers(6 * 60, 23 * 60), min_size=2, max_size=10)))
    pairs = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    return [(a * M, b * M) for a, b in pairs]


def _hhmm(seconds: int) -> str:
    return f"{seconds // H:02d}:{seconds % H // M:02d}"


@_SETTINGS
@given(availabilities())
def test_stints_and_gaps_tile_the_working_day(periods: list[tuple[int, int]]):
    """Stints and gaps alternate without overlap from the first stint's start to the last one's end."""
    _, w = plan_with(shift=("06:00", "23:00"), availability=[(_hhmm(a), _hhmm(b)) for a, b in periods])
    parts = sorted([*stints(w), *gaps(w)], key=lambda x: (x.start, x.end))
    assert stints(w) == tuple(TimeWindow(a, b) for a, b in periods)
    assert all(g.start < g.end for g in gaps(w))
    assert all(x.end == y.start for x, y in zip(parts, parts[1:], strict=False))
    assert parts[0].start == periods[0][0] and parts[-1].end == periods[-1][1]
    assert len(gaps(w)) == sum(1 for (_, b), (c, _) in zip(periods, periods[1:], strict=False) if c > b)


# --------------------------------------------------------------------------- rest breaks owed

def test_no_break_owed_up_to_after_min():
    """A stint of exactly ``after_min`` owes nothing; one minute more owes a break."""
    plan, w = plan_with(shift=("08:00", "14:00"), rule={"after_min": 360, "duration_min": 20})
    assert break_needs(plan, w) == ()
    plan, w = plan_with(shift=("08:00", "14:01"), rule={"after_min": 360, "duration_min": 20})
    assert len(break_needs(plan, w)) == 1


def test_break_in_the_middle_third_by_default():
    """07:00-22:00 (15 h): the break starts between 12:00 and 17:00 less its 20 minutes."""
    plan, w = plan_with(rule={"after_min": 360, "duration_min": 20})
    assert break_needs(plan, w) == (BreakNeed(tw("07:00", "22:00"), tw("12:00", "16:40"), 20 * M),)


def test_split_shift_owes_a_break_per_long_stint_only():
    """07:00-13:30 is over 6 h and owes a break in its middle third; 16:00-22:00 is exactly 6 h and owes none."""
    plan, w = plan_with(availability=[("07:00", "13:30"), ("16:00", "22:00")],
                        rule={"after_min": 360, "duration_min": 20})
    # 6.5 h: thirds of 130 min, so 09:10 to 13:30 - 130 min - 20 min = 11:00.
    assert break_needs(plan, w) == (BreakNeed(tw("07:00", "13:30"), tw("09:10", "11:00"), 20 * M),)


def test_configured_window_is_clipped_to_the_stint():
    """A 10:00-14:00 window on a 11:00-19:00 stint: from 11:00, and late enough that 30 min still fit."""
    plan, w = plan_with(shift=("11:00", "19:00"),
                        rule={"after_min": 360, "duration_min": 30, "window": {"start": "10:00", "end": "14:00"}})
    assert break_needs(plan, w) == (BreakNeed(tw("11:00", "19:00"), tw("11:00", "14:00"), 30 * M),)
    plan, w = plan_with(shift=("07:00", "14:00"),
                        rule={"after_min": 360, "duration_min": 30, "window": {"start": "12:00", "end": "14:00"}})
    # The break must end by 14:00, so it starts by 13:30.
    assert break_needs(plan, w)[0].window == tw("12:00", "13:30")


def test_configured_window_outside_the_stint_falls_back_to_its_middle_third():
    """A lunch window of 12:00-13:00 cannot hold the evening stint's break: its middle third does."""
    plan, w = plan_with(availability=[("07:00", "13:30"), ("15:00", "22:00")],
                        rule={"after_min": 360, "duration_min": 20, "window": {"start": "12:00", "end": "13:00"}})
    morning, evening = break_needs(plan, w)
    assert morning.window == tw("12:00", "13:00")
    # 15:00-22:00: thirds of 140 min, so 17:20 to 22:00 - 140 min - 20 min = 19:20.
    assert evening == BreakNeed(tw("15:00", "22:00"), tw("17:20", "19:20"), 20 * M)


@_SETTINGS
@given(availabilities(), st.integers(0, 600), st.integers(1, 120),
       st.none() | st.tuples(st.integers(0, 24 * 60), st.integers(0, 24 * 60)).map(sorted))
def test_every_break_owed_fits_inside_its_stint(periods, after_min, duration_min, window):
    """One break per stint longer than ``after_min``; it starts in its window and ends inside the stint.

    Rules give at least twice the break's length of work before it (6 h for 20 min by default); a
    break nearly as long as its stint can fall outside it (50 min after 50 min of work
    in a 51-minute stint), a case these rules never meet.
    """
    assume(after_min >= 2 * duration_min)
    rule: dict[str, Any] = {"after_min": after_min, "duration_min": duration_min}
    if window is not None:
        rule["window"] = {"start": _hhmm(window[0] * M), "end": _hhmm(window[1] * M)}
    plan, w = plan_with(shift=("06:00", "23:00"), availability=[(_hhmm(a), _hhmm(b)) for a, b in periods], rule=rule)
    needs = break_needs(plan, w)
    long_stints = [s for s in stints(w) if s.end - s.start > after_min * M]
    assert [n.stint for n in needs] == long_stints
    for need in needs:
        assert need.duration_s == duration_min * M
        if need.stint.end - need.stint.start >= need.duration_s:
            assert need.stint.start <= need.window.start <= need.window.end
            assert need.window.end + need.duration_s <= need.stint.end


# --------------------------------------------------------------------------- blocked time, by brute force

#: A small day: every instant in [0, DAY) is checked one by one.
DAY = 240


@st.composite
def blocks(draw: st.DrawFn, *, day: int = DAY) -> list[tuple[int, int]]:
    """Sorted, disjoint (possibly touching) non-empty intervals inside ``[0, day]``."""
    out: list[tuple[int, int]] = []
    t = draw(st.integers(0, 20))
    for _ in range(draw(st.integers(0, 5))):
        length = draw(st.integers(1, 40))
        if t + length > day:
            break
        out.append((t, t + length))
        t += length + draw(st.integers(0, 40))
    return out


def blocked(t: int, bl: list[tuple[int, int]]) -> bool:
    """Whether the instant ``[t, t + 1)`` is blocked."""
    return any(a <= t < b for a, b in bl)


def free_between(start: int, end: int, bl: list[tuple[int, int]]) -> int:
    """Free instants in ``[start, end)``, counted one by one."""
    return sum(1 for t in range(start, end) if not blocked(t, bl))


instants = st.integers(0, DAY)
travels = st.integers(0, 60)


@_SETTINGS
@given(instants, instants, blocks())
def test_free_time_counts_unblocked_time(start, end, bl):
    """Free time is the count of unblocked instants (zero for an empty or reversed interval)."""
    assert free_time(start, end, bl) == free_between(start, end, bl)


def test_free_time_of_an_empty_or_reversed_interval_is_zero():
    """Nothing is free in an empty or reversed interval; touching blocks count once each."""
    assert free_time(50, 50, [(10, 20)]) == 0
    assert free_time(60, 50, []) == 0
    assert free_time(0, 100, [(10, 20), (20, 30), (90, 150)]) == 70


@_SETTINGS
@given(instants, st.integers(1, 40), blocks())
def test_overlaps_is_true_when_an_instant_is_blocked(start, length, bl):
    """A non-empty ``[start, end)`` overlaps the blocks exactly when one of its instants is blocked."""
    end = start + length
    assert overlaps(start, end, bl) == any(blocked(t, bl) for t in range(start, end))


def test_overlaps_touching_is_not_overlapping():
    """Intervals are half-open: ending as a block starts, or starting as one ends, is no overlap."""
    assert not overlaps(10, 20, [(0, 10), (20, 30)])
    assert overlaps(10, 21, [(0, 10), (20, 30)])
    assert not overlaps(0, 100, [])


def test_arrive_pauses_travel_over_blocked_time():
    """Leaving at 0 for 30 with a block 10-20: 10 before, 20 after the block, arriving at 40."""
    assert arrive(0, 30, []) == 30
    assert arrive(0, 30, [(10, 20)]) == 40
    assert arrive(0, 10, [(10, 20)]) == 10  # arrives as the block starts
    assert arrive(12, 5, [(10, 20)]) == 25  # leaving inside a block waits for its end
    assert arrive(0, 30, [(10, 20), (20, 25), (50, 60)]) == 45


@_SETTINGS
@given(instants, travels, blocks())
def test_arrive_is_the_first_instant_with_enough_free_travel(depart, travel, bl):
    """``arrive`` is the earliest end of ``travel`` free time after ``depart``, and not inside a block."""
    t = arrive(depart, travel, bl)
    assert t >= depart + travel
    assert free_between(depart, t, bl) == travel
    if travel > 0:
        assert free_between(depart, t - 1, bl) < travel
        assert not blocked(t - 1, bl)  # the last instant of the journey is free time


def test_leave_by_pauses_travel_over_blocked_time():
    """Travel before an arrival deadline is counted backwards around blocked time."""
    assert leave_by(100, 30, []) == 70
    assert leave_by(100, 30, [(80, 90)]) == 60
    assert leave_by(100, 30, [(70, 100)]) == 40  # arriving as a block ends: the travel is all before it
    assert leave_by(100, 10, [(100, 120)]) == 90


@_SETTINGS
@given(instants, travels, blocks())
def test_leave_by_is_the_last_departure_that_is_in_time(arrive_by, travel, bl):
    """``leave_by`` is the latest departure whose :func:`arrive` is no later than ``arrive_by``."""
    t = leave_by(arrive_by, travel, bl)
    assert arrive(t, travel, bl) <= arrive_by
    assert arrive(t + 1, travel, bl) > arrive_by
    assert free_between(t, arrive_by, bl) >= travel


@_SETTINGS
@given(instants, instants, travels, blocks())
def test_arrive_and_leave_by_agree(depart, arrive_by, travel, bl):
    """Leaving at ``depart`` arrives by ``arrive_by`` exactly when ``depart <= leave_by(arrive_by)``."""
    assert (arrive(depart, travel, bl) <= arrive_by) == (depart <= leave_by(arrive_by, travel, bl))


def test_earliest_start_skips_blocks_the_visit_would_touch():
    """Ready at 0, 10 of travel, window opening at 5, 20 long: a block 25-30 pushes the start to 30."""
    assert earliest_start(0, 10, 5, 20, []) == 10
    assert earliest_start(0, 10, 5, 20, [(25, 30)]) == 30
    assert earliest_start(0, 10, 40, 20, [(25, 30)]) == 40
    assert earliest_start(0, 10, 0, 20, [(5, 8), (32, 40), (45, 50)]) == 50


@_SETTINGS
@given(instants, travels, instants, st.integers(1, 40), blocks())
def test_earliest_start_is_the_first_free_start(ready, travel, lo, duration, bl):
    """The earliest start at or after both ``lo`` and the arrival whose visit no block interrupts."""
    first = max(lo, arrive(ready, travel, bl))
    t = earliest_start(ready, travel, lo, duration, bl)
    assert t >= first
    assert not overlaps(t, t + duration, bl)
    assert all(overlaps(s, s + duration, bl) for s in range(first, t))


def test_latest_start_leaves_room_for_travel_and_blocks():
    """To arrive by 100 after 10 of travel, a 20-long visit starts by 70; a block 75-80 makes it 55.

    The visit must end before the block: after it, 80 + 20 leaves no time to travel.
    """
    assert latest_start(100, 10, 200, 20, []) == 70
    assert latest_start(100, 10, 50, 20, []) == 50
    assert latest_start(100, 10, 200, 20, [(75, 80)]) == 55
    assert latest_start(100, 10, 200, 20, [(60, 65)]) == 70


@_SETTINGS
@given(instants, travels, instants, st.integers(1, 40), blocks())
def test_latest_start_is_the_last_free_start_in_time(bound, travel, hi, duration, bl):
    """The latest start at or before ``hi`` whose visit no block interrupts and whose travel arrives by ``bound``."""
    def fits(s: int) -> bool:
        return not overlaps(s, s + duration, bl) and arrive(s + duration, travel, bl) <= bound

    t = latest_start(bound, travel, hi, duration, bl)
    assert t <= hi
    assert fits(t)
    assert not any(fits(s) for s in range(t + 1, hi + 1))


@pytest.mark.parametrize("bl", [[], [(10, 20)], [(0, 5), (5, 6), (100, 240)]])
def test_blocked_helpers_take_seconds_or_minutes_alike(bl):
    """The functions take any integer unit: scaling every time by 60 scales the answers by 60."""
    s = [(a * 60, b * 60) for a, b in bl]
    assert arrive(3 * 60, 25 * 60, s) == 60 * arrive(3, 25, bl)
    assert leave_by(90 * 60, 25 * 60, s) == 60 * leave_by(90, 25, bl)
    assert free_time(0, 200 * 60, s) == 60 * free_time(0, 200, bl)
    assert earliest_start(0, 7 * 60, 2 * 60, 9 * 60, s) == 60 * earliest_start(0, 7, 2, 9, bl)
    assert latest_start(150 * 60, 7 * 60, 140 * 60, 9 * 60, s) == 60 * latest_start(150, 7, 140, 9, bl)


def test_a_gap_between_stints_is_not_waiting_at_the_door():
    """A visit at the start of a stint is reached before the gap (travel may not use it): the gap is not idle time.

    Before, the route counted the two hours of the gap at the client's door as waiting, while its stops did not.
    """
    from scheduler.roster import make_route
    from tests.helpers import stop

    at_door = stop("v1", "16:00", arrival="14:00", travel_s=600)
    assert make_route("w1", [at_door], gaps=[(14 * 3600, 16 * 3600)]).idle_s == 0
    assert make_route("w1", [at_door]).idle_s == 2 * 3600  # with no gap given, it is waiting
