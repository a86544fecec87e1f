"""Rosters: read as JSON or CSV, publish, and re-optimise after a change on the day.

Every roster starts as a draft. A coordinator publishes it for some or all of
its plan's providers (``POST /rosters/{id}/publish``); only then do those
providers and their workers see it. Solves and re-optimisations never publish
by themselves, whoever started them: the coordinator looks at the roster first.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated

from fastapi import APIRouter, Body, Query, status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api import crud
from api.changes import apply_roster_change, choose_locks, touched_workers
from api.deps import CacheDep, Coordinator, DatabaseDep, Offset, RunnerDep, SessionDep, SettingsDep, Staff
from api.errors import QUEUE_FULL, Conflict, NotFound
from api.intake import job_time_limit, plan_from_json
from api.models import (
    JobPublic,
    MessagePublic,
    ProblemsPublic,
    PublishCreate,
    ReoptimiseCreate,
    RosterPublic,
    RosterRecord,
    RostersPublic,
    RosterSummary,
)
from api.public import job_public, roster_summary
from scheduler.errors import Problem, SchemaError
from scheduler.io import ROSTER_CSV_COLUMNS, roster_rows
from scheduler.model import Plan
from scheduler.roster import Roster
from scheduler.text import counted
from scheduler.timeutil import parse_hhmm

router = APIRouter(prefix="/rosters", tags=["rosters"])


def roster_client_ids(plan: Plan, roster: Roster) -> set[str]:
    """Return every client a roster names (stops and unassigned visits), for the audit log."""
    visit_ids = [s.visit_id for r in roster.routes for s in r.stops] + [u.visit_id for u in roster.unassigned]
    return {plan.visit(v).client_id for v in visit_ids if plan.has_visit(v)}


@router.get("", summary="List rosters, newest first")
def list_rosters(session: SessionDep, who: Staff, plan_id: str | None = None, date: dt.date | None = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 offset: Offset = 0) -> RostersPublic:
    """Return roster summaries with KPIs and publication state (no client data)."""
    rows, count = crud.list_rosters(session=session, plan_id=plan_id, date=date, limit=limit, offset=offset)
    states = crud.roster_states(session=session, rosters=rows)
    return RostersPublic(data=[_summary(r, states[r.id]) for r in rows], count=count)


def _summary(record: RosterRecord, state: tuple[str, list[str]]) -> RosterSummary:
    return roster_summary(record).model_copy(update={"state": state[0], "published_for": state[1]})


def roster_with_state(session: Session, record: RosterRecord) -> RosterSummary:
    """Return a roster's summary with its publication state."""
    return _summary(record, crud.roster_states(session=session, rosters=[record])[record.id])


@router.get("/{roster_id}", response_model=RosterPublic, summary="Read a roster as JSON")
def read_roster(roster_id: str, session: SessionDep, db: DatabaseDep, cache: CacheDep, who: Staff) -> Response:
    """Return the roster (contract JSON) with its KPIs and publication state. The read is audited per client."""
    record = crud.get_roster(session=session, roster_id=roster_id)
    if record is None:
        raise NotFound("roster", roster_id)
    summary = roster_with_state(session, record)

    def build() -> tuple[bytes, set[str]] | None:
        parsed = cache.roster(session=session, roster_id=roster_id)
        if parsed is None:
            return None
        plan = cache.plan(session=session, plan_id=record.plan_id)
        body = RosterPublic(**summary.model_dump(), roster=parsed[1]).model_dump_json()
        return body.encode(), roster_client_ids(plan, parsed[0])  # type: ignore[arg-type]

    # Rosters never change, their publication state seldom: the answer is serialised once per state and kept.
    view = cache.view(("roster", roster_id, summary.state, tuple(summary.published_for)), build)
    if view is None:
        raise NotFound("roster", roster_id)
    crud.audit(db=db, who=who, action="read_roster", resource=f"roster {roster_id}", client_ids=view[1])
    return Response(view[0], media_type="application/json")


@router.get("/{roster_id}/csv", response_class=Response, summary="Read a roster as CSV",
            responses={200: {"content": {"text/csv": {}}, "description": "One row per stop, then per unassigned visit."}})
def read_roster_csv(roster_id: str, session: SessionDep, db: DatabaseDep, cache: CacheDep, who: Staff) -> Response:
    """Return ``roster.csv``: one row per stop, then one per unassigned visit (columns as ``homecare solve``)."""
    record = crud.get_roster(session=session, roster_id=roster_id)
    parsed = cache.roster(session=session, roster_id=roster_id) if record else None
    if record is None or parsed is None:
        raise NotFound("roster", roster_id)
    plan = cache.plan(session=session, plan_id=record.plan_id)
    assert plan is not None  # foreign key
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ROSTER_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(roster_rows(plan, parsed[0]))
    crud.audit(db=db, who=who, action="read_roster_csv", resource=f"roster {roster_id}",
               client_ids=roster_client_ids(plan, parsed[0]))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{roster_id}.csv"'})


@router.post("/{roster_id}/publish", responses={
    404: {"model": MessagePublic, "description": "No such roster."},
    409: {"model": MessagePublic, "description": "A what-if roster, or one with rule violations."},
    422: {"model": ProblemsPublic, "description": "A provider that is not one of the roster's plan."}},
    summary="Publish a roster: it becomes its providers' roster of the day")
def publish_roster(roster_id: str, session: SessionDep, db: DatabaseDep, who: Coordinator,
                   body: Annotated[PublishCreate | None, Body()] = None) -> RosterSummary:
    """Make this roster the roster of the day of its plan's providers (``provider_ids``: only those).

    From then on those providers' visit lists, their workers' days and
    calendars, and their board show this roster; for each of them it replaces
    the roster published before, and other providers keep theirs. Publishing an
    older roster again goes back to it. Coordinators only: a planner's rosters
    are what-ifs until a coordinator publishes one. What-if (scenario) rosters
    and rosters with rule violations cannot be published (409).
    """
    record = crud.get_roster(session=session, roster_id=roster_id)
    if record is None:
        raise NotFound("roster", roster_id)
    if record.purpose not in crud.DAY_PURPOSES:
        raise Conflict(f"roster {roster_id!r} is a what-if ({record.purpose}) roster and cannot be published; "
                       "solve the plan to publish (POST /plans/{id}/jobs)")
    if record.violations:
        raise Conflict(f"roster {roster_id!r} breaks {counted(len(record.violations), 'rule')} and cannot be published: "
                       f"{record.violations[0]}")
    providers = crud.plan_providers(session=session, plan_id=record.plan_id)
    wanted = providers if body is None or body.provider_ids is None else body.provider_ids
    problems = [Problem("provider", p, "provider_ids", f"is not a provider of plan {record.plan_id!r} "
                                                        f"(its providers: {', '.join(providers)})")
                for p in dict.fromkeys(wanted) if p not in providers]
    if not wanted:
        problems.append(Problem("request", "body", "provider_ids", "name at least one provider, or leave it out "
                                                                   "to publish for every provider of the plan"))
    if problems:
        raise SchemaError(problems)
    crud.publish_roster(db=db, roster=record, provider_ids=wanted, published_by=who.key_id)
    crud.audit(db=db, who=who, action="publish_roster",
               resource=f"roster {roster_id} for {', '.join(sorted(set(wanted)))}"[:100])
    session.rollback()  # end the read snapshot taken before the publication was written
    return roster_with_state(session, record)


@router.post("/{roster_id}/reoptimise", status_code=status.HTTP_202_ACCEPTED,
             responses={422: {"model": ProblemsPublic}, **QUEUE_FULL},
             summary="Re-plan a roster after a change, keeping locked stops")
def reoptimise(roster_id: str, body: ReoptimiseCreate, session: SessionDep, db: DatabaseDep, cache: CacheDep,
               runner: RunnerDep, settings: SettingsDep, who: Coordinator) -> JobPublic:
    """Apply the change (worker off, visit cancelled or added) to a copy of the roster's plan and
    solve it again, keeping exactly (same worker, same start) the stops that start before
    ``lock_before`` and, if asked, every stop of the workers the change does not touch.

    Locks on removed workers or cancelled visits are skipped. The new roster links
    to this one (``previous_roster_id``); it is a draft until a coordinator
    publishes it (``POST /rosters/{id}/publish``).
    """
    record = crud.get_roster(session=session, roster_id=roster_id)
    parsed = cache.roster(session=session, roster_id=roster_id) if record else None
    if record is None or parsed is None:
        raise NotFound("roster", roster_id)
    limit = job_time_limit(body.time_limit_s, default_s=settings.default_time_limit_s,
                           max_s=settings.max_time_limit_s)
    plan_record = crud.get_plan(session=session, plan_id=record.plan_id, with_data=True)
    assert plan_record is not None  # foreign key
    before = parse_hhmm(body.lock_before) if body.lock_before else None
    data, problems = apply_roster_change(plan_record.data, body.changes, previous=parsed[0], locked_before=before)
    if problems:
        raise SchemaError(problems)
    plan, data = plan_from_json(data, settings=settings)
    locks = choose_locks(parsed[0], plan, before=before,
                         keep_untouched_workers=body.keep_untouched_workers,
                         touched_workers=touched_workers(parsed[0], body.changes))
    _new_plan, job = crud.create_reoptimise(db=db, plan=plan, data=data, base_plan_id=plan_record.id,
                                            changes=body.model_dump(mode="json"), previous_roster_id=roster_id,
                                            locks=locks, time_limit_s=limit, seed=body.seed,
                                            created_by=who.key_id, max_queued=settings.max_queued_jobs)
    crud.audit(db=db, who=who, action="reoptimise", resource=f"job {job.id}")
    runner.submit(job.id)
    return job_public(job)
