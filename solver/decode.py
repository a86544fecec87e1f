"""Decode a solution of the routing model into routes (with breaks and waits) and visits left out."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ortools.constraint_solver import pywrapcp

from scheduler.errors import SolverError
from scheduler.model import Location, Plan, Worker
from scheduler.roster import OFF_AFTER_S, Break, Route, Stop, Unassigned, make_route, plan_locked_before
from scheduler.rules.view import TravelOracle
from scheduler.shifts import arrive, break_needs, free_time, gaps, leave_by, stints
from solver.model import RoutingModel



def just_in_time(start: int, leg_min_s: int, earliest: int, blocks: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """Return when a worker leaves for a visit starting at ``start``, and when they arrive.

    They leave as late as the start allows, but not before ``earliest`` (the day's
    start, or the previous visit's end): any waiting happens before leaving, and
    the arrival is just in time, earlier only when travel must pause over a gap
    between stints (``blocks``).

    Parameters
    ----------
    start
        The visit's start (seconds).
    leg_min_s
        The leg's travel, rounded up to whole minutes (seconds), as the model counts it.
    earliest
        The earliest the worker may leave (seconds).
    blocks
        The gaps between stints, as ``(start, end)`` (seconds).

    Returns
    -------
    tuple of int
        ``(departure, arrival)`` in seconds.
    """
    departure = max(earliest, leave_by(start, leg_min_s, blocks))
    return departure, min(start, arrive(departure, leg_min_s, blocks))

def decode(model: RoutingModel, assignment: pywrapcp.Assignment) -> tuple[list, list[Unassigned]]:
    """Turn an assignment into routes and the list of visits left out.

    Returns
    -------
    tuple of (list of Route, list of Unassigned)
        Every worker's route (empty ones included), and the visits nobody serves,
        with the reasons of those excluded before the search. Reasons for visits
        the search dropped are added by :func:`solver.explain.explain_unassigned`.

    Raises
    ------
    SolverError
        If a double-handed visit is served only once (the model forbids it).
    """
    plan, travel, manager, routing, time_dim = (
        model.plan, model.travel, model.manager, model.routing, model.time_dim)
    lock = plan_locked_before(plan)
    routes = []
    served: dict[str, int] = {}
    for k, worker in enumerate(plan.workers):
        matrix = travel.matrix(worker.travel_mode)
        index = routing.Start(k)
        prev_loc = model.node_location[manager.IndexToNode(index)]
        leaves_from = stints(worker)[0].start
        if lock is not None and not any(v == k and at * 60 < lock for v, at in model.node_lock.values()):
            leaves_from = max(leaves_from, lock)
        # Travel pauses over the gaps between stints (the model counts it so).
        blocks = [(g.start, g.end) for g in gaps(worker)]
        legs: list[tuple[int, int, int, int, int, bool]] = []  # visit node, start, leg s, leg m, leg s rounded up, locked
        index = assignment.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            here = model.node_location[node]
            leg_s, leg_m = int(matrix.time_s[prev_loc, here]), int(matrix.distance_m[prev_loc, here])
            start = assignment.Value(time_dim.CumulVar(index)) * 60
            legs.append((node, start, leg_s, leg_m, -(-leg_s // 60) * 60, node in model.node_lock))
            prev_loc = here
            index = assignment.Value(routing.NextVar(index))
        end_loc = model.node_location[manager.IndexToNode(index)]
        stops: list[Stop] = []
        prev_end: int | None = None
        for node, start, leg_s, leg_m, leg_min_s, is_locked in legs:
            visit = model.node_visit[node]
            # Leave as late as the start allows: any waiting happens before leaving, and
            # the worker arrives just in time (earlier only when travel must pause over a gap).
            departure, arrival = just_in_time(start, leg_min_s, leaves_from if prev_end is None else prev_end,
                                              blocks)
            stops.append(Stop(visit.id, arrival, start, start + visit.duration_s, leg_s, leg_m, visit.client_id,
                              departure=departure, locked=is_locked))
            served[visit.id] = served.get(visit.id, 0) + 1
            prev_end = start + visit.duration_s
        rests = [Break(assignment.StartValue(iv) * 60, assignment.EndValue(iv) * 60)
                 for iv in model.break_vars.get(k, [])]
        end_travel_s = int(matrix.time_s[prev_loc, end_loc]) if stops else 0
        stops, rests = _place_breaks(plan, worker, stops, rests, end_travel_s, [leg[4] for leg in legs])
        stops = with_waits(stops, rests, blocks)
        routes.append(make_route(
            worker.id, stops, departure=stops[0].departure if stops else None,
            end_travel_s=end_travel_s,
            end_travel_m=int(matrix.distance_m[prev_loc, end_loc]) if stops else 0,
            breaks=rests, gaps=blocks,
        ))
    unassigned = []
    for visit in plan.visits:
        n = served.get(visit.id, 0)
        if n and n != visit.workers_required:
            raise SolverError(f"visit {visit.id!r} is served {n} times, needs {visit.workers_required}")
        if n == 0:
            elig = model.excluded.get(visit.id)
            if elig is not None:
                unassigned.append(Unassigned(visit.id, elig.reason or "", elig.code or "ineligible"))
            else:
                unassigned.append(Unassigned(visit.id, "", "dropped"))
    return routes, unassigned


def _place_breaks(plan: Plan, worker: Worker, stops: list[Stop], rests: Sequence[Break], end_travel_s: int,
                  legs_s: Sequence[int]) -> tuple[list[Stop], list[Break]]:
    """Put each rest break the worker owes where it is really taken, and drop those not owed.

    A break is owed when the worker's day in its stint (leaving home to getting back)
    is longer than the rule's ``after_min``. It is taken while the worker waits
    between two visits, before leaving for the next one, so that the travel after
    it is whole: the search's break (which may follow the journey, or fall after
    the day's end) is moved to the nearest such time inside its window. When no
    such time exists, the visits after it start later, by at most the journey,
    if their windows and the shift allow (:func:`_push_after_break`). A break that
    fits neither way stays where the search put it (the validator then says so).

    Returns
    -------
    tuple of (list of Stop, list of Break)
        The stops (some maybe later) and the breaks taken.
    """
    if not stops:
        return stops, []
    needs = break_needs(plan, worker)
    rule = plan.provider(worker.provider_id).break_rule
    day_from, day_to = stops[0].departure, stops[-1].end + end_travel_s
    blocks = [(g.start, g.end) for g in gaps(worker)]
    out: list[Break] = []
    for need, rest in zip(needs, rests, strict=False):
        span = min(day_to, need.stint.end) - max(day_from, need.stint.start)
        if span <= rule.after_min * 60:
            continue
        duration = rest.end - rest.start
        # Free time between visits, before leaving for the next one.
        slots = [(a.end, b.departure) for a, b in zip(stops, stops[1:], strict=False) if b.departure > a.end]
        best = None
        taken = [(b.start, b.end) for b in out]
        for lo, hi in slots:
            lo, hi = max(lo, need.window.start), min(hi - duration, need.window.end)
            if lo > hi:
                continue
            at = min(max(rest.start, lo), hi)
            if free_time(at, at + duration, blocks + taken) < duration:
                continue
            if best is None or abs(at - rest.start) < abs(best - rest.start):
                best = at
        if best is None:
            pushed = _push_after_break(plan, worker, stops, rest, legs_s, taken + blocks, end_travel_s)
            if pushed is not None:
                stops = pushed
        out.append(rest if best is None else Break(best, best + duration))
    return stops, out


def _push_after_break(plan: Plan, worker: Worker, stops: list[Stop], rest: Break, legs_s: Sequence[int],
                      held: Sequence[tuple[int, int]], end_travel_s: int) -> list[Stop] | None:
    """Start the visits after ``rest`` late enough for the whole journey to follow it, or return ``None``.

    Only visits the worker serves alone, unlocked and unlinked, move, each inside its
    window, the shift and clear of other breaks and gaps.
    """
    after = [n for n, st in enumerate(stops) if st.start >= rest.end]
    if not after or after[0] == 0 or stops[after[0] - 1].end > rest.start:
        return None
    linked = {vid for v in plan.visits for a, b, _, _ in v.links() for vid in (a, b)}
    out = list(stops)
    ready = rest.end
    for n in range(after[0], len(stops)):
        st = out[n]
        start = -(-(ready + legs_s[n]) // 60) * 60
        if start <= st.start:
            break
        visit = plan.visit(st.visit_id)
        end = start + visit.duration_s
        if (st.locked or visit.workers_required != 1 or visit.id in linked or start > visit.window.end
                or end > worker.shift.end or any(a < end and start < b for a, b in held)):
            return None
        out[n] = dataclasses.replace(st, arrival=start, start=start, end=end, departure=start - legs_s[n])
        ready = end
    else:
        if out[-1].end + end_travel_s > stints(worker)[-1].end:
            return None
    return out


def with_waits(stops: Sequence[Stop], rests: Sequence[Break], blocks: Sequence[tuple[int, int]]) -> list[Stop]:
    """Set each stop's waiting before departure (``idle_s``, or ``off_s`` when long), breaks and gaps left out."""
    out = []
    held = sorted([(b.start, b.end) for b in rests] + list(blocks))
    for n, stop in enumerate(stops):
        if n == 0:
            out.append(stop)
            continue
        wait = free_time(stops[n - 1].end, stop.departure, held)
        long = wait >= OFF_AFTER_S
        out.append(dataclasses.replace(stop, idle_s=0 if long else wait, off_s=wait if long else 0))
    return out


def day_start(worker: Worker, stops: Sequence[Stop], lock: int | None) -> int:
    """Return when a worker may leave home: their first stint's start, or a re-plan's ``lock`` when no stop of
    ``stops`` starts before it."""
    start = stints(worker)[0].start
    if lock is not None and not any(s.start < lock for s in stops):
        start = max(start, lock)
    return start


def timed_legs(plan: Plan, worker: Worker, stops: Sequence[Stop], travel: TravelOracle, *, there: Location,
               ready: int, blocks: Sequence[tuple[int, int]]) -> list[Stop]:
    """Return ``stops`` (starts and ends as given) with their legs timed, the first from ``there``, free from ``ready``.

    Each stop gets its leg from the road network, leaves as late as its start allows
    and arrives just in time (:func:`just_in_time`); the next leaves from it once it ends.
    """
    out: list[Stop] = []
    for stop in stops:
        here = plan.visit_location(plan.visit(stop.visit_id))
        leg_s, leg_m = travel.leg(worker, there, here)
        departure, arrival = just_in_time(stop.start, -(-leg_s // 60) * 60, ready, blocks)
        out.append(dataclasses.replace(stop, arrival=arrival, travel_s=leg_s, travel_m=leg_m, departure=departure))
        there, ready = here, stop.end
    return out


def timed_route(plan: Plan, worker: Worker, stops: Sequence[Stop], breaks: Sequence[Break], travel: TravelOracle,
                *, lock: int | None = None) -> Route:
    """Return the route of ``stops`` (starts and ends as given) timed as :func:`decode` times stops.

    Each stop gets its leg from the road network, leaves as late as its start
    allows and arrives just in time (earlier only when travel pauses over a gap
    between stints); waits, the journey home and the totals follow. ``breaks``
    stay where they are. ``lock`` is a re-plan's time: a worker with no stop
    before it leaves home no earlier.
    """
    stops = [s for s in stops if plan.has_visit(s.visit_id)]
    blocks = [(g.start, g.end) for g in gaps(worker)]
    out = timed_legs(plan, worker, stops, travel, there=worker.start_location,
                     ready=day_start(worker, stops, lock), blocks=blocks)
    there = plan.visit_location(plan.visit(out[-1].visit_id)) if out else worker.start_location
    out = with_waits(out, breaks, blocks)
    end_s, end_m = travel.leg(worker, there, worker.end_location) if out else (0, 0)
    return make_route(worker.id, out, departure=out[0].departure if out else None, end_travel_s=end_s,
                      end_travel_m=end_m, breaks=breaks, gaps=blocks)
