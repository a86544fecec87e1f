"""A local-search filter for the gaps between visits' starts: double-handed and linked visits.

Two kinds of constraint tie one visit's start to another's in the home-care model
(:func:`solver.model.build_model`):

* a double-handed visit is two nodes whose ``Time`` cumuls must be equal (and that are
  served both or neither);
* a linked visit must start within a gap of the end of the visit it follows (when both
  are served).

OR-Tools' own filters know neither: only the constraint solver's propagation checks
them, after the filters have passed a move, by restoring and propagating the whole
model (some 35 ms a check on the 1,000-visit day). On that day five of six moves the
filters passed failed that check for the equality, and the checks took about three
quarters of the search's time; with the equality filtered, the links made most of the
failures that remained (``benchmarks/RESULTS.md``, "Sixth round" and "Seventh round").

:class:`StartGapFilter` turns those moves down first, in about a millisecond. It bounds
every served node's start over the whole day as the move would leave it: time windows,
service and travel along each route, waiting allowed, then each tie narrowing its two
nodes' ranges by the other's, and again, until nothing narrows. Breaks are left out, so
the ranges are never narrower than the true ones and a feasible move is never turned
down. The move is turned down if a range comes out empty.

A tie counts only while both its visits are served. One place of a double-handed visit
served without the other is for OR-Tools' check to turn down, not this filter: OR-Tools'
insertion heuristics (the first solution, the recreate step of ruin and recreate) ask
the same filters about each node they insert, one at a time, and must be let through
the first place to reach the second.

The filter is Python, but OR-Tools calls the filters it is given
(``AddLocalSearchFilter``) only for moves its own filters passed: about 100 a second
on the 1,000-visit day, against some 500,000 moves its filters look at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp


@dataclass(frozen=True, slots=True)
class StartGap:
    """``start(then) - start(first)`` must lie in ``[low, high]`` minutes when both are served.

    The two places of a double-handed visit are ``low == high == 0``; a linked visit is
    ``then``, with the gap from its first visit's start (duration included).
    """

    first: int
    then: int
    low: int
    high: int | None


#: An upper bound on any gap (minutes), standing for "no most".
NO_MOST = 10**9


class StartGapFilter(pywrapcp.IntVarLocalSearchFilter):
    """Reject moves after which tied starts cannot keep their gaps.

    For a move, the filter reads the whole solution as the move leaves it (OR-Tools keeps
    the current nexts, ``Value``; the move changes a few) and bounds every served node's
    start: along its route (time windows, service and travel, waiting allowed), then by
    the nodes tied to it, and again along the routes, until nothing narrows. This is the
    propagation OR-Tools' check does for these constraints, without the breaks; a move
    it leaves an empty range for is turned down. Ties reach across routes, and chains of
    them across many (on the 1,000-visit day a changed route reaches some 40 of 117), so
    the whole day is bounded at once, with NumPy: about a millisecond a move.

    The filter keeps no state between moves. OR-Tools synchronises filters thousands of
    times a second late in a descent, and calls this one some hundred times a second, so
    reading the solution when asked costs less than keeping it up to date.

    Parameters
    ----------
    routing
        The routing model, not closed yet.
    leg_min
        Per vehicle, a function of two index arrays (``from``, ``to``) giving the
        minutes from the start of ``from`` to the earliest start at ``to``: its
        service, then travel rounded up (the ``Time`` dimension's transit). Vehicles
        that share a function (a travel mode) should be given the same object.
    earliest, latest
        Per routing index (vehicle starts and ends included), the ``Time`` cumul's
        bounds (minutes).
    gaps
        The tied starts, by routing index.
    """

    #: Rounds of narrowing by ties before a move is let through undecided.
    ROUNDS = 20

    def __init__(self, routing: pywrapcp.RoutingModel, leg_min: Sequence, earliest: np.ndarray,
                 latest: np.ndarray, gaps: Sequence[StartGap]):
        self._size = routing.Size()
        super().__init__([routing.NextVar(i) for i in range(self._size)])
        self._starts = [routing.Start(k) for k in range(routing.vehicles())]
        functions: dict[int, int] = {}
        self._group = np.array([functions.setdefault(id(f), len(functions)) for f in leg_min],
                               dtype=np.int64)
        self._legs_of_group = list({id(f): f for f in leg_min}.values())
        self._low = np.asarray(earliest, dtype=np.int64)
        self._high = np.asarray(latest, dtype=np.int64)
        self._first = np.array([g.first for g in gaps], dtype=np.int64)
        self._then = np.array([g.then for g in gaps], dtype=np.int64)
        self._least = np.array([g.low for g in gaps], dtype=np.int64)
        self._most = np.array([NO_MOST if g.high is None else g.high for g in gaps], dtype=np.int64)
        #: Moves turned down, and moves looked at (those OR-Tools' own filters passed).
        self.rejected = 0
        self.calls = 0

    def IsIncremental(self) -> bool:  # noqa: N802 - OR-Tools' name
        """Say the filter checks each move afresh (it keeps no state between moves)."""
        return False

    def Accept(self, delta: pywrapcp.Assignment, deltadelta: pywrapcp.Assignment,  # noqa: N802
               objective_min: int, objective_max: int) -> bool:
        """Whether after the move ``delta`` every tied pair of starts can keep its gap."""
        self.calls += 1
        changed = self._changed(delta)
        if not changed:
            return True
        order = self._routes_after(changed)
        if order is None or self._keeps_gaps(*order):
            return True
        self.rejected += 1
        return False

    def _changed(self, delta: pywrapcp.Assignment) -> dict[int, int] | None:
        """Return the move's new next per index (``None``: a move this filter leaves alone)."""
        box = delta.IntVarContainer()
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

    def _routes_after(self, changed: dict[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
        """Return every route after the move, one after another, and each place's vehicle.

        ``None`` if the nexts do not make routes (left to OR-Tools).
        """
        following = [self.Value(i) for i in range(self._size)]
        for i, j in changed.items():
            following[i] = j
        order: list[int] = []
        lengths = []
        for start in self._starts:
            i, before = start, len(order)
            order.append(i)
            while i < self._size:
                i = following[i]
                order.append(i)
                if len(order) - before > self._size:
                    return None
            lengths.append(len(order) - before)
        vehicle = np.repeat(np.arange(len(self._starts)), lengths)
        return np.array(order, dtype=np.int64), vehicle

    def _keeps_gaps(self, order: np.ndarray, vehicle: np.ndarray) -> bool:
        """Whether the routes ``order`` (per place, its ``vehicle``) leave every tie kept."""
        position = np.full(len(self._low), -1, dtype=np.int64)
        position[order] = np.arange(len(order))
        first, then = position[self._first], position[self._then]
        both = (first >= 0) & (then >= 0)
        if not both.any():
            return True
        first, then = first[both], then[both]
        least, most = self._least[both], self._most[both]
        reach = self._reach(order, vehicle)
        low, high = self._low[order], self._high[order]
        for _ in range(self.ROUNDS):
            early, late = _ranges(reach, vehicle, low, high)
            if (early > late).any():
                return False
            # start(then) - start(first) in [least, most], so each bounds the other.
            low_first, high_first = early[then] - most, late[then] - least
            low_then, high_then = early[first] + least, late[first] + most
            if not ((low_first > early[first]).any() or (high_first < late[first]).any()
                    or (low_then > early[then]).any() or (high_then < late[then]).any()):
                return True
            np.maximum.at(low, first, low_first)
            np.minimum.at(high, first, high_first)
            np.maximum.at(low, then, low_then)
            np.minimum.at(high, then, high_then)
        return True

    def _reach(self, order: np.ndarray, vehicle: np.ndarray) -> np.ndarray:
        """Return the running sum of legs along ``order`` (minutes; no leg between routes)."""
        legs = np.zeros(len(order), dtype=np.int64)
        same = vehicle[:-1] == vehicle[1:]
        group = self._group[vehicle[:-1]]
        for g, leg_min in enumerate(self._legs_of_group):
            arc = np.flatnonzero(same & (group == g))
            legs[arc + 1] = leg_min(order[arc], order[arc + 1])
        return np.cumsum(legs)


#: Larger than any spread of ``bound - reach`` on one day, so that adding ``vehicle * SPAN``
#: keeps each route's running maximum (minimum) from reaching into the next route.
SPAN = 1 << 40


def _ranges(reach: np.ndarray, vehicle: np.ndarray, low: np.ndarray,
            high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each place's earliest and latest start (minutes), waiting allowed.

    ``reach`` is the running sum of legs, ``vehicle`` each place's route (routes one after
    another), ``low`` and ``high`` each place's bounds. Earliest:
    ``e[j] = max(low[j], e[j-1] + leg[j-1])``, that is ``reach[j] + max over i <= j on the
    route of (low[i] - reach[i])``; latest likewise from the route's end.
    """
    offset = vehicle * SPAN
    early = reach + np.maximum.accumulate(low - reach + offset) - offset
    late = reach + np.minimum.accumulate((high - reach + offset)[::-1])[::-1] - offset
    return early, late
