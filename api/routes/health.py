"""Liveness and the caller's identity."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import AnyKey, RunnerDep, SessionDep, SettingsDep
from api.models import HealthPublic, MePublic

router = APIRouter(tags=["health"])


@router.get("/health", summary="Check that the service and its database answer (no key needed)")
def health(session: SessionDep, settings: SettingsDep, runner: RunnerDep) -> HealthPublic:
    """Answer ``ok`` when the database answers a query."""
    session.execute(text("SELECT 1"))
    return HealthPublic(status="ok", database=session.get_bind().dialect.name, solve_workers=settings.solve_workers,
                        jobs_running=runner.running, jobs_queued=runner.queued)


@router.get("/me", summary="Show the API key making the request")
def me(who: AnyKey) -> MePublic:
    """Return the key's id, name and role."""
    return MePublic(key_id=who.key_id, name=who.name, role=who.role)
