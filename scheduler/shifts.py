"""Working periods of a worker's day: availability intervals, gaps between them, rest breaks.

A worker is on shift from ``shift.start`` to ``shift.end``; with ``availability``
they work only inside those intervals ("stints", e.g. a split shift 07:00-13:30
and 16:00-22:00) and the rest of the shift is a gap. Each stint longer than
the provider's ``BreakRule.after_min`` (6 h) holds a rest break of
``duration_min`` (20 min) that starts inside the rule's window, clipped to the
stint. Neither a visit nor travel may use a gap or a break: they are blocked
time. Functions here take any integer time unit (seconds or minutes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scheduler.model import Plan, TimeWindow, Worker


@dataclass(frozen=True, slots=True)
class BreakNeed:
    """A rest break a worker must take: ``duration_s`` starting inside ``window`` (seconds)."""

    stint: TimeWindow
    window: TimeWindow
    duration_s: int


def stints(worker: Worker) -> tuple[TimeWindow, ...]:
    """Return the intervals the worker works in: their availability, or the whole shift."""
    return worker.availability or (worker.shift,)


def gaps(worker: Worker) -> tuple[TimeWindow, ...]:
    """Return the unavailable intervals strictly inside the worker's working day.

    Time before the first stint and after the last one is not a gap: the day
    simply starts later or ends earlier.
    """
    periods = stints(worker)
    return tuple(TimeWindow(a.end, b.start) for a, b in zip(periods, periods[1:]) if b.start > a.end)


def break_needs(plan: Plan, worker: Worker) -> tuple[BreakNeed, ...]:
    """Return the rest breaks the worker must take: one per stint longer than the rule's ``after_min``."""
    rule = plan.provider(worker.provider_id).break_rule
    out = []
    for stint in stints(worker):
        if stint.end - stint.start <= rule.after_min * 60:
            continue
        duration = rule.duration_min * 60
        window = rule.window_for(stint)
        start = max(window.start, stint.start)
        end = min(window.end, stint.end - duration)
        if start > end:  # a configured window outside this stint: use the stint's middle third
            third = (stint.end - stint.start) // 3
            start, end = stint.start + third, max(stint.start + third, stint.end - third - duration)
        out.append(BreakNeed(stint, TimeWindow(start, end), duration))
    return tuple(out)


def arrive(depart: int, travel: int, blocks: Sequence[tuple[int, int]]) -> int:
    """Return when travel of length ``travel`` leaving at ``depart`` ends, pausing over blocked time.

    ``blocks`` are (start, end) intervals sorted by start.
    """
    t, left = depart, travel
    for start, end in blocks:
        if end <= t:
            continue
        if start >= t + left:
            break
        left -= max(0, start - t)
        t = max(t, end)
    return t + left


def free_time(start: int, end: int, blocks: Sequence[tuple[int, int]]) -> int:
    """Return how much of ``[start, end)`` is not blocked."""
    taken = sum(max(0, min(end, b) - max(start, a)) for a, b in blocks)
    return max(0, end - start - taken)


def overlaps(start: int, end: int, blocks: Sequence[tuple[int, int]]) -> bool:
    """Return whether ``[start, end)`` overlaps any block."""
    return any(a < end and start < b for a, b in blocks)


def leave_by(arrive_by: int, travel: int, blocks: Sequence[tuple[int, int]]) -> int:
    """Return the latest departure that still completes ``travel`` by ``arrive_by``, pausing over blocks."""
    t, left = arrive_by, travel
    for start, end in reversed(blocks):
        if start >= t:
            continue
        if end <= t - left:
            break
        left -= max(0, t - end)
        t = min(t, start)
    return t - left


def earliest_start(ready: int, travel: int, lo: int, duration: int, blocks: Sequence[tuple[int, int]]) -> int:
    """Return the earliest start at or after ``lo`` reachable from ``ready`` that no block interrupts."""
    t = max(lo, arrive(ready, travel, blocks))
    moved = True
    while moved:
        moved = False
        for a, b in blocks:
            if a < t + duration and t < b:
                t, moved = b, True
    return t


def latest_start(bound: int, travel: int, hi: int, duration: int, blocks: Sequence[tuple[int, int]]) -> int:
    """Return the latest start at or before ``hi`` from which ``travel`` still arrives by ``bound``."""
    t = min(hi, leave_by(bound, travel, blocks) - duration)
    moved = True
    while moved:
        moved = False
        for a, b in blocks:
            if a < t + duration and t < b:
                t, moved = a - duration, True
    return t
