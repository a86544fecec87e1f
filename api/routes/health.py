"""Liveness and the caller's identity."""

from __future__ import annotations

import logging

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import AnyKey, RunnerDep, SessionDep, SettingsDep
from api.models import HealthPublic, MePublic

log = logging.getLogger("homecare.api")
router = APIRouter(tags=["health"])

UNAVAILABLE = {503: {"description": "The database does not answer.", "content": {"application/json": {"example": {
    "status": "unavailable", "database": "postgresql",
    "detail": "the database does not answer (OperationalError); the server log has the details"}}}}}


@router.get("/health", summary="Check that the service and its database answer (no key needed)",
            response_model=HealthPublic, responses=UNAVAILABLE)
def health(session: SessionDep, settings: SettingsDep, runner: RunnerDep) -> HealthPublic | JSONResponse:
    """Answer ``ok`` when the database answers a query, 503 ``unavailable`` when it does not."""
    database = session.get_bind().dialect.name
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        # The answer is public: it names the kind of failure, never the URL or the driver's message.
        log.error("health: the %s database does not answer: %s", database, exc)
        return JSONResponse({"status": "unavailable", "database": database,
                             "detail": f"the database does not answer ({type(exc).__name__}); "
                                       "the server log has the details"},
                            status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    return HealthPublic(status="ok", database=database, solve_workers=settings.solve_workers,
                        jobs_running=runner.running, jobs_queued=runner.queued)


@router.get("/me", summary="Show the API key making the request")
def me(who: AnyKey) -> MePublic:
    """Return the key's id, name and role."""
    return MePublic(key_id=who.key_id, name=who.name, role=who.role)
