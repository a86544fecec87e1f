"""A worker makes no more than ``max_visits`` visits (``max_visits`` 0 is refused by the working-time rule)."""

from __future__ import annotations

from collections.abc import Iterator

from scheduler.rules.base import Violation
from scheduler.rules.view import RosterView


class MaxVisitsRule:
    """A route has at most the worker's ``max_visits`` stops."""

    code = "max_visits"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every route with more stops than its worker's ``max_visits``."""
        for worker, route in view.routes:
            if worker.max_visits is not None and len(route.stops) > worker.max_visits:
                yield Violation(self.code, "worker", worker.id,
                                f"{len(route.stops)} visits, more than max_visits {worker.max_visits}")
