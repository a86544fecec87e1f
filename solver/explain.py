"""Reasons, in a coordinator's words, for visits the search left unassigned."""

from __future__ import annotations

from collections.abc import Sequence

from scheduler.eligibility import eligibility
from scheduler.model import Plan, Visit
from scheduler.roster import Route, Unassigned
from scheduler.text import counted
from scheduler.timeutil import format_hhmm
from scheduler.validate import free_slot
from solver.travel import PlanTravel


def _names(ids: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def explain_visit(plan: Plan, visit: Visit, routes: Sequence[Route], travel: PlanTravel) -> tuple[str, str]:
    """Say why a visit that eligible workers exist for was left unassigned.

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
        ``code`` is ``unreachable``, ``capacity``, ``linked``, ``search`` or ``busy``.
    """
    elig = eligibility(plan, visit)
    home = plan.visit_location(visit)
    window = f"{visit.window} ({visit.duration_min} min)"
    pair = "both workers of this double-handed visit" if visit.workers_required == 2 else "it"
    reachable, nearest = [], None
    for wid in elig.worker_ids:
        w = plan.worker(wid)
        out_s = travel.leg(w, w.start_location, home)[0]
        back_s = travel.leg(w, home, w.end_location)[0]
        earliest = max(visit.window.start, w.shift.start + out_s)
        if earliest <= visit.window.end and earliest + visit.duration_s + back_s <= w.shift.end:
            reachable.append(wid)
        elif nearest is None or earliest < nearest[1]:
            nearest = (wid, earliest)
    if len(reachable) < visit.workers_required:
        hint = f"; the earliest anyone could start is {format_hhmm(nearest[1])} ({nearest[0]})" if nearest else ""
        return "unreachable", (
            f"no eligible worker can reach client {visit.client_id!r} to start in {window} and get back "
            f"before their shift ends{hint}: widen the window or add a worker on shift nearby")
    load = {r.worker_id: sum(plan.visit(s.visit_id).demand for s in r.stops) for r in routes}
    if visit.demand:
        room = [wid for wid in reachable
                if plan.worker(wid).capacity is None or load.get(wid, 0) + visit.demand <= plan.worker(wid).capacity]
        if len(room) < visit.workers_required:
            return "capacity", (
                f"every eligible van ({_names(reachable)}) is too full to add demand {visit.demand}: "
                f"add a van or move the delivery to another slot")
    link = _link_window(plan, visit, routes)
    if link is not None:
        lo, hi, partners = link
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


def _link_window(plan: Plan, visit: Visit, routes: Sequence[Route]) -> tuple[int, int, str] | None:
    """Return the start times (seconds) the visit's links to served visits allow, and who they are."""
    starts = {s.visit_id: s.start for r in routes for s in r.stops}
    lo, hi, names = 0, 24 * 3600, []
    for first_id, then_id, gap_lo, gap_hi in visit.links() + [
        link for other in plan.visits if other.id != visit.id for link in other.links()
        if visit.id in (link[0], link[1])
    ]:
        if visit.id == then_id and first_id in starts:
            end = starts[first_id] + plan.visit(first_id).duration_s
            lo = max(lo, end + gap_lo * 60)
            hi = min(hi, end + gap_hi * 60) if gap_hi is not None else hi
            gap = f"{gap_lo}-{gap_hi}" if gap_hi is not None else f"{gap_lo}+"
            names.append(f"{first_id!r} (must start {gap} min after {first_id!r} ends)")
        elif visit.id == first_id and then_id in starts:
            hi = min(hi, starts[then_id] - visit.duration_s - gap_lo * 60)
            lo = max(lo, starts[then_id] - visit.duration_s - gap_hi * 60) if gap_hi is not None else lo
            gap = f"{gap_lo}-{gap_hi}" if gap_hi is not None else f"{gap_lo}+"
            names.append(f"{then_id!r} (must end {gap} min before {then_id!r} starts)")
    return (lo, hi, " and ".join(names)) if names else None


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
