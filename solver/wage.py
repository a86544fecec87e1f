"""The minimum wage after the search: re-time the day of each carer the roster leaves below it.

The search (:mod:`solver.constraints.minimum_wage`) sees the waiting no start
time can avoid; the waiting the schedule adds (visits started as early as their
route allows, a carer early for the other carer of a double-handed visit) it
does not. :func:`retime` takes that back where the rules allow: it fills a
carer's waits with visits from other carers' days (:func:`_relocate`), then
starts the remaining visits as late as the day allows (:func:`_later`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np

from scheduler.day import Day, NodeData, WorkerDay
from scheduler.eligibility import eligibility
from scheduler.model import Plan
from scheduler.pay import WorkerPay, worker_pay
from scheduler.roster import (
    LockedStop,
    Roster,
    Route,
    Unassigned,
    compute_kpis,
    plan_locked_before,
    worker_off_from,
)
from scheduler.rules.continuity import strangeness
from scheduler.rules.minimum_wage import OWN_TIME_GAP_MIN, objective_weight
from scheduler.shifts import gaps, stints
from scheduler.validate import TravelOracle, Violation, check_roster
from solver.decode import timed_route
from solver.repair import insert_stop

#: Rounds of moves between carers at most (each round looks at every carer still short).
ROUNDS = 3

#: What a pound of shortfall weighs against travel (seconds) when the plan makes the rule hard.
HARD_S_PER_POUND = 10**7


def retime(plan: Plan, routes: Sequence[Route], unassigned: Sequence[Unassigned], travel: TravelOracle, *,
           locked: Iterable[LockedStop] = (), locked_before: int | None = None,
           continuity_weight_s: int = 300) -> tuple[list[Route], list[str]]:
    """After the search, give each carer below the minimum wage a day with less unpaid waiting.

    First visits move between carers (:func:`_relocate`): into a short carer's
    counted waits, or out of their day to open a wait long enough to be their own
    time; then the visits left start as late as the day allows (:func:`_later`).

    The search starts every visit as early as its route allows, which leaves a
    carer waiting before a visit whose window opens later (or before a
    double-handed visit, for the other carer), and waiting between visits is
    working time the pay must cover. For each carer the roster leaves below the
    minimum wage, each visit that is not tied to another (a double-handed visit,
    a linked one, a kept stop, the day's last visit) moves to the latest start
    that still reaches the next stop on time, so that the wait moves before the
    day's first visit (off the clock) or into one long wait (the carer's own
    time). The new day is kept only when it leaves less shortfall and the roster
    breaks no rule it kept before.

    Parameters
    ----------
    plan
        The plan.
    routes
        Every worker's route, as decoded (and repaired).
    unassigned
        The visits left out.
    travel
        Road-network travel.
    locked, locked_before
        Kept stops and the re-plan time, as given to :func:`solver.solve`.
    continuity_weight_s
        What a visit by a stranger costs in travel seconds (``SolveParams``), weighed in each move.

    Returns
    -------
    tuple of (list of Route, list of str)
        The routes, and the ids of the workers whose day was re-timed.
    """
    routes = list(routes)
    if plan.minimum_wage.mode == "off":
        return routes, []
    below = _below(plan, routes)
    if not below:
        return routes, []
    locked = tuple(locked)
    lock = locked_before if locked_before is not None else plan_locked_before(plan)

    def broken(rs: Sequence[Route]) -> set[Violation]:
        roster = Roster(plan.date, tuple(rs), tuple(unassigned), compute_kpis(plan, rs, unassigned), {}, lock)
        return set(check_roster(plan, roster, travel=travel, locked=locked, locked_before=lock))

    before = broken(routes)
    kept = {lk.visit_id for lk in locked}
    changed: list[str] = []
    stranger = strangeness(plan, plan.visits) * continuity_weight_s // 100
    def start_later(routes: list[Route]) -> list[Route]:
        for n, row in _below(plan, routes):
            candidate = _later(plan, routes[n], travel, kept)
            if candidate is None:
                continue
            after = worker_pay(plan, candidate, own_time_gap_min=OWN_TIME_GAP_MIN)
            if after is None or after.shortfall >= row.shortfall:
                continue
            trial = [*routes[:n], candidate, *routes[n + 1:]]
            if broken(trial) <= before:
                routes = trial
                changed.append(candidate.worker_id)
        return routes

    routes = start_later(routes)  # the cheap fix first: no visit changes hands
    for _ in range(ROUNDS):  # a move can leave another carer short: look again
        below = _below(plan, routes)
        if not below:
            break
        routes, moved = _relocate(plan, routes, [routes[n].worker_id for n, _ in below], travel, kept, lock,
                                  lambda rs: broken(rs) <= before, stranger)
        changed += moved
        if not moved:
            break
        routes = start_later(routes)
    return routes, sorted(set(changed))


def _below(plan: Plan, routes: Sequence[Route]) -> list[tuple[int, WorkerPay]]:
    """Return each route (its index) whose worker the day leaves below the minimum wage, with their pay row.

    Workers who went off (``off_from``) are left as they are.
    """
    out = []
    for n, r in enumerate(routes):
        if not r.stops or not plan.has_worker(r.worker_id) or worker_off_from(plan.worker(r.worker_id)) is not None:
            continue
        row = worker_pay(plan, r, own_time_gap_min=OWN_TIME_GAP_MIN)
        if row is not None and row.below_minimum:
            out.append((n, row))
    return out


def _shortfall(plan: Plan, route: Route) -> float:
    """Pounds the route's worker is short of the minimum wage (0 without stops or a pay model)."""
    row = worker_pay(plan, route, own_time_gap_min=OWN_TIME_GAP_MIN) if route.stops else None
    return 0.0 if row is None else row.shortfall


def _linked(plan: Plan) -> set[str]:
    """Visits linked to another (either end of a link)."""
    return {end for v in plan.visits for first, then, _, _ in v.links() for end in (first, then)}


def _tied(plan: Plan) -> set[str]:
    """Visits whose start is tied to another's: double-handed and linked ones."""
    return {v.id for v in plan.visits if v.workers_required == 2} | _linked(plan)


def _relocate(plan: Plan, routes: list[Route], short: Sequence[str], travel: TravelOracle, kept: set[str],
              lock: int | None, still_valid, stranger: np.ndarray) -> tuple[list[Route], list[str]]:  # noqa: ANN001
    """Move visits of other carers into the days of the carers in ``short``, where it lowers the shortfall.

    A move takes a visit that is not tied to another (nor kept from a re-plan)
    out of its carer's day and puts it into a place the worker-day engine finds
    in the short carer's day. It is kept when the two days' shortfall falls by
    more than the extra travel and continuity are worth (the rule's weight of a
    pound, :func:`scheduler.rules.minimum_wage.objective_weight`; ``stranger``:
    seconds per worker and visit, :func:`scheduler.rules.continuity.strangeness`)
    and the roster breaks no rule it kept before (``still_valid``).
    """
    # A double-handed visit may change hands at its start minute (the other carer keeps theirs).
    tied = _linked(plan) | kept
    setting = plan.minimum_wage
    per_pound = HARD_S_PER_POUND if setting.mode == "hard" else float(objective_weight(setting) * 100 * 60)
    moved: list[str] = []
    at = {r.worker_id: n for n, r in enumerate(routes)}
    row = {w.id: k for k, w in enumerate(plan.workers)}
    col = {v.id: j for j, v in enumerate(plan.visits)}

    def familiarity(giver: str, taker: str, visit_id: str) -> int:
        """Continuity cost (seconds) of the visit going from ``giver`` to ``taker``."""
        return int(stranger[row[taker], col[visit_id]] - stranger[row[giver], col[visit_id]])

    for wid in short:
        worker = plan.worker(wid)
        for _ in range(len(plan.visits)):  # one move at a time, while one helps
            here = routes[at[wid]]
            gain_best, best = 0.0, None
            day = WorkerDay(plan, worker, here, travel, not_before=lock)
            # Counted waits: (from, to) between two stops with waiting that is working time.
            waits = [(a.end, b.start) for a, b in zip(here.stops, here.stops[1:], strict=False) if b.idle_s > 0]
            for n, other in enumerate(routes):
                if other.worker_id == wid or not other.stops:
                    continue
                for stop in other.stops:
                    if stop.visit_id in tied or stop.locked or not plan.has_visit(stop.visit_id):
                        continue
                    visit = plan.visit(stop.visit_id)
                    if not any(visit.window.start < until - visit.duration_s and visit.window.end > since
                               for since, until in waits) or wid not in eligibility(plan, visit).worker_ids:
                        continue
                    if any(s.visit_id == visit.id for s in here.stops):
                        continue  # the other place of a double-handed visit is this carer's already
                    shared = stop.start if visit.workers_required == 2 else None
                    for place in day.ask(visit, at=shared).places:
                        gain = _gain(plan, here, other, stop.visit_id, visit, place, travel, lock, per_pound,
                                     familiarity(other.worker_id, wid, stop.visit_id))
                        if gain is not None and gain[0] > gain_best:
                            gain_best, best = gain[0], (n, gain[1], gain[2])
            # ...or hand one of this carer's visits to someone else, opening a wait long enough to be
            # their own time (or closing the day earlier).
            days: dict[str, WorkerDay] = {}
            for stop in here.stops:
                if stop.visit_id in tied or stop.locked or not plan.has_visit(stop.visit_id):
                    continue
                visit = plan.visit(stop.visit_id)
                for taker in eligibility(plan, visit).worker_ids:
                    if taker == wid or taker not in at:
                        continue
                    other = routes[at[taker]]
                    if taker not in days:
                        days[taker] = WorkerDay(plan, plan.worker(taker), other, travel, not_before=lock)
                    if any(s.visit_id == visit.id for s in other.stops):
                        continue
                    shared = stop.start if visit.workers_required == 2 else None
                    for place in days[taker].ask(visit, at=shared).places:
                        gain = _gain(plan, other, here, stop.visit_id, visit, place, travel, lock, per_pound,
                                     familiarity(wid, taker, stop.visit_id))
                        if gain is not None and gain[0] > gain_best:
                            gain_best, best = gain[0], (at[taker], gain[2], gain[1])
            if best is None:
                break
            n, new_here, new_other = best
            trial = list(routes)
            trial[at[wid]], trial[n] = new_here, new_other
            if not still_valid(trial):
                break
            routes = trial
            moved += [wid, new_other.worker_id]
            if _shortfall(plan, routes[at[wid]]) == 0:
                break
    return routes, moved


def _gain(plan: Plan, here: Route, other: Route, visit_id: str, visit, place, travel: TravelOracle,  # noqa: ANN001
          lock: int | None, per_pound: float, stranger_s: int) -> tuple[float, Route, Route] | None:
    """Return what moving ``visit_id`` from ``other`` into ``here`` at ``place`` gains (seconds of travel), and the days."""
    start = place.latest  # late in the gap: the wait before it moves before the day's first visit, or shrinks
    new_here = insert_stop(plan, here, visit, place.position, start, travel, lock)
    left = [s for s in other.stops if s.visit_id != visit_id]
    new_other = timed_route(plan, plan.worker(other.worker_id), left, other.breaks, travel, lock=lock)
    before = _shortfall(plan, here) + _shortfall(plan, other)
    after = _shortfall(plan, new_here) + _shortfall(plan, new_other)
    extra_travel = (new_here.travel_s + new_other.travel_s) - (here.travel_s + other.travel_s)
    gain = (before - after) * per_pound - extra_travel - stranger_s
    if after >= before or gain <= 0:
        return None
    return gain, new_here, new_other


def _later(plan: Plan, route: Route, travel: TravelOracle, kept: set[str]) -> Route | None:
    """Return ``route`` with each free visit at its latest start before the next stop, or ``None`` if none moves.

    The latest starts are the worker-day engine's (:class:`scheduler.day.Day`, its backward pass), with
    tied and kept visits and the day's last visit fixed, each free visit no earlier than now and inside
    the stint it is in, travel rounded up to whole minutes as the search counts it.
    """
    worker = plan.worker(route.worker_id)
    stops = list(route.stops)
    if not all(plan.has_visit(s.visit_id) for s in stops):
        return None
    tied = _tied(plan) | kept
    data = NodeData({}, {}, {}, {}, {}, {})
    for n, st in enumerate(stops):
        visit = plan.visit(st.visit_id)
        data.loc[st.visit_id] = plan.visit_location(visit)
        data.dur[st.visit_id], data.demand[st.visit_id] = visit.duration_s, 0
        stint_end = next((p.end for p in stints(worker) if p.start <= st.start < p.end), visit.window.end)
        data.lo[st.visit_id] = st.start
        data.hi[st.visit_id] = min(visit.window.end, stint_end - visit.duration_s) // 60 * 60
        if visit.id in tied or st.locked or n == len(stops) - 1:  # the last visit keeps its start
            data.fixed[st.visit_id] = data.hi[st.visit_id] = st.start
    places = {worker.start_location, worker.end_location, *data.loc.values()}
    tt = {a: {b: -(-travel.leg(worker, a, b)[0] // 60) * 60 for b in places} for a in places}
    day = Day(data, start_loc=worker.start_location, end_loc=worker.end_location, ready=stints(worker)[0].start,
              bound=stints(worker)[-1].end, tt=tt, nodes=[s.visit_id for s in stops],
              blocks=[(g.start, g.end) for g in gaps(worker)] + [(b.start, b.end) for b in route.breaks])
    starts = [max(s.start, t) for s, t in zip(stops, day.latest, strict=True)]
    if starts == [s.start for s in stops]:
        return None
    retimed = [dataclasses.replace(s, start=t, end=t + s.end - s.start) for s, t in zip(stops, starts, strict=True)]
    return timed_route(plan, worker, retimed, route.breaks, travel)
