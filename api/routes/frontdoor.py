"""The front door: offers (delivery-style slots) and bookings, for the contact centre and residents.

``POST /offers`` quotes a request over the rosters published now
(:func:`api.frontdoor.quote_all`) and stores the quote; ``POST /bookings``
books one (re-checked against the roster published then, once per
``Idempotency-Key``) and publishes the new roster at once; ``DELETE
/bookings/{id}`` cancels; ``GET /bookings`` lists them. Roles: ``frontdoor``
(any resident; sees providers and workers), ``resident:<client id>`` (their own
offers and bookings only; never workers, providers or other clients: another
client's answers 404) and ``coordinator``. The request's JSON form is in
``docs/frontdoor.md``.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, status
from fastapi.responses import JSONResponse

from api import crud, frontdoor
from api.deps import CacheDep, DatabaseDep, FrontDoor, Offset, SessionDep, SettingsDep
from api.errors import NotFound
from api.models import (
    BookingCreate,
    BookingPublic,
    BookingRecord,
    BookingsPublic,
    MessagePublic,
    OffersPublic,
    ProblemsPublic,
    StalePublic,
    utcnow,
)
from api.security import Principal

router = APIRouter(tags=["front door"])


def _days(request: Request) -> frontdoor.PublishedDays:
    return request.app.state.frontdoor_days


def _offers(request: Request, session: Any, cache: Any, settings: Any, db: Any, who: Principal,
            data: Any, dates: list[str] | None = None) -> OffersPublic:
    data = frontdoor.own_request(data, who)
    if dates is not None and isinstance(data, dict):
        data = {**data, "dates": dates}
    asked, quoted = frontdoor.quote_all(session=session, cache=cache, days=_days(request), settings=settings,
                                        data=data, today=utcnow().date())
    client_id = asked.client_id or (asked.new_client.id if asked.new_client else None)
    offers = frontdoor.store_offers(db=db, quoted=quoted, data=data, client_id=client_id, who=who)
    names = frontdoor.provider_names(session=session, cache=cache, days=_days(request), settings=settings,
                                     quoted=quoted)
    offers = [{**o, "provider_name": names.get(o["provider_id"], o["provider_id"])} for o in offers]
    body = dataclasses.replace(quoted.quote, offers=()).to_dict()  # the reason and codes (the offers are above)
    return OffersPublic(offers=[frontdoor.public_offer(o, who) for o in offers], reason=body["reason"],
                        codes=body["codes"])


@router.post("/offers", responses={404: {"model": MessagePublic, "description": "A resident asking for another client."},
                                   422: {"model": ProblemsPublic, "description": "An invalid request."}},
             summary="Ask when someone could come: ranked delivery-style slots")
def create_offers(request: Request, session: SessionDep, db: DatabaseDep, cache: CacheDep, settings: SettingsDep,
                  who: FrontDoor, body: Annotated[dict[str, Any], Body(
                      description="The request (docs/frontdoor.md): client_id or client, kind, duration_min, ...")]
                  ) -> OffersPublic:
    """Quote the request over the rosters published now for its dates (default: each of the next 7 days with
    a published roster), every provider of the kind, and store the quote (each offer's ``id``, bookable until
    ``expires_at``). No offer: ``reason`` says why in the resident's words.

    The contact centre sees who would come: ``provider_id`` and ``provider_name`` of each offer, and the
    workers of each slot. A resident's key asks for themselves only and never sees workers or providers.
    """
    return _offers(request, session, cache, settings, db, who, body)


def _booking(record: BookingRecord, who: Principal) -> BookingPublic:
    return BookingPublic(id=record.id, offer_id=record.offer_id, client_id=record.client_id,
                         provider_id=None if who.kind == "resident" else record.provider_id, state=record.state,
                         created_at=crud.aware(record.created_at),  # type: ignore[arg-type]
                         cancelled_at=crud.aware(record.cancelled_at),
                         visits=frontdoor.public_visits(record.visits, who), replaces=record.replaces,
                         replaced_by=record.replaced_by)


@router.post("/bookings", status_code=status.HTTP_201_CREATED, responses={
    200: {"model": BookingPublic, "description": "This Idempotency-Key booked this offer already: that booking."},
    404: {"model": MessagePublic, "description": "No such offer (or another client's)."},
    409: {"model": StalePublic, "description": "The offer no longer fits the roster published now (fresh offers "
                                               "in `offers`), or it was booked already."}},
    summary="Book an offer into the live roster")
def create_booking(request: Request, body: BookingCreate, session: SessionDep, db: DatabaseDep, cache: CacheDep,
                   settings: SettingsDep, who: FrontDoor,
                   idempotency_key: Annotated[str, Header(min_length=1, max_length=200, description=(
                       "Any unique string per booking: the same key and offer answer the same booking."))]
                   ) -> Any:
    """Re-check the offer against the roster published now and book it: the visit joins the plan with the
    offer's window, its stop goes where quoted with every other stop as it was, and the new roster is
    published at once (the provider's visit list, the worker's day and calendar show it).

    A stale offer is never booked: 409 with fresh offers for the same request and dates.
    """
    result = frontdoor.book_offer(db=db, cache=cache, days=_days(request), settings=settings, offer_id=body.offer_id,
                                  key=idempotency_key, who=who)
    return _booked(result, request, session, cache, settings, db, who, body.offer_id)


def _booked(result: tuple[BookingRecord, bool] | frontdoor.Stale, request: Request, session: Any, cache: Any,
            settings: Any, db: Any, who: Principal, offer_id: str) -> JSONResponse:
    """Answer a booking: 201 new, 200 the same key's, or 409 stale with fresh offers for the same request and dates."""
    if isinstance(result, frontdoor.Stale):
        offer = frontdoor.find_offer(session, offer_id)
        assert offer is not None  # book_offer found it
        dates = sorted({s["date"] for s in offer.offer["slots"]})
        fresh = _offers(request, session, cache, settings, db, who, offer.request, dates=dates)
        stale = StalePublic(detail=result.reason, offers=fresh.offers, reason=fresh.reason)
        return JSONResponse(stale.model_dump(mode="json"), status_code=status.HTTP_409_CONFLICT)
    record, new = result
    answer = _booking(record, who)
    if new:
        return JSONResponse(answer.model_dump(mode="json"), status_code=status.HTTP_201_CREATED)
    return JSONResponse(answer.model_dump(mode="json"), status_code=status.HTTP_200_OK)


@router.post("/bookings/{booking_id}/reschedule", status_code=status.HTTP_201_CREATED, responses={
    200: {"model": BookingPublic, "description": "This Idempotency-Key rescheduled to this offer already: "
                                                 "that booking."},
    404: {"model": MessagePublic, "description": "No such booking or offer (or another client's)."},
    409: {"model": StalePublic, "description": "The offer no longer fits (fresh offers in `offers`; the booking "
                                               "stays as it was), or the booking is not booked, or the offer is "
                                               "booked already or for another client, or an installation."}},
    summary="Move a booking to another offer in one step")
def reschedule_booking(booking_id: str, request: Request, body: BookingCreate, session: SessionDep, db: DatabaseDep,
                       cache: CacheDep, settings: SettingsDep, who: FrontDoor,
                       idempotency_key: Annotated[str, Header(min_length=1, max_length=200, description=(
                           "Any unique string per reschedule: the same key and offer answer the same booking."))]
                       ) -> Any:
    """Book the offer and cancel the booking atomically (both or neither), answering the new booking (it
    ``replaces`` the old one, which becomes ``rescheduled`` with ``replaced_by``). The old visit's place does
    not block the new one: the offer is booked into the roster without it, or as quoted and the old visit taken
    out after. A stale offer: 409 with fresh offers, and the booking stays as it was. A resident: their own only.
    """
    result = frontdoor.reschedule_booking(db=db, cache=cache, days=_days(request), settings=settings,
                                          booking_id=booking_id, offer_id=body.offer_id, key=idempotency_key, who=who)
    return _booked(result, request, session, cache, settings, db, who, body.offer_id)


@router.get("/bookings", summary="List bookings (a resident: their own)")
def read_bookings(session: SessionDep, db: DatabaseDep, who: FrontDoor,
                  client_id: Annotated[str | None, Query(description="Only this client's (not for residents).")] = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Offset = 0) -> BookingsPublic:
    """Return bookings newest first with their visits (date, window, start): a resident's own, or every
    booking (of ``client_id``) for the contact centre and coordinators.
    """
    if who.kind == "resident" and client_id not in (None, who.client_id):
        raise NotFound("client", client_id or "")
    rows, count = frontdoor.list_bookings(session=session, who=who, client_id=client_id, limit=limit, offset=offset)
    crud.audit(db=db, who=who, action="list_bookings", resource=f"{len(rows)} bookings",
               client_ids={r.client_id for r in rows})
    return BookingsPublic(data=[_booking(r, who) for r in rows], count=count)


@router.delete("/bookings/{booking_id}", responses={404: {"model": MessagePublic}},
               summary="Cancel a booking")
def delete_booking(booking_id: str, request: Request, db: DatabaseDep, cache: CacheDep, settings: SettingsDep,
                   who: FrontDoor) -> BookingPublic:
    """Take the booking's visits out of the rosters published now (published anew at once); every other stop
    stays as it was. Cancelling a cancelled booking changes nothing.
    """
    record = frontdoor.cancel_booking(db=db, cache=cache, days=_days(request), settings=settings,
                                      booking_id=booking_id, who=who)
    return _booking(record, who)
