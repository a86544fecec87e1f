"""The roster is for the plan's day."""

from __future__ import annotations

from collections.abc import Iterator

from scheduler.rules.base import Violation
from scheduler.rules.view import RosterView


class DateRule:
    """A roster carries the date of the plan it serves."""

    code = "date"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation when the roster's date is not the plan's."""
        if view.roster.date != view.plan.date:
            yield Violation(self.code, "roster", None,
                            f"roster date {view.roster.date} differs from plan date {view.plan.date}")
