"""Reasons, in a coordinator's words, for visits the search left unassigned."""

from __future__ import annotations

from collections.abc import Sequence

from scheduler.day import WorkerDay, link_bounds
from scheduler.eligibility import eligibility
from scheduler.model import Plan, Visit
from scheduler.roster import Route, Unassigned
from scheduler.rules.equipment import served_ends, unmet
from scheduler.text import counted
from scheduler.timeutil import format_hhmm
from scheduler.validate import free_slot
from solver.travel import PlanTravel


def _names(ids: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def explain_visit(plan: Plan, visit: Visit, routes: Sequence[Route], travel: PlanTravel) -> tuple[str, str]:
    """Say why a visit that eligible workers exist for was left unassigned.

    Each eligible worker's day is asked (:class:`scheduler.day.WorkerDay`, every
    rule of the day): first whether, with the day empty, they could reach the
    client in the window and get home in time, then where the day as it stands
    has room.

    Parameters
    ----------
    plan
        The plan.
    visit
        A visit the search dropped.
    routes
        The roster's routes as decoded.
    travel
        Travel between the plan's locations.

    Returns
    -------
    tuple of (code, reason)
        ``code`` is ``equipment``, ``unreachable``, ``capacity``, ``linked``, ``search`` or ``busy``.
    """
    lacking = unmet(plan, visit, served_ends(routes)) if visit.needs_equipment else None
    if lacking:
        return "equipment", lacking
    elig = eligibility(plan, visit)
    window = f"{visit.window} ({visit.duration_min} min)"
    pair = "both workers of this double-handed visit" if visit.workers_required == 2 else "it"
    reachable, nearest = [], None
    for wid in elig.worker_ids:
        w = plan.worker(wid)
        if WorkerDay(plan, w, None, travel).places(visit, limits=False, rota=False):
            reachable.append(wid)
            continue
        earliest = max(visit.window.start, w.shift.start + travel.leg(w, w.start_location,
                                                                      plan.visit_location(visit))[0])
        if nearest is None or earliest < nearest[1]:
            nearest = (wid, earliest)
    if len(reachable) < visit.workers_required:
        hint = f"; the earliest anyone could start is {format_hhmm(nearest[1])} ({nearest[0]})" if nearest else ""
        return "unreachable", (
            f"no eligible worker can reach client {visit.client_id!r} to start in {window} and get back "
            f"before their shift ends{hint}: widen the window or add a worker on shift nearby")
    busy = {r.worker_id: r for r in routes}
    starts = {s.visit_id: s.start for r in routes for s in r.stops}
    answers = [WorkerDay(plan, plan.worker(wid), busy.get(wid), travel).ask(visit, starts=starts)
               for wid in reachable]
    if sum(1 for a in answers if a.refusal is None or a.refusal.code != "capacity") < visit.workers_required:
        return "capacity", (
            f"every eligible van ({_names(reachable)}) is too full to add demand {visit.demand}: "
            f"add a van or move the delivery to another slot")
    lo, hi, links = link_bounds(plan, visit, starts)
    if links:
        partners = " and ".join(
            f"{k.other_id!r} (must end {k.gap()} min before {k.other_id!r} starts)" if k.first else
            f"{k.other_id!r} (must start {k.gap()} min after {k.other_id!r} ends)" for k in links)
        window = (f"{format_hhmm(max(lo, visit.window.start))}-{format_hhmm(min(hi, visit.window.end))}"
                  if max(lo, visit.window.start) <= min(hi, visit.window.end) else "no time in its window")
        return "linked", (
            f"its link to {partners} allows a start only in {window}; no eligible worker "
            f"({_names(reachable)}) has room then: loosen the link's gap or move the linked visit")
    slot = free_slot(plan, routes, visit, travel)
    if slot:
        return "search", f"{slot}, but the search ended first: raise the time limit"
    return "busy", (
        f"the {counted(len(reachable), 'eligible worker')} who can reach {pair} in time ({_names(reachable)}) "
        f"{'is' if len(reachable) == 1 else 'are all'} booked around {window}: add a worker on shift then, or widen the window")


def explain_unassigned(
    plan: Plan, routes: Sequence[Route], unassigned: Sequence[Unassigned], travel: PlanTravel
) -> list[Unassigned]:
    """Fill in the reason of every unassigned visit the search dropped.

    Parameters
    ----------
    plan
        The plan.
    routes
        The roster's routes.
    unassigned
        Unassigned visits; those with code ``dropped`` get a reason.
    travel
        Travel between the plan's locations.

    Returns
    -------
    list of Unassigned
        The same visits, each with a specific reason.
    """
    out = []
    for u in unassigned:
        if u.code == "dropped":
            code, reason = explain_visit(plan, plan.visit(u.visit_id), routes, travel)
            out.append(Unassigned(u.visit_id, reason, code))
        else:
            out.append(u)
    return out
