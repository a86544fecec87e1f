"""The /book page (ask, see slots, book, see upcoming visits, cancel) and its one endpoint of its own.

The page and its script and style are static files of the package
(``api/static/book.*``), served like the board's: no data, no key. It signs in
with a ``frontdoor`` key (the contact centre, for any resident or a new one)
or a ``resident:<client id>`` key (themselves), and uses the front door's
endpoints (``POST /offers``, ``POST /bookings``, ``DELETE /bookings/{id}``) and
``GET /upcoming`` below.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, JSONResponse

from api import crud
from api.deps import CacheDep, DatabaseDep, FrontDoor, SessionDep
from api.errors import NotFound
from api.models import MessagePublic, ProblemsPublic, utcnow
from api.routes.board import PAGE_HEADERS, STATIC_DIR
from api.upcoming import UpcomingPublic, public_json, upcoming_visits
from scheduler.errors import Problem, SchemaError

router = APIRouter(tags=["front door"])


@router.get("/book", include_in_schema=False)
def book_page() -> FileResponse:
    """Return the booking page (sign in there with a front-door or resident key)."""
    return FileResponse(STATIC_DIR / "book.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


#: The page's own script and style (the page loads nothing else).
ASSETS = {"book.js": "text/javascript; charset=utf-8", "book.css": "text/css; charset=utf-8",
          "dom.js": "text/javascript; charset=utf-8"}


@router.get("/book/static/{name}", include_in_schema=False)
def book_asset(name: str) -> FileResponse:
    """Return the page's script or style."""
    if name not in ASSETS:
        raise NotFound("file", name)
    return FileResponse(STATIC_DIR / name, media_type=ASSETS[name], headers=PAGE_HEADERS)


@router.get("/upcoming", response_model=UpcomingPublic, summary="A resident's upcoming visits", responses={
    404: {"model": MessagePublic, "description": "A resident asking about another client."},
    422: {"model": ProblemsPublic, "description": "No client_id from the contact centre or a coordinator."}})
def read_upcoming(session: SessionDep, db: DatabaseDep, cache: CacheDep, who: FrontDoor,
                  client_id: Annotated[str | None, Query(
                      description="The client (required, but for a resident: their own, the default).")] = None
                  ) -> JSONResponse:
    """Return every visit of a client in the rosters published now for today and later dates: regular care
    and bookings alike, by date and start, each with its window, planned start and end, what it is, and the
    booking it came from (to cancel it). Cancelled bookings are not shown.

    A resident sees their own only (another client answers 404) and never workers or providers.
    """
    if who.kind == "resident":
        if client_id not in (None, who.client_id):
            raise NotFound("client", client_id or "")
        client_id = who.client_id
    elif client_id is None:
        raise SchemaError([Problem("request", "query", "client_id",
                                   "client_id is required: name the client whose visits to list")])
    assert client_id is not None
    answer = upcoming_visits(session=session, cache=cache, client_id=client_id, today=utcnow().date(), who=who)
    crud.audit(db=db, who=who, action="list_upcoming", resource=f"{answer.count} visits", client_ids=[client_id])
    return JSONResponse(public_json(answer, who))
