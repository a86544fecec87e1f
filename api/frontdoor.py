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

from sqlalchemy import delete, func, insert, select
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
    QuoteRecord,
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
#: A quote is deleted this long after its offers expire (booking one answers 409 until then, 404 after;
#: a booked offer keeps its own ``offers`` row).
QUOTE_KEPT = dt.timedelta(days=1)
#: How often a server process deletes such quotes (in the write transaction of the quote it stores).
PURGE_EVERY = dt.timedelta(hours=1)
_purged: dict[str, dt.datetime] = {}
_purged_lock = threading.Lock()
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


# --------------------------------------------------------------------------- a roster solved elsewhere

#: Roster purpose of a roster imported with ``POST /plans/{id}/rosters`` (``homecare publish-week``).
IMPORTED = "import"


def import_roster(*, session: Session, db: Database, cache: ParsedCache, days: PublishedDays, settings: Settings, plan_id: str,
                  data: Any, who: Principal) -> RosterRecord:
    """Store a roster solved elsewhere (contract JSON) for a stored plan, as a draft, once it passes every rule.

    The roster is read (``roster_from_dict``) and checked against the plan with
    the service's own travel (``scheduler.validate.check_roster``, travel times
    included); its KPIs are recomputed. The day is kept for quoting
    (:class:`PublishedDays`), so offers over it answer at once once it is published.

    Raises
    ------
    NotFound
        No such plan.
    PlanError
        The roster is malformed, is of another date, or breaks a rule: every problem
        (record ``roster`` for a broken rule, naming the rule and the record).
    """
    from scheduler.io import roster_from_dict
    from scheduler.roster import compute_kpis
    from scheduler.validate import check_roster
    from solver import travel_for

    plan = cache.plan(session=session, plan_id=plan_id)
    if plan is None:
        raise NotFound("plan", plan_id)
    if not isinstance(data, Mapping):
        raise PlanError([Problem("roster", None, "body", "the roster must be a JSON object (contract form)")])
    roster = roster_from_dict(data)
    if roster.date != plan.date:
        raise PlanError([Problem("roster", None, "date", f"date {roster.date} is not the plan's date {plan.date}")])
    travel = travel_for(plan, days.network(plan, settings), cache_dir=settings.solver_cache_dir())
    broken = check_roster(plan, roster, travel=travel)
    if broken:
        raise PlanError([Problem("roster", None, v.rule, str(v)) for v in broken])
    roster = dataclasses.replace(roster, kpis=compute_kpis(plan, roster.routes, roster.unassigned))
    body = roster_to_dict(roster)
    roster_id = crud.new_id("ro")
    record = RosterRecord(id=roster_id, plan_id=plan_id, job_id=IMPORTED, purpose=IMPORTED, previous_roster_id=None,
                          date=plan.date, created_at=utcnow(), kpis=body["kpis"], violations=[], data=body)
    with db.write() as session:
        session.add(record)
        _audit(session, who, "import_roster", f"roster {roster_id} of plan {plan_id}", ())
    days.put(roster_id, Published(plan, roster, travel))
    return record


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
    """Return an offer's JSON as a caller sees it: a resident never sees workers, positions or providers."""
    if who.kind != "resident":
        return offer
    hidden = {"worker_ids", "positions", "provider_id"}
    return {**{k: v for k, v in offer.items() if k not in ("provider_id", "provider_name")},
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

    # One look-up of the publications for the default dates and, usually, the request's (the same dates).
    window = [today + dt.timedelta(days=i) for i in range(DEFAULT_DAYS)]
    near = current_publications(session=session, dates=window)
    request = request_from_dict(data, dates=sorted({d for d, _ in near}))
    if set(request.dates) <= set(window):
        current = {k: r for k, r in near.items() if k[0] in request.dates}
    else:
        current = current_publications(session=session, dates=request.dates)
    every = {r: days.day(session=session, cache=cache, settings=settings, roster_id=r)
             for r in sorted(set(current.values()))}
    # Only providers of the request's kind: a visit naming a provider is offered to its workers whatever their
    # kind, and a care worker with a technician's skill must not be offered an installation. With none of the
    # kind published, one provider's days are asked for the kind itself (no provider named), which says
    # no_provider in the resident's words ("no driver works on ...").
    kinds = {pr.id: pr.kind for d in every.values() for pr in d.plan.providers}
    published = sorted({p for _, p in current})
    asking: list[tuple[str, str | None]] = [(p, p) for p in published if request.provider_id in (None, p)
                                            and kinds.get(p) == request.kind]
    if not asking and published and request.provider_id is None:
        asking = [(published[0], None)]
    providers = [p for p, _ in asking]
    known = list(every.values())
    offers: list[tuple[Offer, dict[str, str]]] = []
    misses: list[Quote] = []
    answering = 0
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
        if ask_as is not None and q.offers:
            answering += 1
            offers += [(o, {s.date.isoformat(): mine[s.date] for s in o.slots}) for o in q.offers]
        if not q.offers:
            misses.append(q)
    if not offers and not misses and request.client_id is not None and providers:
        raise PlanError([Problem("request", None, "client_id",
                                 f"client_id {request.client_id!r} is not a client of any published plan")])
    if answering > 1:  # ranked and marked green together; one provider's quote did that over these already
        where = {id(o): r for o, r in offers}
        by_key = {_key(o): where[id(o)] for o, _ in offers}
        offers = [(o, by_key[_key(o)]) for o in rank(mark_green([o for o, _ in offers]))]
    if offers:
        return request, Quoted(Quote(tuple(o for o, _ in offers)), tuple(r for _, r in offers))
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


def provider_names(*, session: Session, cache: ParsedCache, days: PublishedDays, settings: Settings,
                   quoted: Quoted) -> dict[str, str]:
    """Return the name of each provider of the quote's offers, from the published plans it was quoted on."""
    names: dict[str, str] = {}
    for offer, rosters in zip(quoted.quote.offers, quoted.rosters, strict=True):
        if offer.provider_id not in names and rosters:
            plan = days.day(session=session, cache=cache, settings=settings,
                            roster_id=next(iter(rosters.values()))).plan
            names[offer.provider_id] = next((p.name for p in plan.providers if p.id == offer.provider_id),
                                            offer.provider_id)
    return names


def store_offers(*, db: Database, quoted: Quoted, data: Any, client_id: str | None,
                 who: Principal) -> list[dict[str, Any]]:
    """Store the quote and its audit row in one transaction; return each offer's JSON, ``id``, ``n``, ``expires_at``.

    The quote is one :class:`~api.models.QuoteRecord` (the request and every
    offer); offer ``n`` of quote ``q`` has the id ``q_n`` (:func:`find_offer`). The
    audit row's action is ``quote``. Quotes past :data:`QUOTE_KEPT` are deleted in
    the same transaction, at most once per :data:`PURGE_EVERY`.
    """
    now = utcnow()
    quote_id = crud.new_id("of")
    stored, out = [], []
    expires = (now + OFFER_TTL).isoformat()
    for n, (offer, rosters) in enumerate(zip(quoted.quote.offers, quoted.rosters, strict=True), 1):
        body = offer.to_dict()
        stored.append({"offer": body, "rosters": rosters})
        out.append({"id": f"{quote_id}_{n}", "n": n, **body, "expires_at": expires})
    with db.write() as session:
        if stored:
            session.add(QuoteRecord(id=quote_id, client_id=client_id, request=data, offers=stored, created_at=now,
                                    expires_at=now + OFFER_TTL, created_by=who.key_id))
        _audit(session, who, "quote", f"{len(out)} offers", [client_id] if client_id else ())
        if _purge_due(db.url, now):
            session.execute(delete(QuoteRecord).where(QuoteRecord.expires_at < now - QUOTE_KEPT))
    return out


def _purge_due(url: str, now: dt.datetime) -> bool:
    """Whether this process is to delete old quotes of the database now (at most once per :data:`PURGE_EVERY`)."""
    with _purged_lock:
        last = _purged.get(url)
        if last is not None and now - last < PURGE_EVERY:
            return False
        _purged[url] = now
        return True


def find_offer(session: Session, offer_id: str) -> OfferRecord | None:
    """Return an offer by id, or ``None``.

    Its row once booked, else offer ``n`` of its quote (``<quote id>_<n>``) as a new
    :class:`~api.models.OfferRecord` not yet in the session (:func:`_kept_offer` adds it).
    """
    found = session.get(OfferRecord, offer_id)
    if found is not None:
        return found
    quote_id, _, n = offer_id.rpartition("_")
    if not n.isdigit() or not quote_id:
        return None
    quote = session.get(QuoteRecord, quote_id)
    if quote is None or not 1 <= int(n) <= len(quote.offers):
        return None
    item = quote.offers[int(n) - 1]
    return OfferRecord(id=offer_id, client_id=quote.client_id, provider_id=item["offer"]["provider_id"],
                       request=quote.request, offer=item["offer"], rosters=item["rosters"],
                       created_at=quote.created_at, expires_at=quote.expires_at, created_by=quote.created_by)


def _kept_offer(session: Session, offer_rec: OfferRecord) -> OfferRecord:
    """Return the offer's row, adding it (from its quote) when this is its first booking.

    Call it once the offer's dates are locked (:func:`_lock`): a booking of the same
    offer that committed meanwhile added the row, and it is that row that counts.
    """
    if offer_rec in session:
        return offer_rec
    found = session.get(OfferRecord, offer_rec.id)
    if found is not None:
        return found
    session.add(offer_rec)
    return offer_rec


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


class _Edits:
    """The days one transaction changes, each under the id of the roster published now that it replaces.

    A day changed twice (a reschedule's cancellation and booking on one roster)
    is stored once; ``changes`` says what happened to it (the new plan's ``changes``).
    """

    def __init__(self, session: Session, cache: ParsedCache, days: PublishedDays, settings: Settings) -> None:
        self._get = lambda roster_id: days.day(session=session, cache=cache, settings=settings, roster_id=roster_id)
        self.days: dict[str, Published] = {}
        self.changes: dict[str, dict[str, list[str]]] = {}

    def day(self, roster_id: str) -> Published:
        """Return the day as this transaction has it: changed, or as published."""
        return self.days.get(roster_id) or self._get(roster_id)

    def put(self, roster_id: str, day: Published, **changes: list[str]) -> None:
        """Record the new day of a published roster, and what changed."""
        self.days[roster_id] = day
        mine = self.changes.setdefault(roster_id, {})
        for k, v in changes.items():
            mine.setdefault(k, []).extend(v)

    def store(self, session: Session, *, db: Database, current: Mapping[tuple[dt.date, str], str], who: Principal,
              booking_id: str) -> dict[str, str]:
        """Store and publish every changed day (``_store_day``); return the new roster id by the old one's."""
        stored = {}
        for old_id, day in self.days.items():
            old = session.get(RosterRecord, old_id)
            assert old is not None  # published
            stored[old_id], _ = _store_day(session, db=db, old=old, day=day,
                                           changes={**self.changes[old_id], "booking": booking_id},
                                           current=current, who=who, job_id=booking_id)
        return stored


def _offer(session: Session, offer_id: str, who: Principal) -> tuple[OfferRecord, Offer, OfferRequest]:
    """Return the stored offer and its request for the offer's dates (a resident: their own only, else NotFound)."""
    offer_rec = find_offer(session, offer_id)
    if offer_rec is None or not may_see_booking(who, offer_rec):
        raise NotFound("offer", offer_id)
    offer = Offer.from_dict(offer_rec.offer)
    dates = sorted({s.date for s in offer.slots})
    request = dataclasses.replace(request_from_dict(offer_rec.request, dates=dates), dates=tuple(dates))
    return offer_rec, offer, request


def _later_dates(session: Session, request: OfferRequest, offer: Offer) -> list[dt.date]:
    """Return an installation's dates after its first with a published roster (their plans gain the item)."""
    if request.installs is None:
        return []
    first = min(s.date for s in offer.slots)
    return sorted(session.scalars(select(RosterPublication.date).where(RosterPublication.date > first).distinct()))


def _already(session: Session, offer_rec: OfferRecord, key: str, who: Principal) -> BookingRecord | Stale | None:
    """Return what booking ``offer_rec`` with ``key`` answers before anything is booked: the booking this key made of it
    (then nothing is booked again), stale (expired), or ``None`` (go on).

    Raises
    ------
    Conflict
        The key was used for another offer, or the offer was booked already (with another key).
    """
    done = session.scalar(select(BookingRecord).where(BookingRecord.created_by == who.key_id,
                                                      BookingRecord.idempotency_key == key))
    if done is not None:
        if done.offer_id != offer_rec.id:
            raise Conflict(f"Idempotency-Key {key!r} was used for booking {done.id} of another offer; "
                           "use a new key for a new booking")
        return done
    other = session.scalar(select(BookingRecord).where(BookingRecord.offer_id == offer_rec.id))
    if other is not None:
        raise Conflict(f"offer {offer_rec.id!r} is booked already (booking {other.id}); ask for offers again")
    if crud.aware(offer_rec.expires_at) < utcnow():  # type: ignore[operator]
        return Stale(f"offer {offer_rec.id!r} expired at {crud.aware(offer_rec.expires_at):%H:%M} UTC")
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class _Booked:
    """What :func:`_book_in` booked: the visits (the booking's JSON), the offer provider's roster of each date
    (by date, the id published before) and the equipment an installation put in place on other days."""

    client_id: str
    visits: list[dict[str, Any]]
    rosters: dict[dt.date, str]
    equipment: list[dict[str, Any]]


def _book_in(edits: _Edits, *, days: PublishedDays, settings: Settings, current: Mapping[tuple[dt.date, str], str],
             offer_rec: OfferRecord, offer: Offer, request: OfferRequest) -> _Booked | Stale:
    """Re-check and book an offer into the days of ``edits`` (the published ones, or as this transaction changed
    them); an installation also puts its item in place on the other published days of its date (from its end)
    and of every later date (all day): ``solver.offers.book``'s ``Booking.later``.
    """
    from solver.offers import book

    dates = sorted({s.date for s in offer.slots})
    provider = offer.provider_id
    roster_ids = {d: current.get((d, provider)) for d in dates}
    if any(r is None for r in roster_ids.values()):
        return Stale(f"provider {provider!r} has no published roster on every date of the offer any more")
    pdays = [edits.day(roster_ids[d]) for d in dates]  # type: ignore[index]
    known = [edits.day(r) for r in sorted(set(current.values()))]
    asked = _for_provider(request, provider, pdays, known)
    later = {r: edits.day(r) for (d, _), r in sorted(current.items())
             if request.installs is not None and d > dates[0] and d not in roster_ids}
    gone = {v for ch in edits.changes.values() for v in ch.get("cancelled", ())}  # a reschedule's old visits
    result = book(asked, offer, [*pdays, *later.values()], network=days.network(pdays[0].plan, settings),
                  visit_ids=[_booked_id(edits.day(roster_ids[s.date]).plan, gone) for s in offer.slots]  # type: ignore[index]
                  if gone else None)
    if not result.ok:
        return Stale(f"offer {offer_rec.id!r} no longer fits the roster published now")
    visits = []
    for slot, vid, day in zip(offer.slots, result.visit_ids, result.days, strict=True):
        edits.put(roster_ids[slot.date], day, booked=[vid])  # type: ignore[arg-type]
        visits.append({"date": slot.date.isoformat(), "visit_id": vid, **_window(slot),
                       "worker_ids": list(slot.worker_ids), "provider_id": slot.provider_id})
    equipment: list[dict[str, Any]] = []
    if request.installs is not None and result.client_id is not None:
        equipment = _put_in_place(edits, current, result, request.installs, later, roster_ids[dates[0]])
    return _Booked(result.client_id or "", visits, roster_ids, equipment)  # type: ignore[arg-type]


def _booked_id(plan: Any, gone: set[str]) -> str:
    """``booked-N`` free in the plan and not among ``gone`` (a new visit never takes the id of the one it replaces)."""
    from scheduler.offers import free_id

    return free_id("booked-", lambda x: plan.has_visit(x) or x in gone)


def _put_in_place(edits: _Edits, current: Mapping[tuple[dt.date, str], str], result: Any, item: str,
                  later: Mapping[str, Published], booked_roster: str | None) -> list[dict[str, Any]]:
    """Publish an installation's item on the other days: ``result.later`` (all day), and the other providers'
    rosters of its date (from the installation's end, as ``book`` put it in the booked day's plan); return
    each changed day's ``{date, client_id, item, installed_from}`` for undoing it on cancelling.
    """
    from scheduler.offers import with_equipment

    cid = result.client_id
    first = result.days[0]
    have = next(e for c in first.plan.clients if c.id == cid for e in c.equipment if e.item == item)
    changed: list[tuple[str, Published, Published]] = []
    by_roster = {id(d.roster): r for r, d in later.items()}
    for p in result.later:
        rid = by_roster[id(p.roster)]
        changed.append((rid, later[rid], p))
    for (d, _), rid in sorted(current.items()):
        if d == first.date and rid != booked_roster and rid not in {c[0] for c in changed}:
            day = edits.day(rid)
            changed.append((rid, day, dataclasses.replace(day, plan=with_equipment(day.plan, cid, item,
                                                                                   have.installed_from))))
    out = []
    for rid, before, after in changed:
        if after.plan is before.plan:
            continue  # the item was in place there already
        edits.put(rid, after, equipment=[cid])
        entry = {"date": after.date.isoformat(), "client_id": cid, "item": item,
                 "installed_from": None if after.date > first.date else have.installed_from}
        if entry not in out:
            out.append(entry)
    return out


def book_offer(*, db: Database, cache: ParsedCache, days: PublishedDays, settings: Settings, offer_id: str,
               key: str, who: Principal) -> tuple[BookingRecord, bool] | Stale:
    """Book an offer once per ``Idempotency-Key``; return the booking and whether it is new, or :class:`Stale`.

    An installation's item is put in place on every other published day of its
    date (from its end) and of each later date (all day), published anew in the
    same transaction (``BookingRecord.equipment`` says where, for cancelling).

    Raises
    ------
    NotFound
        No such offer, or a resident's key and another client's offer.
    Conflict
        The offer was booked already (with another key), or the key was used for another offer.
    """
    with db.write() as session:
        offer_rec, offer, request = _offer(session, offer_id, who)
        dates = list(request.dates)
        later = _later_dates(session, request, offer)
        _lock(session, [*dates, *later])
        offer_rec = _kept_offer(session, offer_rec)
        done = _already(session, offer_rec, key, who)
        if done is not None:
            return done if isinstance(done, Stale) else (done, False)
        current = current_publications(session=session, dates=[*dates, *later])
        edits = _Edits(session, cache, days, settings)
        booked = _book_in(edits, days=days, settings=settings, current=current, offer_rec=offer_rec, offer=offer,
                          request=request)
        if isinstance(booked, Stale):
            return booked
        booking_id = crud.new_id("bk")
        stored = edits.store(session, db=db, current=current, who=who, booking_id=booking_id)
        record = BookingRecord(id=booking_id, offer_id=offer_id, client_id=booked.client_id,
                               provider_id=offer.provider_id, visits=booked.visits,
                               rosters={d.isoformat(): stored[r] for d, r in booked.rosters.items()},
                               equipment=booked.equipment or None, state="booked", created_at=utcnow(),
                               created_by=who.key_id, idempotency_key=key)
        session.add(record)
        _audit(session, who, "book", f"booking {booking_id} of offer {offer_id}", [record.client_id])
    _keep(days, stored, edits)
    return record, True


def _keep(days: PublishedDays, stored: Mapping[str, str], edits: _Edits) -> None:
    """Keep the days a committed transaction published, for the next quote."""
    for old_id, new_id in stored.items():
        days.put(new_id, edits.days[old_id])


def _window(slot: Any) -> dict[str, Any]:
    from scheduler.timeutil import format_hhmm

    return {"window": {"start": format_hhmm(slot.window_start), "end": format_hhmm(slot.window_end)},
            "start": format_hhmm(slot.start)}


def _booking_dates(record: BookingRecord) -> list[dt.date]:
    """Every date a booking changed: its visits' and its installation's other days."""
    return sorted({dt.date.fromisoformat(v["date"]) for v in [*record.visits, *(record.equipment or ())]})


def _cancel_in(edits: _Edits, current: Mapping[tuple[dt.date, str], str], record: BookingRecord) -> None:
    """Take a booking's visits out of the days of ``edits``, and an installation's item out of the other days'
    plans where the booking put it.

    A visit the roster published now no longer holds (a coordinator published
    another roster since) is left as it is, and so is an item no longer in place as
    the booking put it.

    Raises
    ------
    Conflict
        A served visit (on the installation's date or a later one) needs the item and
        nothing else puts it in place by its start.
    """
    from solver.offers import cancel, without_item

    for v in record.visits:
        roster_id = current.get((dt.date.fromisoformat(v["date"]), record.provider_id))
        if roster_id is None or not edits.day(roster_id).plan.has_visit(v["visit_id"]):
            continue
        try:
            edits.put(roster_id, cancel(v["visit_id"], edits.day(roster_id)), cancelled=[v["visit_id"]])
        except PlanError as exc:
            raise Conflict(f"booking {record.id} cannot be cancelled: {exc.problems[0].message}") from None
    for e in record.equipment or ():
        date = dt.date.fromisoformat(e["date"])
        for roster_id in sorted({r for (d, _), r in current.items() if d == date}):
            day = edits.day(roster_id)
            try:
                plan = without_item(day, e["client_id"], e["item"], e["installed_from"])
            except PlanError as exc:
                raise Conflict(f"booking {record.id} cannot be cancelled: {exc.problems[0].message}") from None
            if plan is not day.plan:
                edits.put(roster_id, dataclasses.replace(day, plan=plan), uninstalled=[e["client_id"]])


def cancel_booking(*, db: Database, cache: ParsedCache, days: PublishedDays, settings: Settings, booking_id: str,
                   who: Principal) -> BookingRecord:
    """Cancel a booking: each visit leaves the plan and roster published now for its provider (published anew).

    A visit the roster published now no longer holds (a coordinator published
    another roster since) is left as it is. Cancelling twice changes nothing, and
    so does cancelling a rescheduled booking (its visits have gone already). An
    installation's item leaves the other days' plans where booking it put it.

    Raises
    ------
    NotFound
        No such booking, or a resident's key and another client's booking.
    Conflict
        An installation a served visit still needs (on its date or a later one): nothing is cancelled.
    """
    with db.write() as session:
        record = session.get(BookingRecord, booking_id)
        if record is None or not may_see_booking(who, record):
            raise NotFound("booking", booking_id)
        if record.state != "booked":
            return record
        dates = _booking_dates(record)
        _lock(session, dates)
        current = current_publications(session=session, dates=dates)
        edits = _Edits(session, cache, days, settings)
        _cancel_in(edits, current, record)
        stored = edits.store(session, db=db, current=current, who=who, booking_id=booking_id)
        record.state = "cancelled"
        record.cancelled_at = utcnow()
        _audit(session, who, "cancel_booking", f"booking {booking_id}", [record.client_id])
    _keep(days, stored, edits)
    return record


def reschedule_booking(*, db: Database, cache: ParsedCache, days: PublishedDays, settings: Settings,
                       booking_id: str, offer_id: str, key: str, who: Principal) -> tuple[BookingRecord, bool] | Stale:
    """Book another offer for a booking's client and cancel the booking, in one transaction: both or neither.

    The offer is booked into the rosters without the old booking's visits first
    (the old visit's place does not block the new one); when it no longer fits
    there as quoted (it was quoted with the old visit in the roster, on the same
    worker's day), it is booked as quoted and the old visits are taken out after
    it. Either way every other stop stays as it was. The old booking becomes
    ``rescheduled`` (``replaced_by`` the new one, which ``replaces`` it). The same
    ``Idempotency-Key`` and offer answer the same new booking.

    Raises
    ------
    NotFound
        No such booking or offer, or a resident's key and another client's.
    Conflict
        The booking is not booked (cancelled, or rescheduled already), the offer is for
        another client or booked already, the key was used for something else, or an
        installation is involved (cancel it and book anew).
    """
    with db.write() as session:
        old = session.get(BookingRecord, booking_id)
        if old is None or not may_see_booking(who, old):
            raise NotFound("booking", booking_id)
        offer_rec, offer, request = _offer(session, offer_id, who)
        old_offer = session.get(OfferRecord, old.offer_id)
        old_installs = old_offer is not None and isinstance(old_offer.request, Mapping) and \
            old_offer.request.get("installs") is not None
        dates = list(request.dates)
        _lock(session, [*dates, *_booking_dates(old)])
        offer_rec = _kept_offer(session, offer_rec)
        done = _already(session, offer_rec, key, who)
        if isinstance(done, BookingRecord):
            if done.replaces != booking_id:
                raise Conflict(f"Idempotency-Key {key!r} was used for booking {done.id}, not a reschedule of "
                               f"{booking_id}; use a new key")
            return done, False
        if old.state != "booked":
            raise Conflict(f"booking {booking_id} is {old.state}" + (f" (to {old.replaced_by})" if old.replaced_by
                                                                     else "") + "; there is nothing to reschedule")
        if (offer_rec.client_id or "") != old.client_id:
            raise Conflict(f"offer {offer_id!r} is for another client than booking {booking_id}")
        if request.installs is not None or old_installs or old.equipment:
            raise Conflict("an installation is not rescheduled in one call: cancel it, then book another offer")
        if done is not None:
            return done
        current = current_publications(session=session, dates=[*dates, *_booking_dates(old)])
        edits = _Edits(session, cache, days, settings)
        _cancel_in(edits, current, old)
        booked = _book_in(edits, days=days, settings=settings, current=current, offer_rec=offer_rec, offer=offer,
                          request=request)
        if isinstance(booked, Stale):  # quoted with the old visit in place: book as quoted, then take it out
            edits = _Edits(session, cache, days, settings)
            booked = _book_in(edits, days=days, settings=settings, current=current, offer_rec=offer_rec,
                              offer=offer, request=request)
            if isinstance(booked, Stale):
                return booked
            _cancel_in(edits, current, old)
        new_id = crud.new_id("bk")
        stored = edits.store(session, db=db, current=current, who=who, booking_id=new_id)
        now = utcnow()
        record = BookingRecord(id=new_id, offer_id=offer_id, client_id=booked.client_id,
                               provider_id=offer.provider_id, visits=booked.visits,
                               rosters={d.isoformat(): stored[r] for d, r in booked.rosters.items()},
                               state="booked", created_at=now, created_by=who.key_id, idempotency_key=key,
                               replaces=booking_id)
        session.add(record)
        old.state, old.cancelled_at, old.replaced_by = "rescheduled", now, new_id
        _audit(session, who, "reschedule_booking", f"booking {booking_id} to {new_id} of offer {offer_id}",
               [record.client_id])
    _keep(days, stored, edits)
    return record, True


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
