"""Rest breaks owed are taken in their window, overlap no visit, and leave time for the travel around them."""

from __future__ import annotations

from collections.abc import Iterator

from scheduler.rules.base import Violation
from scheduler.rules.shifts import short_of_travel, travel_message
from scheduler.rules.view import RosterView, route_visits
from scheduler.shifts import break_needs
from scheduler.timeutil import format_hhmm


class BreakRule:
    """Each stint long enough holds a break of the provider's rule; breaks overlap no visit and leave room to travel."""

    code = "break"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every overlap, journey cut short by a break, and break owed but not taken."""
        plan = view.plan
        for worker, route in view.routes:
            wid = worker.id
            stops = route_visits(view, route)
            for b in route.breaks:
                for s in stops:
                    if b.start < s.end and s.start < b.end:
                        yield Violation(self.code, "worker", wid, f"break {format_hhmm(b.start)}-{format_hhmm(b.end)} "
                                        f"overlaps visit {s.visit_id!r} ({format_hhmm(s.start)}-{format_hhmm(s.end)})")
            if not worker.availability:  # with availability, the availability rule reports the journey
                for s, free in short_of_travel(route, stops, worker):
                    yield Violation(self.code, "visit", s.visit_id, travel_message(worker, s, free))
            if not stops:
                continue
            day_from = route.departure if route.departure is not None else stops[0].arrival - stops[0].travel_s
            day_to = route.return_arrival if route.return_arrival is not None else stops[-1].end + route.end_travel_s
            rule = plan.provider(worker.provider_id).break_rule
            for need in break_needs(plan, worker):
                if min(day_to, need.stint.end) - max(day_from, need.stint.start) <= rule.after_min * 60:
                    continue  # the day in this stint is not long enough to owe a break
                if not any(b.end - b.start >= need.duration_s and need.window.start <= b.start <= need.window.end
                           for b in route.breaks):
                    yield Violation(self.code, "worker", wid, f"works in {need.stint} (over {rule.after_min // 60} h) "
                                    f"without a {need.duration_s // 60}-min break starting in {need.window}")
