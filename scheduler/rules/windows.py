"""Each visit starts inside its time window and lasts its duration."""

from __future__ import annotations

from collections.abc import Iterator

from scheduler.rules.base import Violation
from scheduler.rules.view import RosterView
from scheduler.timeutil import format_hhmm


class WindowRule:
    """A stop starts inside its visit's window."""

    code = "window"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every stop starting outside its visit's window."""
        for worker, n, stop, visit in view.stops():
            if not visit.window.start <= stop.start <= visit.window.end:
                yield Violation(self.code, "visit", visit.id, f"worker {worker.id!r} stop {n} starts at "
                                f"{format_hhmm(stop.start)}, outside window {visit.window}")


class DurationRule:
    """A stop lasts its visit's ``duration_min``."""

    code = "duration"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every stop whose length is not its visit's duration."""
        for worker, n, stop, visit in view.stops():
            if stop.end - stop.start != visit.duration_s:
                yield Violation(self.code, "visit", visit.id, f"worker {worker.id!r} stop {n} lasts "
                                f"{(stop.end - stop.start) / 60:g} min, not {visit.duration_min}")
