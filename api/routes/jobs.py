"""Solve jobs: status with progress, cancel, re-run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, status

from api import crud
from api.crud import RERUNNABLE_STATES
from api.deps import DatabaseDep, Offset, RunnerDep, SessionDep, SettingsDep, Staff
from api.errors import QUEUE_FULL, Conflict, NotFound
from api.intake import job_time_limit
from api.models import JobPublic, JobRerun, JobsPublic, JobState, MessagePublic
from api.public import job_public

router = APIRouter(prefix="/jobs", tags=["jobs"])
CONFLICT = {409: {"model": MessagePublic, "description": "The job is not in a state that allows this."}}


@router.get("", summary="List jobs, newest first")
def list_jobs(session: SessionDep, who: Staff, state: JobState | None = None, plan_id: str | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              offset: Offset = 0) -> JobsPublic:
    """Return jobs with their progress."""
    rows, count = crud.list_jobs(session=session, state=state, plan_id=plan_id, limit=limit, offset=offset)
    return JobsPublic(data=[job_public(j) for j in rows], count=count)


@router.get("/{job_id}", summary="Job status and progress")
def read_job(job_id: str, session: SessionDep, who: Staff) -> JobPublic:
    """Return the job: state, progress (stage, search time, best objective, places filled), roster id when done."""
    job = crud.get_job(session=session, job_id=job_id)
    if job is None:
        raise NotFound("job", job_id)
    return job_public(job)


@router.post("/{job_id}/cancel", responses=CONFLICT, summary="Cancel a queued or running job")
def cancel_job(job_id: str, session: SessionDep, db: DatabaseDep, runner: RunnerDep, who: Staff) -> JobPublic:
    """Cancel the job; a running search is stopped at once (its solver process, and no other, is killed).

    A job running on another server of the database stops within that server's heartbeat.
    """
    job = crud.get_job(session=session, job_id=job_id)
    if job is None:
        raise NotFound("job", job_id)
    cancelled = runner.cancel(job_id)
    session.rollback()  # end the read snapshot taken before the cancel was written
    job = crud.get_job(session=session, job_id=job_id)
    assert job is not None
    if not cancelled:
        raise Conflict(f"job {job_id!r} is {job.state}; only queued or running jobs can be cancelled")
    crud.audit(db=db, who=who, action="cancel_job", resource=f"job {job_id}")
    return job_public(job)


@router.post("/{job_id}/rerun", status_code=status.HTTP_202_ACCEPTED, responses={**CONFLICT, **QUEUE_FULL},
             summary="Run an interrupted, failed or cancelled job again")
def rerun_job(job_id: str, session: SessionDep, db: DatabaseDep, runner: RunnerDep, settings: SettingsDep,
              who: Staff, body: Annotated[JobRerun | None, Body()] = None) -> JobPublic:
    """Queue a new job with the same plan, settings and locked stops (``rerun_of`` names the old one)."""
    job = crud.get_job(session=session, job_id=job_id)
    if job is None:
        raise NotFound("job", job_id)
    if job.state not in RERUNNABLE_STATES:
        raise Conflict(f"job {job_id!r} is {job.state}; only {', '.join(RERUNNABLE_STATES)} jobs can be re-run")
    limit = None
    if body is not None and body.time_limit_s is not None:
        limit = job_time_limit(body.time_limit_s, default_s=settings.default_time_limit_s,
                               max_s=settings.max_time_limit_s)
    new = crud.rerun_job(db=db, job=job, time_limit_s=limit, created_by=who.key_id,
                         max_queued=settings.max_queued_jobs)
    crud.audit(db=db, who=who, action="rerun_job", resource=f"job {new.id}")
    runner.submit(new.id)
    return job_public(new)
