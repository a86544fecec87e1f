"""A double-handed visit gets two different workers who start it at the same minute."""

from __future__ import annotations

from collections.abc import Iterator

from scheduler.rules.base import Violation
from scheduler.rules.view import RosterView
from scheduler.timeutil import format_hhmm


class DoubleHandedRule:
    """Both places of a double-handed visit go to two workers starting at the same minute."""

    code = "double_handed"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every double-handed visit served twice by one worker, or at two times."""
        for visit in view.plan.visits:
            stops = view.served.get(visit.id, [])
            if visit.workers_required != 2 or len(stops) != 2 or view.unassigned.get(visit.id, 0):
                continue
            (w1, s1), (w2, s2) = stops
            if w1 == w2:
                yield Violation(self.code, "visit", visit.id,
                                f"both places of the double-handed visit go to worker {w1!r}")
            if s1.start // 60 != s2.start // 60:
                yield Violation(self.code, "visit", visit.id, f"double-handed visit starts at "
                                f"{format_hhmm(s1.start)} ({w1}) and {format_hhmm(s2.start)} ({w2})")
