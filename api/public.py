"""Turn table rows into the public schemas of :mod:`api.models`."""

from __future__ import annotations

from api.crud import aware
from api.models import (
    AuditEntry,
    AuditRecord,
    JobErrorPublic,
    JobProgress,
    JobPublic,
    JobRecord,
    PlanRecord,
    PlanSummary,
    RosterRecord,
    RosterSummary,
)


def plan_summary(record: PlanRecord) -> PlanSummary:
    """Return a plan row without its records."""
    return PlanSummary(id=record.id, date=record.date, network=record.network, visits=record.visits,
                       workers=record.workers, purpose=record.purpose, base_plan_id=record.base_plan_id,
                       changes=record.changes, created_at=aware(record.created_at))


def job_public(job: JobRecord) -> JobPublic:
    """Return a job row with its progress."""
    progress = JobProgress(stage=job.stage, elapsed_s=job.elapsed_s, best_objective=job.best_objective,
                           assigned_places=job.assigned_places, total_places=job.total_places,
                           solutions=job.solutions, updated_at=aware(job.progress_at))
    error = JobErrorPublic(**job.error) if job.error else None
    return JobPublic(id=job.id, kind=job.kind, state=job.state, plan_id=job.plan_id, roster_id=job.roster_id,
                     previous_roster_id=job.previous_roster_id, rerun_of=job.rerun_of,
                     time_limit_s=job.time_limit_s, seed=job.seed, params=job.params or {},
                     locked_stops=len(job.locks or ()),
                     created_at=aware(job.created_at), started_at=aware(job.started_at),
                     finished_at=aware(job.finished_at), progress=progress, error=error)


def roster_summary(record: RosterRecord) -> RosterSummary:
    """Return a roster row without its routes."""
    return RosterSummary(id=record.id, plan_id=record.plan_id, job_id=record.job_id, purpose=record.purpose,
                         previous_roster_id=record.previous_roster_id, date=record.date,
                         created_at=aware(record.created_at), kpis=record.kpis,
                         violations=list(record.violations or ()))


def audit_entry(record: AuditRecord) -> AuditEntry:
    """Return an audit row."""
    return AuditEntry(at=aware(record.at), key_id=record.key_id, key_name=record.key_name, role=record.role,
                      action=record.action, resource=record.resource, client_id=record.client_id)
