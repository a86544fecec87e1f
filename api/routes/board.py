"""The coordinator board: the page itself, and its data (a roster cut to the caller) and route map.

The page and its script and style are static files of the package
(``api/static/``); they hold no data and need no key. The data endpoints take
any key and cut the roster on the server (:mod:`api.board`): coordinators and
planners see every roster, drafts included; a provider or worker only the
roster published for their provider (and, for a worker, only if its plan lists
them as a worker of that provider), and only their own rows; any other roster
answers 404, as if it did not exist. Coordinators publish from the board
(``POST /rosters/{id}/publish``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from api import crud
from api.board import (
    Scope,
    bbox_of,
    board_client_ids,
    board_map,
    board_view,
    scope_of,
    straight_paths,
    visible_roster,
)
from api.crud import ParsedCache, aware
from api.deps import BoardReader, CacheDep, DatabaseDep, SessionDep, SettingsDep
from api.errors import NotFound
from api.intake import plan_network_path
from api.models import BoardPublic, MessagePublic, RosterRecord
from api.security import Principal
from scheduler.errors import NetworkError, PlanError
from solver import network_for
from solver.geometry import network_lines, route_paths

log = logging.getLogger("homecare.api")
router = APIRouter(prefix="/board", tags=["board"])

#: The page, its script and its style (package data).
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
#: The page may load only its own script, style and data: no inline script, nothing from elsewhere.
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                                           "base-uri 'none'; frame-ancestors 'none'",
                "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
NOT_FOUND = {404: {"model": MessagePublic, "description": "No such roster, or not one this key may see."}}


@router.get("", include_in_schema=False)
def board_page() -> FileResponse:
    """Return the board page (sign in there with an API key)."""
    return FileResponse(STATIC_DIR / "board.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


def _readable_roster(session: Session, who: Principal, roster_id: str) -> RosterRecord:
    """Return a roster the caller may see on the board; 404 otherwise."""
    record = crud.get_roster(session=session, roster_id=roster_id)
    if record is not None and who.kind in ("provider", "worker"):
        record = crud.day_roster(session=session, date=record.date, provider_id=who.provider_id or "",
                                 worker_id=who.worker_id, roster_id=record.id)
    if record is None:
        raise NotFound("roster", roster_id)
    return record


def _board(session: Session, cache: ParsedCache, who: Principal, record: RosterRecord) -> tuple[bytes, set[str]]:
    """Return the board of a roster for the caller, serialised, and the clients it shows (built once per scope
    and publication state)."""
    scope = scope_of(who)
    can_reoptimise = who.kind == "coordinator"
    can_publish = who.kind == "coordinator" and record.purpose in crud.DAY_PURPOSES and not record.violations
    state, published_for = crud.roster_states(session=session, rosters=[record])[record.id]
    if scope.provider_id is not None:  # a provider or worker hears only of its own provider
        published_for = [p for p in published_for if p == scope.provider_id]

    def build() -> tuple[bytes, set[str]]:
        plan = cache.plan(session=session, plan_id=record.plan_id)
        parsed = cache.roster(session=session, roster_id=record.id)
        assert plan is not None and parsed is not None  # foreign key, existing record
        previous = None
        if record.previous_roster_id:
            before = crud.get_roster(session=session, roster_id=record.previous_roster_id)
            old = cache.roster(session=session, roster_id=before.id) if before else None
            old_plan = cache.plan(session=session, plan_id=before.plan_id) if before else None
            if old is not None and old_plan is not None:
                previous = (old_plan, old[0])
        board = board_view(plan, parsed[0], roster_id=record.id, plan_id=record.plan_id, purpose=record.purpose,
                           created_at=aware(record.created_at), kpis=record.kpis,  # type: ignore[arg-type]
                           violations=list(record.violations or ()), scope=scope, can_reoptimise=can_reoptimise,
                           previous_roster_id=record.previous_roster_id, previous=previous)
        board = board.model_copy(update={"can_publish": can_publish, "state": state,
                                         "published_for": published_for})
        return board.model_dump_json().encode(), board_client_ids(plan, board)

    # Rosters never change, their publication seldom: each scope's board of one is serialised once per state.
    return cache.view(("board", record.id, scope.label, can_reoptimise, state, tuple(published_for)), build)


@router.get("/day", response_model=BoardPublic, responses=NOT_FOUND, summary="The day's roster on the board")
def read_board_day(date: Annotated[dt.date, Query(description="The day, YYYY-MM-DD.")], session: SessionDep,
                   db: DatabaseDep, cache: CacheDep, who: BoardReader,
                   provider_id: Annotated[str | None, Query(description=(
                       "The roster published for this provider (default: a provider's or worker's own; for "
                       "coordinators and planners the date's roster published last)."))] = None) -> Response:
    """Return the day's published roster as the board shows it to the caller.

    For a provider or worker key, the roster published for their provider
    (another ``provider_id``: 404); for coordinators and planners, the roster
    published for ``provider_id``, by default the roster of that date published
    most recently (another one, a draft included, through ``GET /board/rosters/{id}``).
    Where providers of one date publish different rosters, each is on the board by its provider.
    """
    if who.kind in ("provider", "worker"):
        record = None if provider_id not in (None, who.provider_id) else crud.day_roster(
            session=session, date=date, provider_id=who.provider_id or "", worker_id=who.worker_id)
    elif provider_id is not None:
        record = crud.day_roster(session=session, date=date, provider_id=provider_id)
    else:
        record = crud.latest_published_roster(session=session, date=date)
    if record is None:
        raise NotFound("published roster on", date.isoformat())
    body, client_ids = _board(session, cache, who, record)
    crud.audit(db=db, who=who, action="read_board", resource=f"roster {record.id}", client_ids=client_ids)
    return Response(body, media_type="application/json")


@router.get("/rosters/{roster_id}", response_model=BoardPublic, responses=NOT_FOUND,
            summary="A roster on the board")
def read_board(roster_id: str, session: SessionDep, db: DatabaseDep, cache: CacheDep, who: BoardReader) -> Response:
    """Return a roster as the board shows it: rows, unassigned visits, KPIs and what changed.

    Coordinators and planners see every worker of any roster; a provider its own
    workers and visits, a worker its own day, of the roster published for their provider.
    """
    record = _readable_roster(session, who, roster_id)
    body, client_ids = _board(session, cache, who, record)
    crud.audit(db=db, who=who, action="read_board", resource=f"roster {record.id}", client_ids=client_ids)
    return Response(body, media_type="application/json")


@router.get("/rosters/{roster_id}/map", responses={**NOT_FOUND, 200: {
    "content": {"application/geo+json": {}},
    "description": "GeoJSON FeatureCollection: roads, routes, homes and stops."}},
    response_class=Response, summary="A roster's routes over the road network, as GeoJSON")
def read_board_map(roster_id: str, session: SessionDep, db: DatabaseDep, cache: CacheDep, settings: SettingsDep,
                   who: BoardReader) -> Response:
    """Return the routes the caller may see, and the roads around them, as GeoJSON (lon, lat).

    Routes follow the roads the solver costed (:func:`solver.geometry.route_paths`);
    the roads are those of the plan's network in the routes' bounding box.
    Features carry a ``layer`` property (``road``, ``route``, ``home``,
    ``stop``); the collection carries ``bbox`` and the OpenStreetMap
    ``attribution`` to show with it.
    """
    record = _readable_roster(session, who, roster_id)
    scope: Scope = scope_of(who)

    def build() -> tuple[bytes, set[str]]:
        plan = cache.plan(session=session, plan_id=record.plan_id)
        parsed = cache.roster(session=session, roster_id=record.id)
        assert plan is not None and parsed is not None
        # The same rows as the caller's board, so that map and timeline always agree.
        board = BoardPublic.model_validate_json(_board(session, cache, who, record)[0])
        roster = visible_roster(parsed[0], board)
        try:
            bbox = bbox_of(plan, roster)
        except ValueError:
            raise NotFound("route map of roster", record.id) from None
        try:
            source = plan_network_path(plan, settings=settings)
            road = network_for(plan, source, cache_dir=settings.solver_cache_dir())
            paths, roads, follow = route_paths(plan, roster, network=road), network_lines(road, bbox=bbox), True
        except (NetworkError, PlanError) as exc:  # the network is no longer in the server's network folder
            log.warning("roster %s: map without roads (%s)", record.id, exc)
            paths, roads, follow = straight_paths(plan, roster), [], False
        data = board_map(plan, roster, paths=paths, roads=roads, bbox=bbox, routes_follow_roads=follow)
        client_ids = {plan.visit(s.visit_id).client_id for r in roster.routes for s in r.stops}
        return json.dumps(data, separators=(",", ":")).encode(), client_ids

    body, client_ids = cache.view(("board_map", record.id, scope.label), build)
    crud.audit(db=db, who=who, action="read_board_map", resource=f"roster {record.id}", client_ids=client_ids)
    return Response(body, media_type="application/geo+json")
