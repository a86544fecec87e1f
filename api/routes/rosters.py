"""Rosters: read as JSON or CSV, and re-optimise after a change on the day."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import Response

from api import crud
from api.changes import apply_roster_change, choose_locks, touched_workers
from api.deps import CacheDep, Coordinator, DatabaseDep, Offset, RunnerDep, SessionDep, SettingsDep, Staff
from api.errors import NotFound
from api.intake import job_time_limit, plan_from_json
from api.models import JobPublic, ProblemsPublic, ReoptimiseCreate, RosterPublic, RostersPublic
from api.public import job_public, roster_summary
from scheduler.errors import SchemaError
from scheduler.io import ROSTER_CSV_COLUMNS, roster_rows
from scheduler.model import Plan
from scheduler.roster import Roster
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
    """Return roster summaries with KPIs (no client data)."""
    rows, count = crud.list_rosters(session=session, plan_id=plan_id, date=date, limit=limit, offset=offset)
    return RostersPublic(data=[roster_summary(r) for r in rows], count=count)


@router.get("/{roster_id}", response_model=RosterPublic, summary="Read a roster as JSON")
def read_roster(roster_id: str, session: SessionDep, db: DatabaseDep, cache: CacheDep, who: Staff) -> Response:
    """Return the roster (contract JSON) with its KPIs. The read is audited per client."""
    def build() -> tuple[bytes, set[str]] | None:
        record = crud.get_roster(session=session, roster_id=roster_id)
        parsed = cache.roster(session=session, roster_id=roster_id) if record else None
        if record is None or parsed is None:
            return None
        plan = cache.plan(session=session, plan_id=record.plan_id)
        body = RosterPublic(**roster_summary(record).model_dump(), roster=parsed[1]).model_dump_json()
        return body.encode(), roster_client_ids(plan, parsed[0])  # type: ignore[arg-type]

    # Rosters never change: the answer is serialised once and kept.
    view = cache.view(("roster", roster_id), build)
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


@router.post("/{roster_id}/reoptimise", status_code=status.HTTP_202_ACCEPTED,
             responses={422: {"model": ProblemsPublic}}, summary="Re-plan a roster after a change, keeping locked stops")
def reoptimise(roster_id: str, body: ReoptimiseCreate, session: SessionDep, db: DatabaseDep, cache: CacheDep,
               runner: RunnerDep, settings: SettingsDep, who: Coordinator) -> JobPublic:
    """Apply the change (worker off, visit cancelled or added) to a copy of the roster's plan and
    solve it again, keeping exactly (same worker, same start) the stops that start before
    ``lock_before`` and, if asked, every stop of the workers the change does not touch.

    Locks on removed workers or cancelled visits are skipped. The new roster links
    to this one (``previous_roster_id``) and becomes the day's roster.
    """
    record = crud.get_roster(session=session, roster_id=roster_id)
    parsed = cache.roster(session=session, roster_id=roster_id) if record else None
    if record is None or parsed is None:
        raise NotFound("roster", roster_id)
    limit = job_time_limit(body.time_limit_s, default_s=settings.default_time_limit_s,
                           max_s=settings.max_time_limit_s)
    plan_record = crud.get_plan(session=session, plan_id=record.plan_id, with_data=True)
    assert plan_record is not None  # foreign key
    data, problems = apply_roster_change(plan_record.data, body.changes)
    if problems:
        raise SchemaError(problems)
    plan, data = plan_from_json(data, settings=settings)
    locks = choose_locks(parsed[0], plan, before=parse_hhmm(body.lock_before) if body.lock_before else None,
                         keep_untouched_workers=body.keep_untouched_workers,
                         touched_workers=touched_workers(parsed[0], body.changes))
    new_plan = crud.create_plan(db=db, plan=plan, data=data, created_by=who.key_id, purpose="reoptimise",
                                base_plan_id=plan_record.id, changes=body.model_dump(mode="json"),
                                inherit_members=True)
    job = crud.create_job(db=db, kind="reoptimise", plan_id=new_plan.id, time_limit_s=limit, seed=body.seed,
                          created_by=who.key_id, locks=locks, previous_roster_id=roster_id)
    crud.audit(db=db, who=who, action="reoptimise", resource=f"job {job.id}")
    runner.submit(job.id)
    return job_public(job)
