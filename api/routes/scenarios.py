"""What-if scenarios: a changed copy of a plan, solved and compared with its base on the roster KPIs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status
from sqlalchemy.orm import Session

from api import crud
from api.changes import apply_scenario, compare_kpis
from api.deps import DatabaseDep, RunnerDep, SessionDep, SettingsDep, Staff
from api.errors import QUEUE_FULL, NotFound
from api.intake import job_time_limit, plan_from_json
from api.models import ProblemsPublic, ScenarioCreate, ScenarioPublic, ScenarioRecord, ScenarioSide
from scheduler.errors import SchemaError

router = APIRouter(tags=["scenarios"])


def _side(session: Session, plan_id: str, job_id: str | None, roster_id: str | None) -> ScenarioSide:
    roster = crud.get_roster(session=session, roster_id=roster_id) if roster_id else None
    state = "done"
    if job_id is not None:
        job = crud.get_job(session=session, job_id=job_id)
        assert job is not None  # foreign key
        state = job.state
        if roster is None and job.roster_id:
            roster = crud.get_roster(session=session, roster_id=job.roster_id)
    return ScenarioSide(plan_id=plan_id, job_id=job_id, state=state, roster_id=roster.id if roster else None,
                        kpis=roster.kpis if roster else None)


def scenario_public(session: Session, record: ScenarioRecord) -> ScenarioPublic:
    """Return a scenario with both sides and, once both rosters exist, the KPI comparison."""
    base = _side(session, record.base_plan_id, record.base_job_id, record.base_roster_id)
    scenario = _side(session, record.plan_id, record.job_id, None)
    comparison = compare_kpis(base.kpis, scenario.kpis) if base.kpis and scenario.kpis else []
    return ScenarioPublic(id=record.id, name=record.name, created_at=crud.aware(record.created_at),
                          changes=record.changes, base=base, scenario=scenario, comparison=comparison)


@router.post("/plans/{plan_id}/scenarios", status_code=status.HTTP_202_ACCEPTED,
             responses={422: {"model": ProblemsPublic}, **QUEUE_FULL}, summary="Start a what-if scenario on a plan")
def create_scenario(plan_id: str, body: Annotated[ScenarioCreate, Body()], session: SessionDep, db: DatabaseDep,
                    runner: RunnerDep, settings: SettingsDep, who: Staff) -> ScenarioPublic:
    """Clone the plan with the changes (workers added or removed, travel mode, demand scaled), solve it,
    and compare it with the base plan's roster: ``base_roster_id``, else the base's newest roster,
    else a new solve of the base with the same settings.
    """
    base = crud.get_plan(session=session, plan_id=plan_id, with_data=True)
    if base is None:
        raise NotFound("plan", plan_id)
    limit = job_time_limit(body.time_limit_s, default_s=settings.default_time_limit_s,
                           max_s=settings.max_time_limit_s)
    base_roster_id = body.base_roster_id
    if base_roster_id is not None:
        roster = crud.get_roster(session=session, roster_id=base_roster_id)
        if roster is None or roster.plan_id != plan_id:
            raise NotFound(f"roster of plan {plan_id!r}", base_roster_id)
    else:
        latest = crud.latest_plan_roster(session=session, plan_id=plan_id)
        base_roster_id = latest.id if latest else None
    data, problems = apply_scenario(base.data, body.changes, seed=body.seed)
    if problems:
        raise SchemaError(problems)
    plan, data = plan_from_json(data, settings=settings)
    changes = body.model_dump(mode="json")
    record = crud.create_scenario(db=db, name=body.name, base_plan_id=plan_id, plan=plan, data=data,
                                  changes=changes, base_roster_id=base_roster_id, time_limit_s=limit,
                                  seed=body.seed, created_by=who.key_id, max_queued=settings.max_queued_jobs)
    crud.audit(db=db, who=who, action="create_scenario", resource=f"scenario {record.id}")
    if record.base_job_id:
        runner.submit(record.base_job_id)
    runner.submit(record.job_id)
    session.rollback()  # end the read snapshot taken before the scenario was written
    return scenario_public(session, record)


@router.get("/scenarios/{scenario_id}", summary="A scenario and its comparison with the base")
def read_scenario(scenario_id: str, session: SessionDep, who: Staff) -> ScenarioPublic:
    """Return both sides (job state, roster, KPIs) and the KPIs side by side once both are solved."""
    record = crud.get_scenario(session=session, scenario_id=scenario_id)
    if record is None:
        raise NotFound("scenario", scenario_id)
    return scenario_public(session, record)
