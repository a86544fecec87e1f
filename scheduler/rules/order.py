"""Stops and breaks are listed in time order, each reached after the one before plus its travel, which is the road's."""

from __future__ import annotations

from collections.abc import Iterator

from scheduler.roster import Stop
from scheduler.rules.base import Violation
from scheduler.rules.view import RosterView
from scheduler.timeutil import format_hhmm


class OrderRule:
    """A stop starts no earlier than its arrival; entries start in listed order, each after the last end plus travel."""

    code = "order"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every stop started before arriving, and every entry out of order or reached too soon."""
        for worker, route in view.routes:
            for n, stop in enumerate(route.stops, start=1):
                if view.plan.has_visit(stop.visit_id) and stop.arrival > stop.start:
                    yield Violation(self.code, "visit", stop.visit_id, f"worker {worker.id!r} stop {n} starts at "
                                    f"{format_hhmm(stop.start)} before arriving at {format_hhmm(stop.arrival)}")
            previous_end, previous_start, previous = worker.shift.start, None, "the shift start"
            for n, entry in enumerate(route.entries(), start=1):
                is_visit = isinstance(entry, Stop)
                kind, rid = ("visit", entry.visit_id) if is_visit else ("worker", worker.id)
                what = f"worker {worker.id!r} stop {n}" + ("" if is_visit else f" (break {format_hhmm(entry.start)})")
                arrival = entry.arrival if is_visit else entry.start
                travel_s = entry.travel_s if is_visit else 0
                if previous_start is not None and entry.start < previous_start:
                    yield Violation(self.code, kind, rid, f"{what} starts at {format_hhmm(entry.start)}, before the "
                                    f"stop listed before it ({format_hhmm(previous_start)}): stops are listed in time order")
                if arrival < previous_end + travel_s:
                    yield Violation(self.code, kind, rid, f"{what} arrives at {format_hhmm(arrival)}, before the "
                                    f"previous end {format_hhmm(previous_end)} plus {travel_s} s travel ({previous})")
                previous_end, previous_start = entry.end, entry.start
                previous = f"visit {entry.visit_id!r}" if is_visit else "the break before it"


class TravelRule:
    """A stop's ``travel_s`` and ``travel_m`` are the road network's, in the worker's mode (checked with a network)."""

    code = "travel"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every leg whose time or distance differs from the network's beyond the tolerance."""
        if view.travel is None:
            return
        tol = view.tolerance_s
        for worker, route in view.routes:
            previous = worker.start_location
            for n, stop in enumerate(route.stops, start=1):
                if not view.plan.has_visit(stop.visit_id):
                    continue
                where = f"worker {worker.id!r} stop {n}"
                location = view.plan.visit_location(view.plan.visit(stop.visit_id))
                want_s, want_m = view.travel.leg(worker, previous, location)
                if abs(stop.travel_s - want_s) > tol:
                    yield Violation(self.code, "visit", stop.visit_id, f"{where} travel_s {stop.travel_s} differs "
                                    f"from the network's {want_s} s ({worker.travel_mode})")
                if abs(stop.travel_m - want_m) > tol:
                    yield Violation(self.code, "visit", stop.visit_id, f"{where} travel_m {stop.travel_m} differs "
                                    f"from the network's {want_m} m ({worker.travel_mode})")
                previous = location
