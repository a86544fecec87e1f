"""The roster service: ``create_app(settings)`` assembles the FastAPI app.

Start it with ``homecare serve``; OpenAPI docs are at ``/docs`` (Swagger UI) and
``/redoc``, with their scripts and styles served by the service itself (from the
``fastapi-offline`` package), so the docs work without internet access.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from api import errors
from api.config import Settings, get_settings
from api.crud import ParsedCache
from api.db import Database, migrate
from api.guards import NulGuard
from api.jobs import JobRunner
from api.models import PlanIn
from api.frontdoor import PublishedDays
from api.routes import audit, board, book, days, frontdoor, health, imports, jobs, plans, rosters, scenarios

log = logging.getLogger("homecare.api")

DESCRIPTION = """\
Plan a day of home visits and serve the rosters.

Authenticate with an API key (`homecare keys create --role ROLE`) sent as `X-API-Key: hc_...`
or `Authorization: Bearer hc_...`. Roles: `coordinator`, `planner`, `provider:<provider id>`,
`worker:<provider id>:<worker id>`, `frontdoor` (the council's contact centre: offers and bookings for any
resident) and `resident:<client id>` (their own offers and bookings only). Providers and workers see only the roster a coordinator published
(`POST /rosters/{id}/publish`).
A role that may never use an endpoint gets 403; another provider's or worker's data answers 404.
The coordinator board, a page over these endpoints, is at `/board`.
"""


#: Where the docs pages' scripts, styles and icon are served (files of ``fastapi-offline``).
DOCS_STATIC = "/docs/static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings
        How to run; by default read from the environment (:func:`api.config.get_settings`).

    Returns
    -------
    FastAPI
        The app. Its lifespan migrates the database (unless switched off), marks
        running jobs whose lease ran out (their server died) interrupted, and runs
        queued jobs in solver processes (:class:`api.jobs.JobRunner`).
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.url)
        if settings.migrate_on_start:
            migrate(db)
        runner = JobRunner(db, workers=settings.solve_workers, cache_dir=settings.solver_cache_dir(),
                           lease_s=settings.job_lease_s, heartbeat_s=settings.job_heartbeat_s)
        runner.start()
        app.state.settings = settings
        app.state.db = db
        app.state.runner = runner
        app.state.cache = ParsedCache()
        app.state.frontdoor_days = PublishedDays()
        try:
            yield
        finally:
            runner.shutdown()
            db.dispose()

    # /docs and /redoc load Swagger UI and ReDoc from DOCS_STATIC, not from a CDN.
    app = FastAPIOffline(title="homecare roster service", version=_version(), description=DESCRIPTION,
                         lifespan=lifespan, static_url=DOCS_STATIC,
                         swagger_ui_parameters={"validatorUrl": None})  # no badge from swagger.io
    errors.install(app)
    for module in (health, plans, jobs, rosters, days, scenarios, audit, board, frontdoor, book, imports):
        app.include_router(module.router)
    # The coordinator board's script and style (the page itself is GET /board).
    app.mount("/board/static", StaticFiles(directory=board.STATIC_DIR), name="board-static")
    app.add_middleware(errors.BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(NulGuard)  # a NUL in a path or query can name nothing (PostgreSQL refused it: 500)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("homecare")
    except PackageNotFoundError:
        return "0"


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, plus the plan's JSON form (the plan body is read by our own loader)."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        plan = PlanIn.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(plan.pop("$defs", {}))
        components["PlanIn"] = plan
        app.openapi_schema = schema
    return app.openapi_schema


def app_from_env() -> FastAPI:
    """Build the app from the environment (for ``uvicorn --factory api.main:app_from_env``)."""
    return create_app(get_settings())
