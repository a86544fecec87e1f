"""Fill the room a short search left: put left-out mandatory visits where the validator finds room.

A search that ends early (a short time limit, a loaded machine) can leave a
mandatory visit out although a worker's day, as it stands, has room for it. The
validator then rejects the roster (rule ``mandatory``: it proves the room by
finding a gap, :func:`scheduler.validate.free_places`). :func:`fill_left_out`
runs after the search and tries each such visit in the gap the validator finds
and in the few cheapest others, other stops keeping their times. An insertion
is kept only when the whole roster still obeys every rule
(:func:`scheduler.validate.check_roster` finds no violation it did not find
before); otherwise the visit stays out, with code ``search``.

It is deterministic (visits in plan order, places by the validator's order,
then by added travel) and cheap: it runs only for left-out mandatory visits,
and each try is one roster check.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from scheduler.model import Plan, Visit
from scheduler.roster import (
    LockedStop,
    Roster,
    Route,
    Stop,
    Unassigned,
    compute_kpis,
    make_route,
    plan_locked_before,
)
from scheduler.validate import Gap, TravelOracle, Violation, check_roster, free_places
from solver.decode import timed_route
from solver.explain import explain_visit

__all__ = ["fill_left_out", "insert_stop", "remove_stop", "with_visit"]

#: Places tried per visit besides the validator's own: the cheapest by added travel.
CHEAPEST = 4
#: Places looked at per visit (a double-handed visit has a pair of gaps per place).
SCANNED = 200


def fill_left_out(
    plan: Plan,
    routes: Sequence[Route],
    unassigned: Sequence[Unassigned],
    travel: TravelOracle,
    *,
    locked: Iterable[LockedStop] = (),
    locked_before: int | None = None,
) -> tuple[list[Route], list[Unassigned], list[str]]:
    """Serve each left-out mandatory visit the roster has room for, if every rule still holds.

    Parameters
    ----------
    plan
        The plan.
    routes
        Every worker's route, as decoded from the search.
    unassigned
        The visits left out, with their reasons (:func:`solver.explain.explain_unassigned`);
        mandatory ones with code ``search`` are tried.
    travel
        Road-network travel.
    locked
        Stops kept from a roster in force, as given to :func:`solver.solve`.
    locked_before
        The re-plan time (seconds), if any; by default the plan's.

    Returns
    -------
    tuple of (list of Route, list of Unassigned, list of str)
        The routes with the visits put in, the visits still left out (those with
        code ``search`` explained again against the new routes), and the ids of
        the visits put in, in plan order.
    """
    routes, left = list(routes), list(unassigned)
    tried = [u.visit_id for u in left if u.code == "search" and plan.visit(u.visit_id).priority == "mandatory"]
    if not tried:
        return routes, left, []
    locked = tuple(locked)
    lock = locked_before if locked_before is not None else plan_locked_before(plan)

    def broken(rs: Sequence[Route], lf: Sequence[Unassigned]) -> set[Violation]:
        roster = Roster(plan.date, tuple(rs), tuple(lf), compute_kpis(plan, rs, lf), {}, lock)
        return {v for v in check_roster(plan, roster, travel=travel, locked=locked, locked_before=lock)
                if v.rule != "mandatory"}

    before = broken(routes, left)
    filled = []
    for visit_id in tried:
        visit = plan.visit(visit_id)
        rest = [u for u in left if u.visit_id != visit_id]
        for start, room in _places(plan, routes, visit, travel, lock):
            candidate = _with_visit(plan, routes, visit, start, room, travel, lock)
            now = broken(candidate, rest)
            if now <= before:
                routes, left, before = candidate, rest, now
                filled.append(visit_id)
                break
    if filled:  # the reasons of the others may name room just taken
        left = [_explained(plan, u, routes, travel) if u.code == "search" else u for u in left]
    return routes, left, filled


def _explained(plan: Plan, left_out: Unassigned, routes: Sequence[Route], travel: TravelOracle) -> Unassigned:
    code, reason = explain_visit(plan, plan.visit(left_out.visit_id), routes, travel)
    return Unassigned(left_out.visit_id, reason, code)


def _places(plan: Plan, routes: Sequence[Route], visit: Visit, travel: TravelOracle,
            lock: int | None) -> list[tuple[int, tuple[Gap, ...]]]:
    """Return the places to try: the one the validator finds first, then the cheapest others."""
    found = list(itertools.islice(free_places(plan, routes, visit, travel, not_before=lock), SCANNED))
    if not found:
        return []

    def cost(place: tuple[int, tuple[Gap, ...]]) -> tuple[int, int, tuple[str, ...]]:
        start, room = place
        return sum(g.travel_s for g in room), start, tuple(g.worker_id for g in room)

    return [found[0], *sorted(found[1:], key=cost)[:CHEAPEST]]


def _with_visit(plan: Plan, routes: Sequence[Route], visit: Visit, start: int, room: Sequence[Gap],
                travel: TravelOracle, lock: int | None) -> list[Route]:
    """Return the routes with ``visit`` starting at ``start`` in each gap of ``room``; other stops keep their times."""
    return with_visit(plan, routes, visit, start, [(g.worker_id, g.position) for g in room], travel, lock)


def with_visit(plan: Plan, routes: Sequence[Route], visit: Visit, start: int, where: Iterable[tuple[str, int]],
               travel: TravelOracle, lock: int | None) -> list[Route]:
    """Return the routes with ``visit`` starting at ``start`` for each (worker, position); other stops keep their times.

    A worker with no route gets one. See :func:`insert_stop` for how the stops are timed.
    """
    where = dict(where)
    out = [insert_stop(plan, r, visit, where.pop(r.worker_id), start, travel, lock) if r.worker_id in where else r
           for r in routes]
    out += [insert_stop(plan, make_route(wid, ()), visit, position, start, travel, lock)
            for wid, position in where.items()]
    return out


def insert_stop(plan: Plan, route: Route, visit: Visit, position: int, start: int, travel: TravelOracle,
                lock: int | None) -> Route:
    """Put ``visit`` into ``route`` before stop ``position``, timed as :func:`solver.decode.decode` times stops.

    ``position`` counts the route's stops of visits in the plan. The new stop and
    the one after it get their legs from the road network; each leaves as late as
    its start allows and arrives just in time (earlier only when travel pauses
    over a gap between stints). Every other stop and the breaks stay as they are.
    """
    stops = [s for s in route.stops if plan.has_visit(s.visit_id)]
    stops.insert(position, Stop(visit.id, start, start, start + visit.duration_s, 0, 0, visit.client_id))
    return timed_route(plan, plan.worker(route.worker_id), stops, route.breaks, travel, lock=lock)


def remove_stop(plan: Plan, route: Route, visit_id: str, travel: TravelOracle, lock: int | None) -> Route:
    """Take ``visit_id``'s stop out of ``route``; the stop after it gets its leg from the one before.

    Every other stop and the breaks stay as they are. ``plan`` may or may not
    still hold the visit.
    """
    stops = [s for s in route.stops if s.visit_id != visit_id and plan.has_visit(s.visit_id)]
    return timed_route(plan, plan.worker(route.worker_id), stops, route.breaks, travel, lock=lock)
