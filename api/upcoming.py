"""A resident's upcoming visits: every visit of one client in the rosters published now, today and later.

``GET /upcoming`` (:mod:`api.routes.book`) answers from these. A date's
rosters are the ones published now for each provider
(:func:`api.frontdoor.current_publications`, the front door's own look-up);
each provider's roster is cut to that provider's own workers as its visit list
is (:func:`api.views.provider_visits`), so a visit shows where the provider it
is planned for published it, and nowhere else. Regular care comes with the
visits booked at the front door; a booked visit carries its booking's id (so
it can be cancelled), a cancelled booking's visit is never shown (a roster
published since the cancellation may still hold it). A resident never sees
workers or providers; the contact centre and coordinators see both.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import crud
from api.crud import ParsedCache
from api.frontdoor import current_publications
from api.models import BookingRecord, RosterPublication
from api.security import Principal
from api.views import provider_visits
from scheduler.model import Plan
from scheduler.offers import WORKER_WORDS
from scheduler.timeutil import format_hhmm

#: What a visit of each kind is, in plain words.
KIND_WORDS = {"care": "care visit", "hairdressing": "hairdresser", "delivery": "delivery",
              "equipment": "equipment technician"}


class UpcomingVisit(BaseModel):
    """One planned visit of the client: when it may start (its window), when it is planned, what it is."""

    date: dt.date
    visit_id: str
    kind: str
    what: str
    window: dict[str, str]
    start: str
    end: str
    duration_min: int
    workers_required: int
    tasks: list[str]
    booking_id: str | None = None
    provider_id: str | None = None
    worker_ids: list[str] | None = None


class UpcomingPublic(BaseModel):
    """A client's upcoming visits, by date and start (``provider_id`` and ``worker_ids`` not for residents)."""

    client_id: str
    today: dt.date
    data: list[UpcomingVisit]
    count: int


def _what(plan: Plan, visit_id: str) -> str:
    """Say what a visit is: the kind in plain words, and the item an installation puts in."""
    visit = plan.visit(visit_id)
    words = KIND_WORDS.get(visit.kind, WORKER_WORDS.get(visit.kind, visit.kind))
    if visit.installs:
        return f"{words}: installs a {visit.installs.replace('_', ' ')}"
    return words


def _booked(session: Session, client_id: str) -> tuple[dict[tuple[str, str, str], str], set[tuple[str, str, str]]]:
    """Return the client's booked visits by (date, provider, visit id) with their booking, and ended ones
    (cancelled or rescheduled)."""
    booked: dict[tuple[str, str, str], str] = {}
    cancelled: set[tuple[str, str, str]] = set()
    for record in session.scalars(select(BookingRecord).where(BookingRecord.client_id == client_id)
                                  .order_by(BookingRecord.created_at)):
        for v in record.visits:
            key = (v["date"], v.get("provider_id") or record.provider_id, v["visit_id"])
            if record.state != "booked":  # cancelled, or rescheduled to another booking
                cancelled.add(key)
                booked.pop(key, None)
            else:
                booked[key] = record.id
                cancelled.discard(key)
    return booked, cancelled


def upcoming_visits(*, session: Session, cache: ParsedCache, client_id: str, today: dt.date,
                    who: Principal) -> UpcomingPublic:
    """Return a client's visits in the rosters published now for ``today`` and later dates.

    Parameters
    ----------
    session
        A read session.
    cache
        Parsed plans and rosters.
    client_id
        The client.
    today
        The first date shown.
    who
        The caller: a resident's answer has no ``provider_id`` or ``worker_ids``.

    Returns
    -------
    UpcomingPublic
        One row per visit (a double-handed visit once), by date, start and visit id.
    """
    dates = session.scalars(select(RosterPublication.date).where(RosterPublication.date >= today).distinct())
    current = current_publications(session=session, dates=dates)
    booked, cancelled = _booked(session, client_id)
    rows: dict[tuple[dt.date, str, str], UpcomingVisit] = {}
    for (date, provider_id), roster_id in sorted(current.items()):
        record = crud.get_roster(session=session, roster_id=roster_id)
        parsed = cache.roster(session=session, roster_id=roster_id)
        assert record is not None and parsed is not None  # a published roster exists
        plan = cache.plan(session=session, plan_id=record.plan_id)
        assert plan is not None  # foreign key
        mine = {v.id for v in plan.visits if v.client_id == client_id}
        if not mine:
            continue
        listed = provider_visits(plan, parsed[0], roster_id=roster_id, provider_id=provider_id)
        for stop in listed.data:
            if stop.visit_id not in mine:
                continue
            key = (date.isoformat(), provider_id, stop.visit_id)
            if key in cancelled:
                continue
            row = rows.get((date, provider_id, stop.visit_id))
            if row is not None:  # the second worker of a double-handed visit
                row.worker_ids = sorted({*(row.worker_ids or ()), stop.worker_id})
                continue
            visit = plan.visit(stop.visit_id)
            rows[(date, provider_id, stop.visit_id)] = UpcomingVisit(
                date=date, visit_id=stop.visit_id, kind=visit.kind, what=_what(plan, stop.visit_id),
                window={"start": format_hhmm(visit.window.start), "end": format_hhmm(visit.window.end)},
                start=stop.start, end=stop.end, duration_min=stop.duration_min,
                workers_required=stop.workers_required, tasks=stop.tasks, booking_id=booked.get(key),
                provider_id=provider_id, worker_ids=[stop.worker_id])
    data = sorted(rows.values(), key=lambda r: (r.date, r.start, r.visit_id))
    if who.kind == "resident":
        data = [r.model_copy(update={"provider_id": None, "worker_ids": None}) for r in data]
    return UpcomingPublic(client_id=client_id, today=today, data=data, count=len(data))


def public_json(answer: UpcomingPublic, who: Principal) -> dict[str, Any]:
    """The answer's JSON as the caller sees it: a resident's has no ``provider_id`` or ``worker_ids`` at all."""
    if who.kind != "resident":
        return answer.model_dump(mode="json")
    return answer.model_dump(mode="json", exclude={"data": {"__all__": {"provider_id", "worker_ids"}}})
