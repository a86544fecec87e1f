"""A local-search filter for double-handed visits: can both places still start together.

A double-handed visit is two nodes whose ``Time`` cumuls must be equal
(:func:`solver.routing.build_model`). OR-Tools' own filters do not know that
constraint: only the constraint solver's propagation checks it, after the filters
have passed a move, by restoring and propagating the whole model (some 35 ms a check
on the 1,000-visit day). On that day five of six moves the filters passed failed that
check, and the checks took about three quarters of the search's time
(``benchmarks/RESULTS.md``, "Sixth round").

:class:`DoubleUpFilter` turns most of those moves down first, in well under a millisecond. On every
route a move changes it computes each node's earliest and latest start: time windows,
service and travel, waiting allowed. Breaks and the other places' equalities are left
out, so the ranges are never narrower than the true ones and a feasible move is never
turned down. The move is turned down if a double-handed visit then has two places whose
ranges do not meet.

The filter is Python, but OR-Tools calls the filters it is given
(``AddLocalSearchFilter``) only for moves its own filters passed: about 30 a second
on the 1,000-visit day, against some 100,000 moves its filters look at. Each call walks
the routes the move changes, and those of the other places of the double-handed visits on
them, with NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ortools.constraint_solver import pywrapcp


class DoubleUpFilter(pywrapcp.IntVarLocalSearchFilter):
    """Reject moves after which a double-handed visit's places cannot start at one minute.

    The filter keeps no state of its own: OR-Tools keeps the current nexts
    (``Value``), and a place's route is found by following them to the route's end.
    OR-Tools synchronises filters thousands of times a second late in a descent, so a
    filter that read the routes on each synchronisation cost more than it saved.

    Parameters
    ----------
    routing
        The routing model, not closed yet.
    leg_min
        Per vehicle, a function of two index arrays (``from``, ``to``) giving the
        minutes from the start of ``from`` to the earliest start at ``to``: its
        service, then travel rounded up (the ``Time`` dimension's transit).
    earliest, latest
        Per routing index (vehicle starts and ends included), the ``Time`` cumul's
        bounds (minutes).
    partner
        Per routing index, the index of the other place of its double-handed visit,
        or -1.
    """

    #: Moves that change more nexts than this are left to OR-Tools (reading a move costs
    #: a call per next; Relocate, Exchange and their kin change a handful).
    MAX_CHANGES = 64

    def __init__(self, routing: pywrapcp.RoutingModel, leg_min: Sequence, earliest: np.ndarray,
                 latest: np.ndarray, partner: np.ndarray):
        self._size = routing.Size()
        super().__init__([routing.NextVar(i) for i in range(self._size)])
        self._starts = [routing.Start(k) for k in range(routing.vehicles())]
        self._vehicle_of_end = {routing.End(k): k for k in range(routing.vehicles())}
        self._leg_min = leg_min
        self._low = np.asarray(earliest, dtype=np.int64)
        self._high = np.asarray(latest, dtype=np.int64)
        self._partner = np.asarray(partner, dtype=np.int64)
        #: Moves turned down, and moves looked at (those OR-Tools' own filters passed).
        self.rejected = 0
        self.calls = 0

    def IsIncremental(self) -> bool:  # noqa: N802 - OR-Tools' name
        """Say the filter checks each move afresh (it keeps no state between moves)."""
        return False

    def Accept(self, delta: pywrapcp.Assignment, deltadelta: pywrapcp.Assignment,  # noqa: N802
               objective_min: int, objective_max: int) -> bool:
        """Whether the move ``delta`` leaves every double-handed visit's places a common minute."""
        self.calls += 1
        changed = self._changed(delta)
        if not changed:
            return True
        vehicles = {self._vehicle_of(i) for i in changed} - {-1}
        moved: dict[int, tuple[int, int]] = {}
        for k in vehicles:
            route = self._route(k, changed)
            if not (self._partner[route] >= 0).any():
                continue
            moved.update(self._ranges_by_index(k, route))
        unchanged: dict[int, dict[int, tuple[int, int]]] = {}  # other routes' ranges, read once
        for i, (early, late) in moved.items():
            other = int(self._partner[i])
            if other < 0:
                continue
            if other in moved:
                other_early, other_late = moved[other]
            elif other in changed:
                continue  # it left a route of this move: the active-together constraint says no
            else:
                k = self._vehicle_of(other)
                if k < 0:
                    continue
                if k not in unchanged:
                    unchanged[k] = self._ranges_by_index(k, self._route(k, {}))
                if other not in unchanged[k]:
                    continue  # not where its nexts said: leave the move to OR-Tools
                other_early, other_late = unchanged[k][other]
            if max(early, other_early) > min(late, other_late):
                self.rejected += 1
                return False
        return True

    def _changed(self, delta: pywrapcp.Assignment) -> dict[int, int] | None:
        """Return the move's new next per index (``None``: a move this filter leaves alone)."""
        box = delta.IntVarContainer()
        if box.Size() > self.MAX_CHANGES:
            return None
        out = {}
        for j in range(box.Size()):
            element = box.Element(j)
            i = self.IndexFromVar(element.Var())
            if i < 0:
                continue
            if not element.Activated():
                return None
            out[i] = element.Value()
        return out

    def _vehicle_of(self, index: int) -> int:
        """Return the vehicle serving ``index`` in the current solution (-1: nobody)."""
        i = index
        for _ in range(self._size + 1):
            if i >= self._size:
                return self._vehicle_of_end.get(i, -1)
            following = self.Value(i)
            if following == i:
                return -1
            i = following
        return -1

    def _route(self, vehicle: int, changed: dict[int, int]) -> np.ndarray:
        """Return ``vehicle``'s route (indices, start to end), with the nexts a move ``changed``."""
        i = self._starts[vehicle]
        out = [i]
        while i < self._size and len(out) <= self._size:
            i = changed[i] if i in changed else self.Value(i)
            out.append(i)
        return np.array(out, dtype=np.int64)

    def _ranges_by_index(self, vehicle: int, route: np.ndarray) -> dict[int, tuple[int, int]]:
        """Return each index of ``route`` with its (earliest, latest) start (minutes)."""
        early, late = self._ranges(vehicle, route)
        return dict(zip(route.tolist(), zip(early.tolist(), late.tolist(), strict=True),
                        strict=True))

    def _ranges(self, vehicle: int, route: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return each index's earliest and latest start on ``route`` (minutes), waiting allowed.

        Earliest: ``e[j] = max(low[j], e[j-1] + leg[j-1])``, that is ``C[j] + max over
        i <= j of (low[i] - C[i])`` with ``C`` the legs' running sum; latest likewise
        from the end.
        """
        legs = self._leg_min[vehicle](route[:-1], route[1:])
        reach = np.concatenate(([0], np.cumsum(legs)))
        early = reach + np.maximum.accumulate(self._low[route] - reach)
        late = reach + np.minimum.accumulate((self._high[route] - reach)[::-1])[::-1]
        return early, late
