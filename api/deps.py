"""FastAPI dependencies: settings, database, the job runner, the caller and role checks.

Dependencies that do no I/O are ``async`` so that they run on the event loop
without a hop to the thread pool. Role checks answer 401 without a valid key and 403 when the role may never use
the endpoint. Ownership (a provider's or worker's own data) is checked in the
routes, which answer 404 for anybody else's data.

Refused attempts go to the audit log: every 401 and 403, and every 404 answered
to a provider, worker or resident key (among them, asks for other people's data), as
``refused_401``, ``refused_403`` and ``refused_404`` rows naming the method and
path (and, for a well-formed key that is unknown or revoked, its key id).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, Security, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api import crud
from api.config import Settings
from api.crud import ParsedCache
from api.db import Database
from api.errors import NotFound
from api.jobs import JobRunner
from api.security import Principal, role_refusal, split_key

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (hc_...).")
bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token.")


async def get_settings_dep(request: Request) -> Settings:
    """Return the app's settings."""
    return request.app.state.settings


async def get_database(request: Request) -> Database:
    """Return the app's database."""
    return request.app.state.db


async def get_runner(request: Request) -> JobRunner:
    """Return the app's job runner."""
    return request.app.state.runner


async def get_cache(request: Request) -> ParsedCache:
    """Return the app's cache of parsed plans and rosters."""
    return request.app.state.cache


async def get_session(db: Annotated[Database, Depends(get_database)]) -> AsyncIterator[Session]:
    """Yield a read session for the request (it connects on first use, in the endpoint's thread)."""
    with db.session() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[Session, Depends(get_session)]

#: Largest page offset a list accepts. Databases hold offsets in 64-bit integers, and PostgreSQL
#: answers a larger one with an error, so the API refuses it with a 422 first.
MAX_OFFSET = 2**31 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
CacheDep = Annotated[ParsedCache, Depends(get_cache)]


async def _refused(db: Database, request: Request, who: Principal | None, code: int, note: str = "") -> None:
    """Write a ``refused_<code>`` audit row for this request (in the thread pool: it is a write)."""
    resource = f"{request.method} {request.url.path}{note}"
    await run_in_threadpool(crud.audit, db=db, who=who, action=f"refused_{code}", resource=resource)


async def get_principal(
    request: Request,
    db: DatabaseDep,
    api_key: Annotated[str | None, Security(api_key_header)] = None,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> AsyncIterator[Principal]:
    """Yield who is calling, from ``X-API-Key`` or ``Authorization: Bearer``.

    A 404 the endpoint answers to a provider or worker key is logged as a refused attempt.

    Raises
    ------
    HTTPException
        401 if no key is given, it is not a live key, or its role is of an old form
        (``worker:<id>``); each is logged as a refused attempt.
    """
    key = api_key or (credentials.credentials if credentials else None)
    if not key:
        await _refused(db, request, None, status.HTTP_401_UNAUTHORIZED)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "an API key is needed: send it as X-API-Key or "
                            "Authorization: Bearer", headers={"WWW-Authenticate": "Bearer"})
    # A primary-key read of well under a millisecond: done on the event loop, which is
    # cheaper than a hop to the thread pool and back.
    with db.session() as session:  # a connection of its own, returned at once
        who = crud.authenticate(session=session, key=key)
    if who is None:
        parts = split_key(key)
        await _refused(db, request, None, status.HTTP_401_UNAUTHORIZED, f" (key {parts[0]})" if parts else "")
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this API key is not valid (unknown or revoked)",
                            headers={"WWW-Authenticate": "Bearer"})
    refusal = role_refusal(who.role)  # a key of an old role form (worker:<id>): say how to re-issue it
    if refusal is not None:
        await _refused(db, request, who, status.HTTP_401_UNAUTHORIZED, " (old role form)")
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, refusal, headers={"WWW-Authenticate": "Bearer"})
    try:
        yield who
    except NotFound:
        if who.kind in ("provider", "worker", "resident"):
            await _refused(db, request, who, status.HTTP_404_NOT_FOUND)
        raise


def require(*kinds: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Return a dependency that lets only these role kinds through (403 for the others).

    Parameters
    ----------
    *kinds
        ``coordinator``, ``planner``, ``provider``, ``worker``.
    """
    async def check(who: Annotated[Principal, Depends(get_principal)], request: Request,
                    db: DatabaseDep) -> Principal:
        if who.kind not in kinds:
            await _refused(db, request, who, status.HTTP_403_FORBIDDEN)
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"role {who.role!r} may not use this endpoint (allowed: {', '.join(kinds)})")
        return who

    return check


AnyKey = Annotated[Principal, Depends(get_principal)]
Staff = Annotated[Principal, Depends(require("coordinator", "planner"))]
Coordinator = Annotated[Principal, Depends(require("coordinator"))]
ProviderReader = Annotated[Principal, Depends(require("coordinator", "provider"))]
DayReader = Annotated[Principal, Depends(require("coordinator", "provider", "worker"))]
#: Every role that reads rosters on the board (not the front door's: they see offers and bookings only).
BoardReader = Annotated[Principal, Depends(require("coordinator", "planner", "provider", "worker"))]
#: Offers and bookings: the contact centre, a resident (their own only) and coordinators.
FrontDoor = Annotated[Principal, Depends(require("coordinator", "frontdoor", "resident"))]
