"""Submit plans (JSON or CSV), read them, and start solving them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Query, UploadFile, status

from api import crud
from api.deps import DatabaseDep, Offset, RunnerDep, SessionDep, SettingsDep, Staff
from api.errors import QUEUE_FULL, NotFound
from api.intake import job_time_limit, plan_from_csv, plan_from_json
from api.models import JobCreate, JobPublic, PlanPublic, PlansPublic, ProblemsPublic
from api.public import job_public, plan_summary

router = APIRouter(prefix="/plans", tags=["plans"])

PLAN_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/PlanIn"}}}}}
INVALID = {422: {"model": ProblemsPublic, "description": "Every problem with the plan or the request."},
           413: {"model": ProblemsPublic, "description": "The request body is over the size limit."}}


@router.post("", status_code=status.HTTP_201_CREATED, responses=INVALID, openapi_extra=PLAN_BODY,
             summary="Submit a plan as JSON")
def submit_plan(plan: Annotated[dict[str, Any], Body()], db: DatabaseDep, settings: SettingsDep,
                who: Staff) -> PlanPublic:
    """Validate and store a plan (``docs/CONTRACT.md``); answer its id, or 422 listing every problem.

    ``network`` names one of the server's road networks by file name
    (``cambridge_drive.osm``; ``fixtures/networks/cambridge_drive.osm`` names the
    same bundled file). Plans are bounded in size (providers, workers, clients,
    visits, history, list items): a plan over a limit is a 422 naming it.
    """
    parsed, data = plan_from_json(plan, settings=settings)
    record = crud.create_plan(db=db, plan=parsed, data=data, created_by=who.key_id)
    crud.audit(db=db, who=who, action="submit_plan", resource=f"plan {record.id}")
    return PlanPublic(**plan_summary(record).model_dump(), plan=data)


@router.post("/csv", status_code=status.HTTP_201_CREATED, responses=INVALID,
             summary="Submit a plan as CSV files")
def submit_plan_csv(
    db: DatabaseDep,
    settings: SettingsDep,
    who: Staff,
    providers: Annotated[UploadFile, File(description="providers.csv")],
    workers: Annotated[UploadFile, File(description="workers.csv")],
    visits: Annotated[UploadFile, File(description="visits.csv")],
    clients: Annotated[UploadFile | None, File(description="clients.csv")] = None,
    plan: Annotated[UploadFile | None, File(description="plan.csv: one row with date and network")] = None,
    date: Annotated[str | None, Form(description="Plan date YYYY-MM-DD (instead of plan.csv)")] = None,
    network: Annotated[str | None, Form(description="Road network (instead of plan.csv)")] = None,
) -> PlanPublic:
    """Validate and store a plan sent as the CSV files of ``docs/CONTRACT.md`` (multipart form)."""
    files = {"providers": providers, "workers": workers, "visits": visits, "clients": clients, "plan": plan}
    contents = {name: f.file.read() for name, f in files.items() if f is not None}
    parsed, data = plan_from_csv(contents, settings=settings, date=date, network=network)
    record = crud.create_plan(db=db, plan=parsed, data=data, created_by=who.key_id)
    crud.audit(db=db, who=who, action="submit_plan", resource=f"plan {record.id}")
    return PlanPublic(**plan_summary(record).model_dump(), plan=data)


@router.get("", summary="List plans, newest first")
def list_plans(session: SessionDep, who: Staff, date: dt.date | None = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100,
               offset: Offset = 0) -> PlansPublic:
    """Return plan summaries (no client data)."""
    rows, count = crud.list_plans(session=session, date=date, limit=limit, offset=offset)
    return PlansPublic(data=[plan_summary(r) for r in rows], count=count)


@router.get("/{plan_id}", summary="Read a plan with its records")
def read_plan(plan_id: str, session: SessionDep, db: DatabaseDep, who: Staff) -> PlanPublic:
    """Return a stored plan (contract JSON). The read is audited per client."""
    record = crud.get_plan(session=session, plan_id=plan_id, with_data=True)
    if record is None:
        raise NotFound("plan", plan_id)
    crud.audit(db=db, who=who, action="read_plan", resource=f"plan {plan_id}",
               client_ids=[str(c.get("id")) for c in record.data.get("clients", [])])
    return PlanPublic(**plan_summary(record).model_dump(), plan=record.data)


@router.post("/{plan_id}/jobs", status_code=status.HTTP_202_ACCEPTED, responses={**INVALID, **QUEUE_FULL},
             summary="Start solving a plan")
def start_job(plan_id: str, session: SessionDep, db: DatabaseDep, runner: RunnerDep, settings: SettingsDep,
              who: Staff, body: Annotated[JobCreate | None, Body()] = None) -> JobPublic:
    """Queue a solve; poll ``GET /jobs/{id}`` for progress and the roster id."""
    body = body or JobCreate()
    if crud.get_plan(session=session, plan_id=plan_id) is None:
        raise NotFound("plan", plan_id)
    requested, seed, params = body.settings()
    limit = job_time_limit(requested, default_s=settings.default_time_limit_s, max_s=settings.max_time_limit_s)
    job = crud.create_job(db=db, kind="solve", plan_id=plan_id, time_limit_s=limit, seed=seed, params=params,
                          created_by=who.key_id, max_queued=settings.max_queued_jobs)
    crud.audit(db=db, who=who, action="start_job", resource=f"job {job.id}")
    runner.submit(job.id)
    return job_public(job)
