"""Rosters solved elsewhere: ``POST /plans/{plan_id}/rosters`` stores one for a stored plan, as a draft.

``homecare solve-week`` solves a week on files; ``homecare publish-week`` sends
each date's plan and roster here and publishes it (``POST /rosters/{id}/publish``),
so that the front door has a week to book into without solving it again. The
roster is checked against the plan with the service's travel, rule by rule, and
refused (422, every broken rule) unless it passes; the logic is
:func:`api.frontdoor.import_roster`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, status

from api import frontdoor
from api.deps import CacheDep, Coordinator, DatabaseDep, SessionDep, SettingsDep
from api.models import MessagePublic, ProblemsPublic, RosterSummary
from api.routes.rosters import roster_with_state

router = APIRouter(tags=["rosters"])


@router.post("/plans/{plan_id}/rosters", status_code=status.HTTP_201_CREATED, responses={
    404: {"model": MessagePublic, "description": "No such plan."},
    422: {"model": ProblemsPublic, "description": "A malformed roster, another date's, or one breaking a rule."}},
    summary="Store a roster solved elsewhere (a draft, to publish)")
def import_roster(plan_id: str, request: Request, session: SessionDep, db: DatabaseDep, cache: CacheDep,
                  settings: SettingsDep, who: Coordinator,
                  body: Annotated[dict[str, Any], Body(description="The roster, contract JSON (homecare solve "
                                                                   "writes it).")]) -> RosterSummary:
    """Check the roster against the plan on every rule (travel times over the service's road network) and store
    it as a draft of purpose ``import``; publish it with ``POST /rosters/{id}/publish``. Coordinators only.
    """
    record = frontdoor.import_roster(session=session, db=db, cache=cache, days=request.app.state.frontdoor_days,
                                     settings=settings, plan_id=plan_id, data=body, who=who)
    session.rollback()  # end the read snapshot taken before the roster was written
    return roster_with_state(session, record)
