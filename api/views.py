"""What each reader sees of a roster: a provider's visit list, a worker's day, as JSON and iCalendar.

These views carry the least client data needed to do the visits: times,
duration, postcode and tasks. No client name, id or coordinates.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from api.models import ProviderVisit, ProviderVisitsPublic, WorkerDayPublic, WorkerStopPublic
from scheduler.model import Plan
from scheduler.roster import Roster
from scheduler.timeutil import TIMEZONE, ceil_minutes, format_hhmm

PRODID = "-//homecare//roster service//EN"


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

def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> list[str]:
    """Split a content line into pieces of at most 75 octets (continuations start with a space)."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > (75 if not out else 74):
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return [out[0], *(" " + piece for piece in out[1:])]


def _utc(date: dt.date, seconds: int) -> str:
    """Return wall-clock ``seconds`` after midnight of ``date`` in Europe/London as iCalendar UTC."""
    wall = dt.datetime.combine(date, dt.time()) + dt.timedelta(seconds=seconds)
    return wall.replace(tzinfo=ZoneInfo(TIMEZONE)).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def worker_day_ics(day: WorkerDayPublic, *, stamp: dt.datetime) -> str:
    """Return a worker's day as an iCalendar file: one event per stop, times in UTC.

    Parameters
    ----------
    day
        The worker's day.
    stamp
        When the roster was made (``DTSTAMP``).

    Returns
    -------
    str
        The calendar, CRLF line endings, lines folded at 75 octets.
    """
    from scheduler.timeutil import parse_hhmm

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{_escape(f'Visits of {day.worker_id} on {day.date.isoformat()}')}"]
    dtstamp = stamp.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    for n, stop in enumerate(day.stops, start=1):
        who = " (double-handed)" if stop.workers_required > 1 else ""
        description = [f"Arrive {stop.arrival}; visit {stop.start}-{stop.end} ({stop.duration_min} min){who}."]
        if stop.tasks:
            description.append("Tasks: " + ", ".join(stop.tasks) + ".")
        lines += [
            "BEGIN:VEVENT",
            f"UID:{day.roster_id}-{day.worker_id}-{stop.visit_id}@homecare",
            f"DTSTAMP:{dtstamp}",
            f"DTSTART:{_utc(day.date, parse_hhmm(stop.start))}",
            f"DTEND:{_utc(day.date, parse_hhmm(stop.end))}",
            f"SUMMARY:{_escape(f'Visit {n}: {stop.visit_id} ({stop.duration_min} min){who}')}",
            f"LOCATION:{_escape(stop.postcode)}",
            f"DESCRIPTION:{_escape(' '.join(description))}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(piece + "\r\n" for line in lines for piece in _fold(line))
