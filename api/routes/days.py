"""The day's roster as its readers see it: a provider's visit list, a worker's day (JSON and iCalendar).

The roster shown is the one a coordinator published for the provider on that
date (``POST /rosters/{id}/publish``); drafts and what-ifs are never shown to
providers or workers. A coordinator may name another roster of the day with
``roster_id`` (to see what a provider or worker would get). A worker is named
by provider **and** id (:func:`api.crud.day_roster`): a ``worker:<provider
id>:<worker id>`` key, or a provider key, sees only that provider's worker of
that id, whatever other plans of the date call ``w1``. A provider or worker key
sees only its own data; asking for anybody else's answers 404, as if it did not
exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api import crud
from api.crud import ParsedCache, aware
from api.db import Database
from api.deps import CacheDep, DatabaseDep, DayReader, ProviderReader, SessionDep
from api.errors import NotFound
from api.models import MessagePublic, ProblemsPublic, ProviderVisitsPublic, RosterRecord, WorkerDayPublic
from api.security import Principal
from api.views import client_ids_of, provider_visits, worker_day, worker_day_ics
from scheduler.errors import Problem, SchemaError
from scheduler.model import Plan
from scheduler.roster import Roster

router = APIRouter(tags=["days"])
NOT_FOUND = {404: {"model": MessagePublic, "description": "No published roster for this reader, or not theirs."}}
AMBIGUOUS = {422: {"model": ProblemsPublic,
                   "description": "Several providers have a worker of this id that day: name one (provider_id)."}}
DateQuery = Annotated[dt.date, Query(description="The day, YYYY-MM-DD.")]
RosterQuery = Annotated[str | None, Query(
    description="Coordinators: a roster of that day to show instead of the published one.")]
ProviderQuery = Annotated[str | None, Query(
    description="The worker's provider (default: the key's; for a coordinator, needed only when several "
                "providers have a worker of this id that day).")]


def _parsed(session: Session, cache: ParsedCache, record: RosterRecord) -> tuple[Plan, Roster]:
    plan = cache.plan(session=session, plan_id=record.plan_id)
    parsed = cache.roster(session=session, roster_id=record.id)
    assert plan is not None and parsed is not None  # foreign key, existing record
    return plan, parsed[0]


@router.get("/providers/{provider_id}/visits", response_model=ProviderVisitsPublic, responses=NOT_FOUND,
            summary="A provider's visit list for a day")
def read_provider_visits(provider_id: str, date: DateQuery, session: SessionDep, db: DatabaseDep,
                         cache: CacheDep, who: ProviderReader, roster_id: RosterQuery = None) -> Response:
    """Return the stops of the provider's own workers in its published roster: time, duration, postcode, tasks.

    Coordinators may read any provider's list; a ``provider:<id>`` key only its own.
    """
    if who.kind == "provider" and who.provider_id != provider_id:
        raise NotFound("provider", provider_id)
    record = crud.day_roster(session=session, date=date, provider_id=provider_id, roster_id=roster_id,
                             published_only=who.kind != "coordinator")
    if record is None:
        raise NotFound(f"roster of provider {provider_id!r} on", date.isoformat())
    plan, roster = _parsed(session, cache, record)

    def build() -> tuple[bytes, set[str]]:
        visits = provider_visits(plan, roster, roster_id=record.id, provider_id=provider_id)
        return visits.model_dump_json().encode(), client_ids_of(plan, [v.visit_id for v in visits.data])

    # Rosters never change: each provider's list of one is serialised once and kept.
    body, client_ids = cache.view(("provider_visits", record.id, provider_id), build)
    crud.audit(db=db, who=who, action="read_provider_visits", resource=f"roster {record.id}", client_ids=client_ids)
    return Response(body, media_type="application/json")


def _worker_provider(session: Session, who: Principal, *, worker_id: str, provider_id: str | None,
                     date: dt.date, roster_id: str | None) -> str:
    """Return the provider of the worker asked for: the key's own, or for a coordinator the one named or found."""
    if who.kind in ("provider", "worker"):
        own = who.provider_id or ""
        if (provider_id is not None and provider_id != own) or (who.kind == "worker" and who.worker_id != worker_id):
            raise NotFound("worker", worker_id)
        return own
    if provider_id is not None:
        return provider_id
    if roster_id is not None:  # inside one plan a worker id names one worker
        record = crud.get_roster(session=session, roster_id=roster_id)
        found = crud.member_provider(session=session, plan_id=record.plan_id, worker_id=worker_id) if record else None
        if found is None:
            raise NotFound("worker", worker_id)
        return found
    providers = crud.published_worker_providers(session=session, date=date, worker_id=worker_id)
    if not providers:
        raise NotFound(f"roster of worker {worker_id!r} on", date.isoformat())
    if len(providers) > 1:
        raise SchemaError([Problem("request", "query", "provider_id",
                                   f"{len(providers)} providers have a worker {worker_id!r} on {date.isoformat()} "
                                   f"({', '.join(providers)}): name one with provider_id")])
    return providers[0]


def _worker_day(worker_id: str, date: dt.date, session: Session, db: Database, cache: ParsedCache,
                who: Principal, roster_id: str | None, provider_id: str | None,
                action: str) -> tuple[WorkerDayPublic, RosterRecord]:
    provider = _worker_provider(session, who, worker_id=worker_id, provider_id=provider_id, date=date,
                                roster_id=roster_id)
    record = crud.day_roster(session=session, date=date, provider_id=provider, worker_id=worker_id,
                             roster_id=roster_id, published_only=who.kind != "coordinator")
    if record is None:
        raise NotFound(f"roster of worker {worker_id!r} of {provider!r} on", date.isoformat())
    plan, roster = _parsed(session, cache, record)
    day = worker_day(plan, roster, roster_id=record.id, worker_id=worker_id)
    day.provider_id = provider  # also for a worker taken off the day, whom the plan no longer lists
    crud.audit(db=db, who=who, action=action, resource=f"roster {record.id}",
               client_ids=client_ids_of(plan, [s.visit_id for s in day.stops]))
    return day, record


@router.get("/workers/{worker_id}/day", responses={**NOT_FOUND, **AMBIGUOUS}, summary="A worker's day")
def read_worker_day(worker_id: str, date: DateQuery, session: SessionDep, db: DatabaseDep, cache: CacheDep,
                    who: DayReader, roster_id: RosterQuery = None,
                    provider_id: ProviderQuery = None) -> WorkerDayPublic:
    """Return the worker's shift and stops in order (arrival, start, end, postcode, tasks).

    Coordinators may read any worker's day; a ``provider:<id>`` key those of its
    own workers; a ``worker:<provider id>:<worker id>`` key only its own.
    """
    return _worker_day(worker_id, date, session, db, cache, who, roster_id, provider_id, "read_worker_day")[0]


@router.get("/workers/{worker_id}/day.ics", response_class=Response, summary="A worker's day as iCalendar",
            responses={**NOT_FOUND, **AMBIGUOUS,
                       200: {"content": {"text/calendar": {}},
                             "description": "One event per visit, one per rest break."}})
def read_worker_day_ics(worker_id: str, date: DateQuery, session: SessionDep, db: DatabaseDep, cache: CacheDep,
                        who: DayReader, roster_id: RosterQuery = None, provider_id: ProviderQuery = None) -> Response:
    """Return the worker's day as an iCalendar file (an event per visit and per rest break, times in UTC)."""
    _, record = _worker_day(worker_id, date, session, db, cache, who, roster_id, provider_id,
                            "read_worker_day_ics")
    plan = cache.plan(session=session, plan_id=record.plan_id)
    parsed = cache.roster(session=session, roster_id=record.id)
    assert plan is not None and parsed is not None  # foreign key, existing record
    body = worker_day_ics(plan, parsed[0], worker_id=worker_id,
                          stamp=aware(record.created_at))  # type: ignore[arg-type]
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{worker_id}-{date.isoformat()}.ics"'})
