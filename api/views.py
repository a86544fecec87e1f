"""What each reader sees of a roster: a provider's visit list, a worker's day, as JSON and iCalendar.

These views carry the least client data needed to do the visits: times,
duration, postcode and tasks. No client name, id or coordinates.
"""

from __future__ import annotations

import datetime as dt

from api.models import ProviderVisit, ProviderVisitsPublic, WorkerDayPublic, WorkerStopPublic
from scheduler.ics import worker_calendar
from scheduler.model import Plan
from scheduler.roster import Roster
from scheduler.timeutil import ceil_minutes, format_hhmm


def provider_visits(plan: Plan, roster: Roster, *, roster_id: str, provider_id: str) -> ProviderVisitsPublic:
    """Return the stops of a provider's own workers, by start time.

    Parameters
    ----------
    plan
        The roster's plan.
    roster
        The roster.
    roster_id
        Its id.
    provider_id
        The provider.

    Returns
    -------
    ProviderVisitsPublic
        One row per stop of one of the provider's workers (a double-handed visit
        appears once per worker of the provider).
    """
    rows = []
    for route in roster.routes:
        if not plan.has_worker(route.worker_id) or plan.worker(route.worker_id).provider_id != provider_id:
            continue
        for stop in route.stops:
            visit = plan.visit(stop.visit_id)
            rows.append(ProviderVisit(
                visit_id=visit.id, worker_id=route.worker_id, start=format_hhmm(stop.start),
                end=format_hhmm(stop.end), duration_min=(stop.end - stop.start) // 60,
                postcode=plan.client(visit.client_id).postcode, tasks=list(visit.tasks),
                workers_required=visit.workers_required))
    rows.sort(key=lambda r: (r.start, r.worker_id, r.visit_id))
    return ProviderVisitsPublic(provider_id=provider_id, date=roster.date, roster_id=roster_id, data=rows,
                                count=len(rows))


def client_ids_of(plan: Plan, visit_ids: list[str]) -> set[str]:
    """Return the clients of some visits (for the audit log)."""
    return {plan.visit(v).client_id for v in visit_ids if plan.has_visit(v)}


def worker_day(plan: Plan, roster: Roster, *, roster_id: str, worker_id: str) -> WorkerDayPublic:
    """Return a worker's day: shift, departure, stops and return.

    A worker of the plan with no route (or taken off the day) gets a day with no stops.
    """
    worker = plan.worker(worker_id) if plan.has_worker(worker_id) else None
    route = roster.route(worker_id)
    stops = []
    for stop in route.stops if route else ():
        visit = plan.visit(stop.visit_id)
        stops.append(WorkerStopPublic(
            visit_id=visit.id, arrival=format_hhmm(ceil_minutes(stop.arrival) * 60), start=format_hhmm(stop.start),
            end=format_hhmm(stop.end), duration_min=(stop.end - stop.start) // 60,
            postcode=plan.client(visit.client_id).postcode, tasks=list(visit.tasks), travel_s=stop.travel_s,
            workers_required=visit.workers_required))
    has_stops = route is not None and route.stops
    return WorkerDayPublic(
        worker_id=worker_id, provider_id=worker.provider_id if worker else "", date=roster.date,
        roster_id=roster_id,
        shift_start=format_hhmm(worker.shift.start) if worker else "", shift_end=format_hhmm(worker.shift.end)
        if worker else "",
        departure=format_hhmm(route.departure) if has_stops and route.departure is not None else None,
        return_arrival=(format_hhmm(ceil_minutes(route.return_arrival) * 60)
                        if has_stops and route.return_arrival is not None else None),
        stops=stops)


# --------------------------------------------------------------------------- iCalendar (RFC 5545)

def worker_day_ics(plan: Plan, roster: Roster, *, worker_id: str, stamp: dt.datetime) -> bytes:
    """Return a worker's day as an iCalendar file, written by the CLI's writer (:mod:`scheduler.ics`).

    One event per visit and a non-blocking one per rest break, times in UTC,
    UIDs from the date, the worker and the visit (so re-importing a re-planned
    day updates its events), and the least client data: visit id, times,
    postcode and tasks. A worker the plan no longer lists gets no events.

    Parameters
    ----------
    plan
        The roster's plan.
    roster
        The roster.
    worker_id
        The worker.
    stamp
        When the roster was made (``DTSTAMP``).

    Returns
    -------
    bytes
        The calendar, UTF-8, CRLF line endings, lines folded at 75 octets.
    """
    return worker_calendar(plan, roster, worker_id, stamp=stamp, client_details=False, allow_absent=True)
