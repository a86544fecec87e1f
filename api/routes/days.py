"""The day's roster as its readers see it: a provider's visit list, a worker's day (JSON and iCalendar).

The roster shown is the day's current one: the newest roster of that date
(solved or re-optimised, never a what-if) whose plan lists the provider or
worker, unless ``roster_id`` names another. A provider or worker key sees only
its own data; asking for anybody else's answers 404, as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api import crud
from api.crud import DAY_PURPOSES, ParsedCache, aware
from api.db import Database
from api.deps import CacheDep, DatabaseDep, DayReader, ProviderReader, SessionDep
from api.errors import NotFound
from api.models import MessagePublic, ProviderVisitsPublic, RosterRecord, WorkerDayPublic
from api.security import Principal
from api.views import client_ids_of, provider_visits, worker_day, worker_day_ics
from scheduler.model import Plan
from scheduler.roster import Roster

router = APIRouter(tags=["days"])
NOT_FOUND = {404: {"model": MessagePublic, "description": "No such roster for this reader, or not theirs."}}
DateQuery = Annotated[dt.date, Query(description="The day, YYYY-MM-DD.")]
RosterQuery = Annotated[str | None, Query(description="A roster of that day (default: the day's current one).")]


def _day_roster(session: Session, cache: ParsedCache, *, date: dt.date, kind: str, member_id: str,
                roster_id: str | None) -> tuple[RosterRecord, Plan, Roster]:
    """Find the roster to show and check it lists the provider or worker; 404 otherwise."""
    if roster_id is None:
        record = crud.day_roster_for(session=session, date=date, kind=kind, member_id=member_id)
    else:
        record = crud.get_roster(session=session, roster_id=roster_id)
        if record is not None and (record.date != date or record.purpose not in DAY_PURPOSES
                                   or not crud.is_member(session=session, plan_id=record.plan_id, kind=kind,
                                                         member_id=member_id)):
            record = None
    if record is None:
        raise NotFound(f"roster of {kind} {member_id!r} on", date.isoformat())
    plan = cache.plan(session=session, plan_id=record.plan_id)
    parsed = cache.roster(session=session, roster_id=record.id)
    assert plan is not None and parsed is not None  # foreign key, existing record
    return record, plan, parsed[0]


@router.get("/providers/{provider_id}/visits", response_model=ProviderVisitsPublic, responses=NOT_FOUND,
            summary="A provider's visit list for a day")
def read_provider_visits(provider_id: str, date: DateQuery, session: SessionDep, db: DatabaseDep,
                         cache: CacheDep, who: ProviderReader, roster_id: RosterQuery = None) -> Response:
    """Return the stops of the provider's own workers: time, duration, postcode, tasks.

    Coordinators may read any provider's list; a ``provider:<id>`` key only its own.
    """
    if who.kind == "provider" and who.subject != provider_id:
        raise NotFound("provider", provider_id)
    record, plan, roster = _day_roster(session, cache, date=date, kind="provider", member_id=provider_id,
                                       roster_id=roster_id)

    def build() -> tuple[bytes, set[str]]:
        visits = provider_visits(plan, roster, roster_id=record.id, provider_id=provider_id)
        return visits.model_dump_json().encode(), client_ids_of(plan, [v.visit_id for v in visits.data])

    # Rosters never change: each provider's list of one is serialised once and kept.
    body, client_ids = cache.view(("provider_visits", record.id, provider_id), build)
    crud.audit(db=db, who=who, action="read_provider_visits", resource=f"roster {record.id}", client_ids=client_ids)
    return Response(body, media_type="application/json")


def _worker_day(worker_id: str, date: dt.date, session: Session, db: Database, cache: ParsedCache,
                who: Principal, roster_id: str | None, action: str) -> tuple[WorkerDayPublic, RosterRecord]:
    if who.kind == "worker" and who.subject != worker_id:
        raise NotFound("worker", worker_id)
    record, plan, roster = _day_roster(session, cache, date=date, kind="worker", member_id=worker_id,
                                       roster_id=roster_id)
    if who.kind == "provider":
        provider = crud.member_provider(session=session, plan_id=record.plan_id, worker_id=worker_id)
        if provider != who.subject:
            raise NotFound("worker", worker_id)
    day = worker_day(plan, roster, roster_id=record.id, worker_id=worker_id)
    if not day.provider_id:  # taken off the day: the plan no longer lists them
        day.provider_id = crud.member_provider(session=session, plan_id=record.plan_id, worker_id=worker_id) or ""
    crud.audit(db=db, who=who, action=action, resource=f"roster {record.id}",
               client_ids=client_ids_of(plan, [s.visit_id for s in day.stops]))
    return day, record


@router.get("/workers/{worker_id}/day", responses=NOT_FOUND, summary="A worker's day")
def read_worker_day(worker_id: str, date: DateQuery, session: SessionDep, db: DatabaseDep, cache: CacheDep,
                    who: DayReader, roster_id: RosterQuery = None) -> WorkerDayPublic:
    """Return the worker's shift and stops in order (arrival, start, end, postcode, tasks).

    Coordinators may read any worker's day; a ``provider:<id>`` key those of its
    own workers; a ``worker:<id>`` key only its own.
    """
    return _worker_day(worker_id, date, session, db, cache, who, roster_id, "read_worker_day")[0]


@router.get("/workers/{worker_id}/day.ics", response_class=Response, summary="A worker's day as iCalendar",
            responses={**NOT_FOUND, 200: {"content": {"text/calendar": {}},
                                          "description": "One event per visit, one per rest break."}})
def read_worker_day_ics(worker_id: str, date: DateQuery, session: SessionDep, db: DatabaseDep, cache: CacheDep,
                        who: DayReader, roster_id: RosterQuery = None) -> Response:
    """Return the worker's day as an iCalendar file (an event per visit and per rest break, times in UTC)."""
    _, record = _worker_day(worker_id, date, session, db, cache, who, roster_id, "read_worker_day_ics")
    plan = cache.plan(session=session, plan_id=record.plan_id)
    parsed = cache.roster(session=session, roster_id=record.id)
    assert plan is not None and parsed is not None  # foreign key, existing record
    body = worker_day_ics(plan, parsed[0], worker_id=worker_id,
                          stamp=aware(record.created_at))  # type: ignore[arg-type]
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{worker_id}-{date.isoformat()}.ics"'})
