"""Visits happen inside the worker's shift and, on a split shift, inside one of their availability stints."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scheduler.model import Plan, Visit, Worker
from scheduler.roster import Route, Stop
from scheduler.rules.base import Refusal, Violation
from scheduler.rules.view import RosterView, route_visits
from scheduler.shifts import free_time, gaps, stints
from scheduler.text import names
from scheduler.timeutil import format_hhmm


def shift_can_hold(worker: Worker, visit: Visit) -> bool:
    """Return whether the visit can start in its window and end inside one of the worker's stints."""
    for stint in stints(worker):
        earliest = max(visit.window.start, stint.start)
        if earliest <= visit.window.end and earliest + visit.duration_s <= stint.end:
            return True
    return False


def short_of_travel(route: Route, stops: Sequence[Stop], worker: Worker) -> Iterator[tuple[Stop, int]]:
    """Yield each stop whose travel does not fit the free time before it, with that free time (seconds).

    Free time runs from the previous visit's end (or the start of the stint the
    first visit lies in), less rest breaks and gaps in availability.
    """
    periods = stints(worker)
    blocks = sorted([(g.start, g.end) for g in gaps(worker)] + [(b.start, b.end) for b in route.breaks])
    if not blocks:
        return
    previous_end = None
    for s in stops:
        inside = [p for p in periods if p.start <= s.start and s.end <= p.end]
        since = previous_end if previous_end is not None else (inside[0].start if inside else periods[0].start)
        free = free_time(since, s.start, blocks)
        if free < s.travel_s:
            yield s, free
        previous_end = s.end


def travel_message(worker: Worker, stop: Stop, free: int) -> str:
    """Say that a stop's travel does not fit the free time before it."""
    return (f"worker {worker.id!r} has {free} s free before {format_hhmm(stop.start)} "
            f"for {stop.travel_s} s of travel, once breaks and gaps in availability are taken out")


class ShiftRule:
    """Every stop lies inside the worker's shift; a worker whose stints cannot hold the visit may not take it."""

    code = "shift"

    def refuse(self, plan: Plan, worker: Worker, visit: Visit) -> Refusal | None:
        """Refuse a worker none of whose stints can hold a start in the visit's window."""
        if shift_can_hold(worker, visit):
            return None
        if worker.availability:
            return Refusal(self.code, f"worker {worker.id!r}'s availability is only "
                           f"{', '.join(str(a) for a in worker.availability)}: no start in {visit.window} "
                           f"({visit.duration_min} min) fits")
        return Refusal(self.code, f"worker {worker.id!r}'s shift {worker.shift} cannot hold a start in "
                       f"{visit.window} ({visit.duration_min} min)")

    def none_can(self, plan: Plan, visit: Visit, candidates: Sequence[Worker]) -> str:
        """Say that no candidate is on shift then, listing their shifts."""
        return (f"no worker who could serve it is on shift to start in {visit.window} "
                f"({visit.duration_min} min); their shifts: " + names([f"{w.id} {w.shift}" for w in candidates]))

    def requirement(self, plan: Plan, visit: Visit) -> str:
        """Describe a worker on shift then."""
        return f"on shift to start in {visit.window} ({visit.duration_min} min)"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every stop outside its worker's shift."""
        for worker, n, stop, visit in view.stops():
            if stop.start < worker.shift.start or stop.end > worker.shift.end:
                yield Violation(self.code, "visit", visit.id, f"worker {worker.id!r} stop {n} "
                                f"{format_hhmm(stop.start)}-{format_hhmm(stop.end)} is outside shift {worker.shift}")


class AvailabilityRule:
    """On a split shift, visits and the travel to them lie inside the worker's availability."""

    code = "availability"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every visit outside the stints, and every journey longer than the time free."""
        for worker, route in view.routes:
            if not worker.availability:
                continue
            periods = stints(worker)
            stops = route_visits(view, route)
            for s in stops:
                if not any(p.start <= s.start and s.end <= p.end for p in periods):
                    yield Violation(self.code, "visit", s.visit_id, f"worker {worker.id!r} serves it "
                                    f"{format_hhmm(s.start)}-{format_hhmm(s.end)}, outside their availability "
                                    + ", ".join(str(p) for p in periods))
            for s, free in short_of_travel(route, stops, worker):
                yield Violation(self.code, "visit", s.visit_id, travel_message(worker, s, free))
