"""What every rule reads of a finished roster: :class:`RosterView`, built once per check.

:func:`scheduler.validate.check_roster` builds one view of the plan, the roster
and the checking options, and hands it to each rule of
:data:`scheduler.rules.ROSTER_RULES`. What several rules need (the routes of
known workers, who serves each visit, the re-plan time, the visits rightly left
out as ``past``) is worked out once here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from scheduler.errors import PlanError
from scheduler.model import Location, Plan, Visit, Worker
from scheduler.roster import LockedStop, Roster, Route, Stop, plan_locked_before


class TravelOracle(Protocol):
    """Road-network travel between two points for a worker's travel mode."""

    def leg(self, worker: Worker, origin: Location, destination: Location) -> tuple[int, int]:
        """Return travel time (seconds) and distance (metres) from ``origin`` to ``destination``."""
        ...


#: Finds room for a visit in the routes as they stand (:func:`scheduler.validate.free_slot`): who could
#: take it and when, or ``None``.
FreeSlot = Callable[..., "str | None"]


@dataclass
class RosterView:
    """A finished roster with its plan and the options of one check, as the rules read it.

    Parameters
    ----------
    plan
        The plan the roster claims to serve.
    roster
        The roster.
    travel
        Road-network travel, or ``None`` (``travel_s`` trusted, no mandatory-visit rule).
    tolerance_s
        How far a stop's ``travel_s`` (seconds) and ``travel_m`` (metres) may differ from the network.
    locked
        Stops that must appear exactly as given.
    locked_before
        The re-planning time asked for (seconds), or ``None`` for the roster's or the plan's own.
    free_slot
        Finds room for an unassigned visit in the roster as it stands (the mandatory-visit rule).
    """

    plan: Plan
    roster: Roster
    travel: TravelOracle | None = None
    tolerance_s: int = 1
    locked: tuple[LockedStop, ...] = ()
    locked_before: int | None = None
    free_slot: FreeSlot | None = field(default=None, repr=False)

    @cached_property
    def routes(self) -> tuple[tuple[Worker, Route], ...]:
        """Each route of a worker in the plan, with the worker, in roster order (a repeated route too)."""
        return tuple((self.plan.worker(r.worker_id), r) for r in self.roster.routes if self.plan.has_worker(r.worker_id))

    def stops(self) -> Iterator[tuple[Worker, int, Stop, Visit]]:
        """Yield each stop of a visit in the plan on those routes: worker, stop number (from 1), stop, visit."""
        return iter(self._stops)

    @cached_property
    def _stops(self) -> list[tuple[Worker, int, Stop, Visit]]:
        plan = self.plan
        return [(worker, n, stop, plan.visit(stop.visit_id)) for worker, route in self.routes
                for n, stop in enumerate(route.stops, start=1) if plan.has_visit(stop.visit_id)]

    @cached_property
    def served(self) -> dict[str, list[tuple[str, Stop]]]:
        """For each visit in the plan that is served: (worker id, stop) of each place, in roster order."""
        out: dict[str, list[tuple[str, Stop]]] = defaultdict(list)
        for worker, _n, stop, _visit in self.stops():
            out[stop.visit_id].append((worker.id, stop))
        return dict(out)

    @cached_property
    def unassigned(self) -> Counter[str]:
        """How many times each visit id is listed as unassigned."""
        return Counter(u.visit_id for u in self.roster.unassigned)

    @cached_property
    def _lock(self) -> tuple[int | None, str | None]:
        lock = self.locked_before if self.locked_before is not None else self.roster.locked_before
        if lock is not None:
            return lock, None
        try:
            return plan_locked_before(self.plan), None
        except PlanError as exc:
            return None, str(exc.problems[0])

    @property
    def lock_time(self) -> int | None:
        """The re-plan time (seconds): the one asked for, else the roster's, else the plan's; or ``None``."""
        return self._lock[0]

    @property
    def lock_problem(self) -> str | None:
        """Why the plan's own ``locked_before`` could not be read, or ``None``."""
        return self._lock[1]

    @cached_property
    def kept(self) -> frozenset[tuple[str, str, int]]:
        """The stops to keep, as (visit id, worker id, start)."""
        return frozenset((lk.visit_id, lk.worker_id, lk.start) for lk in self.locked)

    def held(self, route: Route) -> list[bool]:
        """For each stop of ``route``: whether it is a kept stop (marked ``locked`` or among the stops to keep)."""
        return [st.locked or (st.visit_id, route.worker_id, st.start) in self.kept for st in route.stops]

    @cached_property
    def past(self) -> frozenset[str]:
        """The visits rightly unassigned as ``past`` at a re-plan.

        A visit is in the past when its window closed before the lock time, or
        when a kept stop of it started before then by a worker who is no longer
        in the plan.
        """
        lock = self.lock_time
        out = set()
        for u in self.roster.unassigned:
            if u.code != "past" or not self.plan.has_visit(u.visit_id) or lock is None:
                continue
            visit = self.plan.visit(u.visit_id)
            gone = any(lk.visit_id == visit.id and not self.plan.has_worker(lk.worker_id) and lk.start < lock
                       for lk in self.locked)
            if visit.window.end < lock or gone:
                out.add(visit.id)
        return frozenset(out)


def route_visits(view: RosterView, route: Route) -> Sequence[Stop]:
    """Return the stops of ``route`` whose visit is in the plan."""
    return [s for s in route.stops if view.plan.has_visit(s.visit_id)]
