"""The front door in the service: quoting over the published rosters, booking into them, cancelling.

The routes (:mod:`api.routes.frontdoor`) call these; the quoting and booking
themselves are :mod:`solver.offers`'s (``quote``, ``book``, ``cancel``).

Each provider's roster of a date is the one published for it last
(``roster_publications``). A request is quoted provider by provider over that
provider's published day of each date (a repeat keeps one provider), and the
offers of every provider are ranked together. A booking runs in one write
transaction that first locks the publication rows of its dates (``SELECT ...
FOR UPDATE`` on PostgreSQL; SQLite's write transaction holds the database), reads
the rosters published now, re-checks the offer against them (``book``: a stale
offer is never booked blind), stores the new plan and roster and publishes the
roster for every provider the old one was published for. Two bookings racing
for the last place are serialised: the second re-checks against the first's
roster and is stale.

Published days (plan, roster, travel over the service's road network) are
built once per roster and kept (:class:`PublishedDays`); their worker days are
warmed (``solver.offers.warm``) on first use.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from api import crud
from api.config import Settings
from api.crud import ParsedCache
from api.db import Database
from api.errors import Conflict, NotFound
from api.intake import plan_network_path
from api.models import (
    AuditRecord,
    BookingRecord,
    OfferRecord,
    RosterPublication,
    RosterRecord,
    utcnow,
)
from api.security import Principal
from scheduler.errors import PlanError, Problem
from scheduler.io import plan_to_dict, roster_to_dict
from scheduler.offers import (
    NewClient,
    Offer,
    OfferRequest,
    Quote,
    mark_green,
    rank,
    request_from_dict,
)
from solver.offers import Published

#: Days searched when a request names no dates: today and the next six.
DEFAULT_DAYS = 7
#: How long an offer may be booked (it is re-checked when booked anyway).
OFFER_TTL = dt.timedelta(hours=1)
#: Roster purpose of a roster made by a booking or a cancellation.
PURPOSE = "frontdoor"


class PublishedDays:
    """Published days by roster id (rosters never change), least recently used dropped.

    A day is built once: requests missing the same roster at once (the first
    quotes after a publish) wait for the one building it.

    Parameters
    ----------
    size
        How many days to keep.
    """

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._days: OrderedDict[str, Published] = OrderedDict()
        self._networks: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}

    def network(self, plan: Any, settings: Settings) -> Any:
        """Return the road network of a plan (loaded once per file)."""
        from solver import network_for

        path = plan_network_path(plan, settings=settings)
        with self._lock:
            found = self._networks.get(str(path))
        if found is None:
            found = network_for(plan, path, cache_dir=settings.solver_cache_dir())
            with self._lock:
                self._networks[str(path)] = found
        return found

    def put(self, roster_id: str, day: Published) -> None:
        """Keep a day (one a booking just made)."""
        with self._lock:
            self._days[roster_id] = day
            while len(self._days) > self.size:
                self._days.popitem(last=False)

    def day(self, *, session: Session, cache: ParsedCache, settings: Settings, roster_id: str) -> Published:
        """Return the published day of a roster: its plan, roster and travel, worker days warmed."""
        from solver import travel_for
        from solver.offers import warm

        with self._lock:
            found = self._days.get(roster_id)
            if found is not None:
                self._days.move_to_end(roster_id)
                return found
            building = self._building.setdefault(roster_id, threading.Lock())
        with building:
            with self._lock:
                found = self._days.get(roster_id)
            if found is not None:
                return found  # built meanwhile by the request this one waited for
            record = crud.get_roster(session=session, roster_id=roster_id)
            parsed = cache.roster(session=session, roster_id=roster_id)
            assert record is not None and parsed is not None  # a published roster exists
            plan = cache.plan(session=session, plan_id=record.plan_id)
            assert plan is not None  # foreign key
            travel = travel_for(plan, self.network(plan, settings), cache_dir=settings.solver_cache_dir())
            day = Published(plan, parsed[0], travel)
            warm([day])
            self.put(roster_id, day)
            with self._lock:
                self._building.pop(roster_id, None)
        return day


# --------------------------------------------------------------------------- who may ask for whom

def own_request(data: Any, who: Principal) -> Any:
    """Return the request a caller may make: a resident's is always for themselves.

    Raises
    ------
    NotFound
        A resident asking for another client (as if that client did not exist).
    """
    if who.kind != "resident" or not isinstance(data, Mapping):
        return data
    data = dict(data)
    mine = who.client_id or ""
    if data.get("client_id", mine) != mine:
        raise NotFound("client", str(data["client_id"]))
    if isinstance(data.get("client"), Mapping):
        if data["client"].get("id", mine) != mine:
            raise NotFound("client", str(data["client"]["id"]))
        data["client"] = {**data["client"], "id": mine}
    else:
        data["client_id"] = mine
    return data


def may_see_booking(who: Principal, record: BookingRecord | OfferRecord) -> bool:
    """Whether a caller may see a booking or offer: a resident their own only."""
    return who.kind != "resident" or record.client_id == who.client_id


def public_offer(offer: dict[str, Any], who: Principal) -> dict[str, Any]:
    """An offer's JSON as a caller sees it: a resident never sees workers, positions or providers."""
    if who.kind != "resident":
        return offer
    hidden = {"worker_ids", "positions", "provider_id"}
    return {**{k: v for k, v in offer.items() if k != "provider_id"},
            "slots": [{k: v for k, v in s.items() if k not in hidden} for s in offer["slots"]]}


def public_visits(visits: Sequence[dict[str, Any]], who: Principal) -> list[dict[str, Any]]:
    """A booking's visits as a caller sees them (a resident: no workers, no provider)."""
    if who.kind != "resident":
        return list(visits)
    return [{k: v for k, v in v.items() if k not in ("worker_ids", "provider_id")} for v in visits]


# --------------------------------------------------------------------------- quoting

def current_publications(*, session: Session, dates: Iterable[dt.date]) -> dict[tuple[dt.date, str], str]:
    """Return the roster published now for each (date, provider) of the dates."""
    dates = sorted(set(dates))
    if not dates:
        return {}
    newest = select(func.max(RosterPublication.id)).where(RosterPublication.date.in_(dates)).group_by(
        RosterPublication.date, RosterPublication.provider_id)
    return {(d, p): r for r, d, p in session.execute(
        select(RosterPublication.roster_id, RosterPublication.date, RosterPublication.provider_id)
        .where(RosterPublication.id.in_(newest)))}


def default_dates(*, session: Session, today: dt.date) -> list[dt.date]:
    """Dates from ``today`` on, :data:`DEFAULT_DAYS` of them, that have a published roster."""
    window = [today + dt.timedelta(days=i) for i in range(DEFAULT_DAYS)]
    return sorted({d for d, _ in current_publications(session=session, dates=window)})


def _for_provider(request: OfferRequest, provider_id: str, days: Sequence[Published],
                  known: Sequence[Published]) -> OfferRequest:
    """Return the request asked of one provider: only its workers; a client its plans lack comes as a new client
    (their home, postcode, name and gender preference as another plan of the dates has them).
    """
    request = dataclasses.replace(request, provider_id=provider_id)
    cid = request.client_id
    if cid is None or any(c.id == cid for d in days for c in d.plan.clients):
        return request
    for d in known:
        for c in d.plan.clients:
            if c.id == cid:
                return dataclasses.replace(request, client_id=None, new_client=NewClient(
                    c.location, postcode=c.postcode, name=c.name, gender_preference=c.gender_preference, id=c.id))
    return request


@dataclasses.dataclass(frozen=True, slots=True)
class Quoted:
    """A quote over every provider: the ranked offers, each with the roster of each date it was quoted on."""

    quote: Quote
    rosters: tuple[dict[str, str], ...]


def quote_all(*, session: Session, cache: ParsedCache, days: PublishedDays, settings: Settings,
              data: Any, today: dt.date) -> tuple[OfferRequest, Quoted]:
    """Quote a request (its JSON) over the rosters published now for its dates, every provider of them.

    Raises
    ------
    PlanError
        If the request is invalid (every problem, record ``request``) or names a client no plan knows.
    """
    from solver.offers import quote

    request = request_from_dict(data, dates=default_dates(session=session, today=today))
    current = current_publications(session=session, dates=request.dates)
    every = {r: days.day(session=session, cache=cache, settings=settings, roster_id=r)
             for r in sorted(set(current.values()))}
    known = list(every.values())
    # Each provider is asked with its own id, which the provider rule then takes for the kind: so only the
    # providers of the request's kind are asked (one named by the request is asked whatever its kind).
    # With none of the kind, one provider's days are asked for the kind itself, which says no_provider.
    kinds = {pr.id: pr.kind for d in known for pr in d.plan.providers}
    published = sorted({p for _, p in current})
    asking: list[tuple[str, str | None]] = [(p, p) for p in published if request.provider_id == p
                                            or (request.provider_id is None and kinds.get(p) == request.kind)]
    if not asking and published and request.provider_id is None:
        asking = [(published[0], None)]
    providers = [p for p, _ in asking]
    offers: list[tuple[Offer, dict[str, str]]] = []
    misses: list[Quote] = []
    for p, ask_as in asking:
        mine = {d: r for (d, q), r in current.items() if q == p}
        pdays = [every[mine[d]] for d in sorted(mine)]
        asked = dataclasses.replace(_for_provider(request, p, pdays, known), provider_id=ask_as)
        try:
            q = quote(asked, pdays, network=days.network(pdays[0].plan, settings))
        except PlanError as exc:
            if asked.client_id is not None and any(pr.field == "client_id" for pr in exc.problems):
                continue  # a client this provider's plans do not know, nor any other's: said below
            raise
        if ask_as is not None:
            offers += [(o, {s.date.isoformat(): mine[s.date] for s in o.slots}) for o in q.offers]
        if not q.offers:
            misses.append(q)
    if not offers and not misses and request.client_id is not None and providers:
        raise PlanError([Problem("request", None, "client_id",
                                 f"client_id {request.client_id!r} is not a client of any published plan")])
    where = {id(o): r for o, r in offers}
    ranked = rank(mark_green([o for o, _ in offers]))
    by_key = {_key(o): where[id(o)] for o, _ in offers}
    if ranked:
        return request, Quoted(Quote(tuple(ranked)), tuple(by_key[_key(o)] for o in ranked))
    if not misses:
        from scheduler.offers import in_residents_words

        code = "no_dates" if not request.dates else "no_roster"
        first = min(request.dates) if request.dates else None
        return request, Quoted(Quote((), in_residents_words(code, kind=request.kind, date=first),
                                     {d: "no_roster" for d in request.dates}), ())
    telling = next((q for q in misses if any(c != "no_provider" for c in q.codes.values())), misses[0])
    return request, Quoted(telling, ())


def _key(offer: Offer) -> tuple[Any, ...]:
    return tuple((s.date, s.window_start, s.provider_id, s.worker_ids, s.start) for s in offer.slots)


def store_offers(*, db: Database, quoted: Quoted, data: Any, client_id: str | None,
                 who: Principal) -> list[dict[str, Any]]:
    """Store the quote's offers; return each offer's JSON with its ``id``, rank ``n`` and ``expires_at``."""
    now = utcnow()
    rows, out = [], []
    for n, (offer, rosters) in enumerate(zip(quoted.quote.offers, quoted.rosters, strict=True), 1):
        oid = crud.new_id("of")
        body = offer.to_dict()
        rows.append({"id": oid, "client_id": client_id, "provider_id": offer.provider_id, "request": data,
                     "offer": body, "rosters": rosters, "created_at": now, "expires_at": now + OFFER_TTL,
                     "created_by": who.key_id})
        out.append({"id": oid, "n": n, **body, "expires_at": (now + OFFER_TTL).isoformat()})
    if rows:
        with db.write() as session:
            session.execute(insert(OfferRecord), rows)
    return out


# --------------------------------------------------------------------------- booking and cancelling

def _lock(session: Session, dates: Iterable[dt.date]) -> None:
    """Serialise bookings and cancellations of these dates: lock their publication rows (PostgreSQL).

    Every booking of a date locks every publication row of the date, oldest
    first, so that two of them wait for each other whatever was published
    between. On SQLite the write transaction (``BEGIN IMMEDIATE``) holds the
    whole database already.
    """
    query = select(RosterPublication.id).where(RosterPublication.date.in_(sorted(set(dates)))) \
        .order_by(RosterPublication.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    session.execute(query).all()


def _store_day(session: Session, *, db: Database, old: RosterRecord, day: Published, changes: dict[str, Any],
               current: Mapping[tuple[dt.date, str], str], who: Principal, job_id: str) -> tuple[str, list[str]]:
    """Store a day's new plan and roster and publish it for every provider ``old`` is published for now."""
    plan_record = crud.create_plan(db=db, session=session, plan=day.plan, data=plan_to_dict(day.plan),
                                   created_by=who.key_id, purpose=PURPOSE, base_plan_id=old.plan_id,
                                   changes=changes, inherit_members=True)
    data = roster_to_dict(day.roster)
    roster_id = crud.new_id("ro")
    session.add(RosterRecord(id=roster_id, plan_id=plan_record.id, job_id=job_id, purpose=PURPOSE,
                             previous_roster_id=old.id, date=day.date, created_at=utcnow(), kpis=data["kpis"],
                             violations=[], data=data))
    session.flush()
    providers = sorted(p for (d, p), r in current.items() if d == day.date and r == old.id)
    now = utcnow()
    session.execute(insert(RosterPublication), [
        {"date": day.date, "provider_id": p, "roster_id": roster_id, "published_at": now,
         "published_by": who.key_id} for p in providers])
    return roster_id, providers


def _audit(session: Session, who: Principal, action: str, resource: str, client_ids: Iterable[str]) -> None:
    session.execute(insert(AuditRecord), crud._audit_rows(who=who, action=action, resource=resource,
                                                          client_ids=client_ids))


@dataclasses.dataclass(frozen=True, slots=True)
class Stale:
    """A booking that could not be made: the roster changed and the offer no longer fits."""

    reason: str


def book_offer(*, db: Database, cache: ParsedCache, days: PublishedDays, settings: Settings, offer_id: str,
               key: str, who: Principal) -> tuple[BookingRecord, bool] | Stale:
    """Book an offer once per ``Idempotency-Key``; return the booking and whether it is new, or :class:`Stale`.

    Raises
    ------
    NotFound
        No such offer, or a resident's key and another client's offer.
    Conflict
        The offer was booked already (with another key), or the key was used for another offer.
    """
    from solver.offers import book

    built: list[tuple[str, Published]] = []
    with db.write() as session:
        offer_rec = session.get(OfferRecord, offer_id)
        if offer_rec is None or not may_see_booking(who, offer_rec):
            raise NotFound("offer", offer_id)
        offer = Offer.from_dict(offer_rec.offer)
        dates = sorted({s.date for s in offer.slots})
        _lock(session, dates)
        done = session.scalar(select(BookingRecord).where(BookingRecord.created_by == who.key_id,
                                                          BookingRecord.idempotency_key == key))
        if done is not None:
            if done.offer_id != offer_id:
                raise Conflict(f"Idempotency-Key {key!r} was used for booking {done.id} of another offer; "
                               "use a new key for a new booking")
            return done, False
        other = session.scalar(select(BookingRecord).where(BookingRecord.offer_id == offer_id))
        if other is not None:
            raise Conflict(f"offer {offer_id!r} is booked already (booking {other.id}); ask for offers again")
        if crud.aware(offer_rec.expires_at) < utcnow():  # type: ignore[operator]
            return Stale(f"offer {offer_id!r} expired at {crud.aware(offer_rec.expires_at):%H:%M} UTC")
        current = current_publications(session=session, dates=dates)
        provider = offer.provider_id
        roster_ids = {d: current.get((d, provider)) for d in dates}
        if any(r is None for r in roster_ids.values()):
            return Stale(f"provider {provider!r} has no published roster on every date of the offer any more")
        pdays = [days.day(session=session, cache=cache, settings=settings, roster_id=roster_ids[d])  # type: ignore[arg-type]
                 for d in dates]
        request = request_from_dict(offer_rec.request, dates=dates)
        request = dataclasses.replace(request, dates=tuple(dates))
        known = [days.day(session=session, cache=cache, settings=settings, roster_id=r)
                 for r in sorted(set(current.values()))]
        asked = _for_provider(request, provider, pdays, known)
        result = book(asked, offer, pdays, network=days.network(pdays[0].plan, settings))
        if not result.ok:
            return Stale(f"offer {offer_id!r} no longer fits the roster published now")
        booking_id = crud.new_id("bk")
        visits, rosters = [], {}
        for slot, vid, day in zip(offer.slots, result.visit_ids, result.days, strict=True):
            old = session.get(RosterRecord, roster_ids[slot.date])
            assert old is not None
            roster_id, _ = _store_day(session, db=db, old=old, day=day, changes={"booked": [vid], "booking": booking_id},
                                      current=current, who=who, job_id=booking_id)
            built.append((roster_id, day))
            rosters[slot.date.isoformat()] = roster_id
            visits.append({"date": slot.date.isoformat(), "visit_id": vid, **_window(slot),
                           "worker_ids": list(slot.worker_ids), "provider_id": slot.provider_id})
        record = BookingRecord(id=booking_id, offer_id=offer_id, client_id=result.client_id or "",
                               provider_id=provider, visits=visits, rosters=rosters, state="booked",
                               created_at=utcnow(), created_by=who.key_id, idempotency_key=key)
        session.add(record)
        _audit(session, who, "book", f"booking {booking_id} of offer {offer_id}", [record.client_id])
    for roster_id, day in built:
        days.put(roster_id, day)
    return record, True


def _window(slot: Any) -> dict[str, Any]:
    from scheduler.timeutil import format_hhmm

    return {"window": {"start": format_hhmm(slot.window_start), "end": format_hhmm(slot.window_end)},
            "start": format_hhmm(slot.start)}


def cancel_booking(*, db: Database, cache: ParsedCache, days: PublishedDays, settings: Settings, booking_id: str,
                   who: Principal) -> BookingRecord:
    """Cancel a booking: each visit leaves the plan and roster published now for its provider (published anew).

    A visit the roster published now no longer holds (a coordinator published
    another roster since) is left as it is. Cancelling twice changes nothing.

    Raises
    ------
    NotFound
        No such booking, or a resident's key and another client's booking.
    """
    from solver.offers import cancel

    built: list[tuple[str, Published]] = []
    with db.write() as session:
        record = session.get(BookingRecord, booking_id)
        if record is None or not may_see_booking(who, record):
            raise NotFound("booking", booking_id)
        if record.state == "cancelled":
            return record
        dates = sorted({dt.date.fromisoformat(v["date"]) for v in record.visits})
        _lock(session, dates)
        current = current_publications(session=session, dates=dates)
        for v in record.visits:
            date = dt.date.fromisoformat(v["date"])
            roster_id = current.get((date, record.provider_id))
            if roster_id is None:
                continue
            day = days.day(session=session, cache=cache, settings=settings, roster_id=roster_id)
            if not day.plan.has_visit(v["visit_id"]):
                continue
            new = cancel(v["visit_id"], day)
            old = session.get(RosterRecord, roster_id)
            assert old is not None
            new_id, _ = _store_day(session, db=db, old=old, day=new,
                                   changes={"cancelled": [v["visit_id"]], "booking": booking_id},
                                   current=current, who=who, job_id=booking_id)
            current = {k: (new_id if r == roster_id and k[0] == date else r) for k, r in current.items()}
            built.append((new_id, new))
        record.state = "cancelled"
        record.cancelled_at = utcnow()
        _audit(session, who, "cancel_booking", f"booking {booking_id}", [record.client_id])
    for roster_id, day in built:
        days.put(roster_id, day)
    return record


def list_bookings(*, session: Session, who: Principal, client_id: str | None, limit: int,
                  offset: int) -> tuple[list[BookingRecord], int]:
    """Return the bookings a caller may see, newest first: a resident's own; others all, or one client's."""
    if who.kind == "resident":
        client_id = who.client_id
    query = select(BookingRecord)
    if client_id is not None:
        query = query.where(BookingRecord.client_id == client_id)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(BookingRecord.created_at.desc(), BookingRecord.id).limit(limit)
                           .offset(offset))
    return list(rows), count
