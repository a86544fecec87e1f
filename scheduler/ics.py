"""A worker's day as an iCalendar file (RFC 5545): one event per visit and per rest break.

Built with the ``icalendar`` package, which escapes text, folds lines at 75
octets and ends them with CRLF. Event times are written in UTC (``...Z``),
converted from the roster's Europe/London wall-clock times on its date, so a
calendar shows them right whatever its time-zone database; ``X-WR-TIMEZONE``
tells calendars which zone the day was planned in.

UIDs depend only on the date, the worker and the visit (or the break's place in
the day), so importing a re-planned day updates the events it moved.

The CLI (``homecare ics``) writes everything a carer may want (client name,
address, coordinates, notes); the roster service writes the same calendar with
``client_details=False``: the least client data needed to do the visits
(visit id, times, postcode, tasks), as in its worker's-day view.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from scheduler.errors import Problem, UnknownReferenceError
from scheduler.model import Plan, Visit
from scheduler.roster import Roster, Stop
from scheduler.timeutil import TIMEZONE, ceil_minutes, format_hhmm

__all__ = ["PRODID", "worker_calendar"]

PRODID = "-//homecare//worker day//EN"
UID_DOMAIN = "homecare"


def _utc(date: dt.date, seconds: int) -> dt.datetime:
    """Return wall-clock ``seconds`` after midnight of ``date`` in Europe/London, in UTC."""
    wall = dt.datetime.combine(date, dt.time()) + dt.timedelta(seconds=seconds)
    return wall.replace(tzinfo=ZoneInfo(TIMEZONE)).astimezone(dt.UTC)


def _minutes(seconds: int) -> str:
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _partners(roster: Roster, worker_id: str) -> dict[str, list[str]]:
    """Return, per visit, the other workers who serve it (double-handed visits)."""
    serving: dict[str, list[str]] = {}
    for route in roster.routes:
        for stop in route.stops:
            serving.setdefault(stop.visit_id, []).append(route.worker_id)
    return {v: [w for w in ws if w != worker_id] for v, ws in serving.items()}


def _where(plan: Plan, visit: Visit) -> str:
    """Return where a visit is: the client's ``address`` (else postcode), and lat/lon."""
    client = plan.client(visit.client_id)
    place = str(client.extra.get("address") or client.postcode or "").strip()
    point = f"{client.location.lat:.6f}, {client.location.lon:.6f}"
    return f"{place} ({point})" if place else point


def _description(plan: Plan, visit: Visit, stop: Stop, previous: str, mode: str,
                 partners: list[str], *, client_details: bool = True) -> str:
    client = plan.client(visit.client_id)
    whose = f" for {client.name or client.id} ({client.id})" if client_details else ""
    lines = [f"Visit {visit.id}{whose}: {visit.kind}, {visit.duration_min} min, {visit.priority}.",
             f"Window {visit.window}; arrive {format_hhmm(ceil_minutes(stop.arrival) * 60)}"
             + (f", wait {_minutes(stop.wait_s)}." if stop.wait_s >= 60 else ".")]
    if visit.tasks:
        lines.append("Tasks: " + ", ".join(visit.tasks) + ".")
    if client_details:
        notes = [str(n) for n in (visit.extra.get("notes"), client.extra.get("notes")) if n]
        lines += [f"Notes: {n}" for n in notes]
        if partners:
            lines.append(f"Double-handed with {', '.join(partners)}.")
    elif visit.workers_required > 1:
        lines.append("Double-handed.")
    lines.append(f"Travel before: {_minutes(stop.travel_s)}, {stop.travel_m / 1000:.1f} km "
                 f"by {mode} from {previous}.")
    return "\n".join(lines)


def worker_calendar(plan: Plan, roster: Roster, worker_id: str, *,
                    stamp: dt.datetime | None = None, client_details: bool = True,
                    allow_absent: bool = False) -> bytes:
    """Return a worker's day as an iCalendar file.

    Each visit is an event: ``SUMMARY`` names the client and the visit,
    ``LOCATION`` gives the client's address (or postcode) and coordinates,
    ``GEO`` the coordinates, and ``DESCRIPTION`` the window, tasks, notes, a
    double-handed partner and the travel before it. Each rest break is an
    event that does not block time (``TRANSP:TRANSPARENT``).

    Parameters
    ----------
    plan
        The plan the roster serves.
    roster
        The roster.
    worker_id
        The worker whose day to export.
    stamp
        When the calendar was made (``DTSTAMP``); now by default.
    client_details
        False: no client name, id, address, coordinates or notes, nor partner
        names. ``SUMMARY`` names the visit, ``LOCATION`` is the postcode and
        the travel before a visit comes "from visit <id>" (the roster service's
        calendar).
    allow_absent
        A worker the plan does not list (taken off a re-planned day) gets a
        calendar with no events instead of an error.

    Returns
    -------
    bytes
        The calendar (UTF-8, CRLF line endings, folded at 75 octets); a worker
        with no visits gets a calendar with no events.

    Raises
    ------
    UnknownReferenceError
        If the plan has no worker ``worker_id`` (the message lists those it has).
    """
    import icalendar

    if not plan.has_worker(worker_id) and not allow_absent:
        known = ", ".join(w.id for w in plan.workers) or "none"
        raise UnknownReferenceError([Problem(
            "worker", worker_id, None, f"no such worker in the plan; its workers are: {known}")])
    worker = plan.worker(worker_id) if plan.has_worker(worker_id) else None
    stamp = (stamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    who = f"{worker.name or worker.id} ({worker.id})" if worker else worker_id
    cal.add("x-wr-calname", f"{who}, {roster.date.isoformat()}")
    cal.add("x-wr-timezone", TIMEZONE)
    route = roster.route(worker_id) if worker else None  # a worker the plan does not list: no events
    mode = worker.travel_mode if worker else ""
    day = roster.date.strftime("%Y%m%d")
    partners = _partners(roster, worker_id)
    previous = "home"
    for stop in route.stops if route else ():
        visit = plan.visit(stop.visit_id)
        client = plan.client(visit.client_id)
        event = icalendar.Event()
        event.add("uid", f"{day}-{worker_id}-{visit.id}@{UID_DOMAIN}")
        event.add("dtstamp", stamp)
        event.add("dtstart", _utc(roster.date, stop.start))
        event.add("dtend", _utc(roster.date, stop.end))
        double = " (double-handed)" if visit.workers_required > 1 else ""
        if client_details:
            event.add("summary", f"{client.name or client.id}: visit {visit.id}{double}")
            event.add("location", _where(plan, visit))
            event.add("geo", (client.location.lat, client.location.lon))
        else:
            event.add("summary", f"Visit {visit.id} ({visit.duration_min} min){double}")
            if client.postcode:
                event.add("location", client.postcode)
        event.add("description", _description(plan, visit, stop, previous, mode,
                                              partners.get(visit.id, []), client_details=client_details))
        event.add("categories", [visit.kind])
        cal.add_component(event)
        previous = f"{visit.id} ({client.name or client.id})" if client_details else f"visit {visit.id}"
    for n, rest in enumerate(route.breaks if route else (), start=1):
        event = icalendar.Event()
        event.add("uid", f"{day}-{worker_id}-break-{n}@{UID_DOMAIN}")
        event.add("dtstamp", stamp)
        event.add("dtstart", _utc(roster.date, rest.start))
        event.add("dtend", _utc(roster.date, rest.end))
        event.add("summary", "Rest break")
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()
