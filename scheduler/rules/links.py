"""Linked visits (``after``, ``before``) keep the gap their link asks for, when both are served."""

from __future__ import annotations

from collections.abc import Iterator

from scheduler.rules.base import Violation
from scheduler.rules.view import RosterView


class LinkRule:
    """The gap between a linked pair (first one's end to the other's start, in minutes) is within the link's bounds."""

    code = "linked"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every served pair of linked visits whose gap breaks its bounds."""
        served = view.served
        for visit in view.plan.visits:
            for first_id, then_id, low, high in visit.links():
                if served.get(first_id) and served.get(then_id):
                    first_end = min(st.end for _, st in served[first_id])
                    then_start = min(st.start for _, st in served[then_id])
                    gap = (then_start - first_end) // 60
                    if gap < low or (high is not None and gap > high):
                        want = f"{low}-{high}" if high is not None else f"at least {low}"
                        yield Violation(self.code, "visit", visit.id, f"visit {then_id!r} starts {gap} min after "
                                        f"{first_id!r} ends; the link asks {want} min")
