r"""The front door's domain side: a resident's request, the offers it gets, and their words.

A resident (or the council's contact centre for them) asks for a visit: who
they are, what kind of service, how long, which skills, one or two workers,
which dates and times suit them, perhaps a weekly repeat. :func:`request_from_dict`
reads that into an :class:`OfferRequest`, gathering every problem into one
:class:`~scheduler.errors.PlanError` naming record ``request`` and the field.

Quoting (:func:`solver.offers.quote`) answers :class:`Offer`\\ s, each a start
window on the slot grid (like a delivery slot) on one date, or one per date of a
repeat (:class:`Slot`); this module ranks them (:func:`rank`), marks the green
ones (:func:`mark_green`) and, when nobody can come, says why in the
resident's words (:data:`RESIDENT_WORDS`, :func:`in_residents_words`): the one
table from the rules' reason codes to sentences.

No travel is needed here; :mod:`solver.offers` does the quoting and booking.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scheduler.errors import PlanError, Problem
from scheduler.io import _Record
from scheduler.model import (
    GENDER_PREFERENCES,
    PROVIDER_KINDS,
    Client,
    Equipment,
    Location,
    Plan,
    TimeWindow,
    Visit,
)
from scheduler.timeutil import DAY_S, format_hhmm

__all__ = [
    "GREEN_MAX_S", "GREEN_QUARTILE_MAX_S", "RESIDENT_WORDS", "SLOT_MIN", "WEEKDAYS", "NewClient", "Offer",
    "OfferRequest", "Quote", "Recurrence", "Slot", "booked_plan", "free_id", "in_residents_words", "mark_green", "rank",
    "recurring_dates", "request_from_dict", "slot_starts", "window_open", "with_equipment",
]

#: The start-window length each kind of service offers by default (minutes), like a delivery slot.
SLOT_MIN: dict[str, int] = {"care": 30, "hairdressing": 30, "delivery": 60, "equipment": 60}
#: Weekday names a recurrence accepts (Monday first, as :meth:`datetime.date.weekday`).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: An offer adding at most this much travel per worker is green, whatever else is on offer (seconds).
GREEN_MAX_S = 300
#: An offer in the lowest quartile of its date's offers is green too, if it adds at most this per worker (seconds).
GREEN_QUARTILE_MAX_S = 600

_KNOWN = {"client_id", "client", "kind", "duration_min", "required_skills", "workers_required", "dates",
          "preferred_times", "provider_id", "slot_min", "recurrence", "needs_equipment", "installs"}


# --------------------------------------------------------------------------- the request

@dataclass(frozen=True, slots=True)
class NewClient:
    """A resident not yet in the plans: where they live and whom they would rather see."""

    location: Location
    postcode: str = ""
    name: str = ""
    gender_preference: str | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A weekly repeat: on ``weekdays`` (0 Monday .. 6 Sunday) every ``every_n_weeks`` weeks."""

    weekdays: frozenset[int]
    every_n_weeks: int = 1


@dataclass(frozen=True, slots=True)
class OfferRequest:
    """What a resident asks for.

    Exactly one of ``client_id`` (a client of the plans) and ``new_client`` is
    set. ``dates`` are the dates to search; ``preferred_times`` the parts of the
    day a start window must lie in (seconds since midnight; empty: any time);
    ``slot_min`` the start-window length (minutes). ``needs_equipment``: items
    that must be in place at the client before the visit starts (a hoist for a
    transfer); ``installs``: the item an ``equipment`` visit puts in place (its
    technician needs the item as a skill).
    """

    kind: str
    duration_min: int
    dates: tuple[dt.date, ...]
    slot_min: int
    client_id: str | None = None
    new_client: NewClient | None = None
    required_skills: frozenset[str] = frozenset()
    workers_required: int = 1
    preferred_times: tuple[TimeWindow, ...] = ()
    provider_id: str | None = None
    recurrence: Recurrence | None = None
    needs_equipment: frozenset[str] = frozenset()
    installs: str | None = None

    @property
    def slot_s(self) -> int:
        """The start-window length (seconds)."""
        return self.slot_min * 60


def request_from_dict(data: Mapping[str, Any], *, dates: Iterable[dt.date] = ()) -> OfferRequest:
    """Read a resident's request from its JSON form (``docs/frontdoor.md``).

    Parameters
    ----------
    data
        The request: ``client_id`` or ``client`` {``location`` {lat, lon},
        ``postcode``, ``name``, ``gender_preference``, ``id``}, ``kind``,
        ``duration_min``, ``required_skills``, ``workers_required`` (1 or 2),
        ``dates`` (``YYYY-MM-DD``), ``preferred_times`` ([{start, end}] ``HH:MM``),
        ``provider_id``, ``slot_min``, ``recurrence`` {``weekdays``, ``every_n_weeks``},
        ``needs_equipment`` (items), ``installs`` (an item; kind ``equipment`` only).
    dates
        The dates searched when the request names none (the quoter's: every date
        with a published roster).

    Returns
    -------
    OfferRequest
        The request.

    Raises
    ------
    PlanError
        Listing every problem, each naming record ``request`` and its field.
    """
    problems: list[Problem] = []
    if not isinstance(data, Mapping):
        raise PlanError([Problem("request", None, None, f"a request is a JSON object, got {type(data).__name__}")])
    r = _Record("request", data, None, problems)  # type: ignore[arg-type]
    r.id = None  # type: ignore[assignment]
    for key in data:
        if key not in _KNOWN:
            r.fail(str(key), f"{key} is not a field of a request (fields: {', '.join(sorted(_KNOWN))})")
    kind = r.text("kind", required=True)
    if kind is not None and kind not in PROVIDER_KINDS:
        r.fail("kind", f"kind {kind!r} is not one of {', '.join(PROVIDER_KINDS)}")
    duration = r.integer("duration_min", required=True)
    if duration is not None and not 1 <= duration <= 12 * 60:
        r.fail("duration_min", f"duration_min {duration} is not between 1 and 720")
    workers = r.integer("workers_required", default=1)
    if workers not in (1, 2):
        r.fail("workers_required", f"workers_required {workers} is not 1 or 2")
    slot = r.integer("slot_min", default=SLOT_MIN.get(kind or "", 30))
    if slot is not None and not (5 <= slot <= 240 and DAY_S // 60 % slot == 0):
        r.fail("slot_min", f"slot_min {slot} is not 5-240 minutes dividing the day into whole slots")
    client_id = r.text("client_id")
    new = _new_client(r, r.mapping("client"))
    if client_id is None and data.get("client") is None:
        r.fail("client_id", "give client_id (a client of the plans) or client (a new one, with its location)")
    if client_id is not None and data.get("client") is not None:
        r.fail("client", "give client_id or client, not both")
    wanted = _dates(r, data.get("dates"))
    times = r.windows("preferred_times")
    repeat = _recurrence(r, r.mapping("recurrence"))
    needs = frozenset(r.strings("needs_equipment"))
    installs = r.text("installs")
    if installs is not None and kind is not None and kind != "equipment":
        r.fail("installs", f"only an equipment visit installs an item; this request is {kind!r}")
    if installs is not None and installs in needs:
        r.fail("needs_equipment", f"the visit installs {installs!r}, so it cannot need it")
    if problems:
        raise PlanError(problems)
    return OfferRequest(
        kind=kind, duration_min=duration, dates=tuple(sorted(set(wanted if wanted is not None else dates))),
        slot_min=slot, client_id=client_id, new_client=new, required_skills=frozenset(r.strings("required_skills")),
        workers_required=workers, preferred_times=tuple(sorted(times, key=lambda w: w.start)),
        provider_id=r.text("provider_id"), recurrence=repeat, needs_equipment=needs, installs=installs)


def _new_client(r: _Record, raw: Mapping[str, Any] | None) -> NewClient | None:
    if raw is None:
        return None
    sub = _Record("request", {f"client.{k}": v for k, v in raw.items()}, None, r.problems)  # type: ignore[arg-type]
    sub.id = None  # type: ignore[assignment]
    where = sub.location("client.location")
    gender = sub.text("client.gender_preference")
    if gender is not None and gender not in GENDER_PREFERENCES:
        sub.fail("client.gender_preference",
                 f"gender_preference {gender!r} is not one of {', '.join(GENDER_PREFERENCES)} or null")
    if not sub.ok or where is None:
        r.ok = False
        return None
    return NewClient(where, sub.text("client.postcode", default="") or "", sub.text("client.name", default="") or "",
                     gender, sub.text("client.id"))


def _dates(r: _Record, raw: Any) -> list[dt.date] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        r.fail("dates", f"dates should be a non-empty list of YYYY-MM-DD, got {raw!r}")
        return None
    out = []
    for i, item in enumerate(raw):
        try:
            out.append(dt.date.fromisoformat(str(item)))
        except ValueError:
            r.fail(f"dates[{i}]", f"dates[{i}] {item!r} is not a date YYYY-MM-DD")
    return out


def _recurrence(r: _Record, raw: Mapping[str, Any] | None) -> Recurrence | None:
    if raw is None:
        return None
    days, ok = set(), True
    weekdays = raw.get("weekdays")
    if not isinstance(weekdays, list) or not weekdays:
        r.fail("recurrence.weekdays", f"recurrence.weekdays should be a non-empty list of {', '.join(WEEKDAYS)}, "
                                      f"got {weekdays!r}")
        ok = False
    else:
        for i, day in enumerate(weekdays):
            name = str(day).strip().lower()[:3]
            if name in WEEKDAYS:
                days.add(WEEKDAYS.index(name))
            else:
                r.fail(f"recurrence.weekdays[{i}]", f"recurrence.weekdays[{i}] {day!r} is not one of "
                                                    f"{', '.join(WEEKDAYS)}")
                ok = False
    every = raw.get("every_n_weeks", 1)
    if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= 52:
        r.fail("recurrence.every_n_weeks", f"recurrence.every_n_weeks {every!r} is not a whole number 1-52")
        ok = False
    for key in raw:
        if key not in ("weekdays", "every_n_weeks"):
            r.fail(f"recurrence.{key}", f"recurrence.{key} is not a field of a recurrence (weekdays, every_n_weeks)")
            ok = False
    return Recurrence(frozenset(days), every) if ok else None


def recurring_dates(recurrence: Recurrence, dates: Sequence[dt.date]) -> list[dt.date]:
    """Return the dates of ``dates`` a repeat falls on: its weekdays, in the weeks counted from the first date's.

    Weeks run Monday to Sunday; the week of the earliest date is week 0, and the
    repeat falls in weeks 0, ``every_n_weeks``, twice that, ...
    """
    if not dates:
        return []
    first = min(dates)
    monday = first - dt.timedelta(days=first.weekday())
    return sorted(d for d in set(dates) if d.weekday() in recurrence.weekdays
                  and ((d - monday).days // 7) % recurrence.every_n_weeks == 0)


# --------------------------------------------------------------------------- plans with the asked visit

def asked_client(plan: Plan, request: OfferRequest) -> Client:
    """Return the client the request is for: the plan's, or the new one (its id the request's or ``resident-N``).

    Raises
    ------
    PlanError
        If ``client_id`` is not a client of the plan (record ``request``, field ``client_id``).
    """
    if request.client_id is not None:
        try:
            return plan.client(request.client_id)
        except KeyError:
            raise PlanError([Problem("request", None, "client_id", f"client_id {request.client_id!r} is not a "
                                     f"client of the plan of {plan.date}")]) from None
    new = request.new_client
    assert new is not None
    cid = new.id or free_id("resident-", lambda x: any(c.id == x for c in plan.clients))
    return Client(cid, new.location, postcode=new.postcode, name=new.name, gender_preference=new.gender_preference)


def free_id(prefix: str, taken: Callable[[str], bool]) -> str:
    """Return ``prefix`` and the first whole number from 1 that ``taken`` does not claim (``booked-1``, ...)."""
    n = 1
    while taken(f"{prefix}{n}"):
        n += 1
    return f"{prefix}{n}"


def asked_visit(plan: Plan, request: OfferRequest, client: Client, window: TimeWindow, *,
                visit_id: str | None = None, provider_id: str | None = None) -> Visit:
    """Return the visit a request asks for, starting inside ``window`` (a new id unless given: ``booked-N``).

    An installation (``installs``) needs its item as a skill of the technician, as generated plans give them.
    """
    vid = visit_id or free_id("booked-", plan.has_visit)
    skills = request.required_skills | ({request.installs} if request.installs is not None else set())
    return Visit(vid, client.id, request.kind, window, request.duration_min,
                 provider_id=provider_id or request.provider_id, required_skills=frozenset(skills),
                 workers_required=request.workers_required, needs_equipment=request.needs_equipment,
                 installs=request.installs, extra={"booked": True})


def with_equipment(plan: Plan, client_id: str, item: str, installed_from: int | None) -> Plan:
    """Return the plan with ``item`` in the client's equipment, in place from ``installed_from`` (``None``: all day).

    A plan where the client already has the item in place no later keeps it; one without the client is returned as is.
    """
    clients, changed = [], False
    for c in plan.clients:
        if c.id == client_id:
            have = next((e for e in c.equipment if e.item == item), None)
            if have is None or (have.installed_from is not None
                                and (installed_from is None or installed_from < have.installed_from)):
                kept = tuple(e for e in c.equipment if e.item != item)
                c, changed = dataclasses.replace(c, equipment=(*kept, Equipment(item, installed_from))), True
        clients.append(c)
    return dataclasses.replace(plan, clients=tuple(clients)) if changed else plan


def booked_plan(plan: Plan, client: Client, visit: Visit) -> Plan:
    """Return the plan with ``visit`` added (and ``client``, if new); every other record as it was."""
    try:
        plan.client(client.id)
    except KeyError:
        return plan.extended(clients=[client], visits=[visit])
    return plan.extended(visits=[visit])


# --------------------------------------------------------------------------- offers

@dataclass(frozen=True, slots=True)
class Slot:
    """One visit as quoted: on ``date``, in the start window ``window_start``-``window_end`` (seconds).

    The worker(s) can start at ``start``, a whole minute inside the window,
    before stop ``positions`` of their days (counting stops of visits in the
    plan); it adds ``extra_travel_s`` of travel to the roster (both workers'
    for a double-handed visit) and ``extra_cost`` (pounds: that travel at the
    provider's hourly rate). ``known_worker``: one of the workers is preferred
    by the client or visited them in the last 28 days.
    """

    date: dt.date
    window_start: int
    window_end: int
    start: int
    worker_ids: tuple[str, ...]
    positions: tuple[int, ...]
    extra_travel_s: int
    extra_cost: float
    known_worker: bool
    provider_id: str

    def to_dict(self) -> dict[str, Any]:
        """Return the slot in its JSON form (times ``HH:MM``)."""
        return {"date": self.date.isoformat(), "window": {"start": format_hhmm(self.window_start),
                                                          "end": format_hhmm(self.window_end)},
                "start": format_hhmm(self.start), "worker_ids": list(self.worker_ids),
                "positions": list(self.positions), "extra_travel_s": self.extra_travel_s,
                "extra_cost": self.extra_cost, "known_worker": self.known_worker, "provider_id": self.provider_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Slot:
        """Read a slot written by :meth:`to_dict`."""
        from scheduler.timeutil import parse_hhmm

        return cls(dt.date.fromisoformat(data["date"]), parse_hhmm(data["window"]["start"]),
                   parse_hhmm(data["window"]["end"]), parse_hhmm(data["start"]), tuple(data["worker_ids"]),
                   tuple(data["positions"]), int(data["extra_travel_s"]), float(data["extra_cost"]),
                   bool(data["known_worker"]), data["provider_id"])


@dataclass(frozen=True, slots=True)
class Offer:
    """What a resident may book: one :class:`Slot`, or one per date of a repeat (the same window each time)."""

    slots: tuple[Slot, ...]
    green: bool = False

    @property
    def date(self) -> dt.date:
        """The (first) date."""
        return self.slots[0].date

    @property
    def window_start(self) -> int:
        """Start of the start window (seconds since midnight)."""
        return self.slots[0].window_start

    @property
    def window_end(self) -> int:
        """End of the start window (seconds since midnight)."""
        return self.slots[0].window_end

    @property
    def extra_travel_s(self) -> int:
        """Travel the offer adds, every date together (seconds)."""
        return sum(s.extra_travel_s for s in self.slots)

    @property
    def extra_cost(self) -> float:
        """Cost of that travel (pounds)."""
        return round(sum(s.extra_cost for s in self.slots), 2)

    @property
    def known_worker(self) -> bool:
        """Whether a worker the client knows comes on every date."""
        return all(s.known_worker for s in self.slots)

    @property
    def provider_id(self) -> str:
        """The provider."""
        return self.slots[0].provider_id

    def to_dict(self) -> dict[str, Any]:
        """Return the offer in its JSON form."""
        return {"date": self.date.isoformat(), "window": {"start": format_hhmm(self.window_start),
                                                          "end": format_hhmm(self.window_end)},
                "green": self.green, "extra_travel_s": self.extra_travel_s, "extra_cost": self.extra_cost,
                "known_worker": self.known_worker, "provider_id": self.provider_id,
                "slots": [s.to_dict() for s in self.slots]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Offer:
        """Read an offer written by :meth:`to_dict`."""
        return cls(tuple(Slot.from_dict(s) for s in data["slots"]), bool(data.get("green", False)))


@dataclass(frozen=True, slots=True)
class Quote:
    """The answer to a request: ranked offers, or (when there are none) why, in the resident's words.

    ``codes`` maps each date searched with no offer to the reason code.
    """

    offers: tuple[Offer, ...]
    reason: str | None = None
    codes: Mapping[dt.date, str] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the quote in its JSON form (offers numbered from 1 in rank order)."""
        return {"offers": [{"n": i, **o.to_dict()} for i, o in enumerate(self.offers, 1)], "reason": self.reason,
                "codes": {d.isoformat(): c for d, c in sorted(self.codes.items())}}


def slot_starts(earliest: int, latest: int, slot_s: int, preferred: Sequence[TimeWindow] = ()) -> list[tuple[int, int]]:
    """Return (window start, start) of each slot-grid window a start in ``earliest``-``latest`` can fall in.

    Windows are ``[t, t + slot_s)`` with ``t`` a multiple of ``slot_s`` since
    midnight; the start is the first whole minute of the window the worker can
    make (``earliest``..``latest``, whole minutes, seconds since midnight).
    With ``preferred`` times, a window must lie inside one of them.
    """
    out = []
    t = earliest // slot_s * slot_s
    while t <= latest and t + slot_s <= DAY_S:
        start = max(t, earliest)
        if start < t + slot_s and start <= latest and window_open(t, slot_s, preferred):
            out.append((t, start))
        t += slot_s
    return out


def window_open(t: int, slot_s: int, preferred: Sequence[TimeWindow] = ()) -> bool:
    """Whether the slot-grid window from ``t`` may be offered: inside the day and, with ``preferred``, one of them."""
    return t + slot_s <= DAY_S and (not preferred or any(w.start <= t and t + slot_s <= w.end for w in preferred))


def mark_green(offers: Sequence[Offer]) -> list[Offer]:
    """Return the offers with ``green`` set: those that add little travel, so a flexible resident helps the round.

    An offer is green when every slot adds at most :data:`GREEN_MAX_S` of travel
    per worker, or when each slot is in the lowest quartile of its date's slots
    by extra travel and adds at most :data:`GREEN_QUARTILE_MAX_S` per worker.
    """
    by_date: dict[dt.date, list[int]] = {}
    for o in offers:
        for s in o.slots:
            by_date.setdefault(s.date, []).append(s.extra_travel_s)
    quartile = {d: sorted(v)[(len(v) - 1) // 4] for d, v in by_date.items()}

    def green(s: Slot) -> bool:
        each = s.extra_travel_s / len(s.worker_ids)
        return each <= GREEN_MAX_S or (s.extra_travel_s <= quartile[s.date] and each <= GREEN_QUARTILE_MAX_S)

    return [dataclasses.replace(o, green=all(green(s) for s in o.slots)) for o in offers]


def rank(offers: Iterable[Offer]) -> list[Offer]:
    """Rank offers: green first, then by the travel they add, then by date and time.

    Green first because a resident who is flexible should see first the slots
    that help the round; then the least added travel (the cheapest for the
    provider, the least driving); then the earliest, so that among equals the
    resident gets the soonest visit.
    """
    return sorted(offers, key=lambda o: (not o.green, o.extra_travel_s, o.date, o.window_start, o.provider_id))


# --------------------------------------------------------------------------- in the resident's words

#: A worker of each kind of service, as a resident says it.
WORKER_WORDS = {"care": "carer", "hairdressing": "hairdresser", "delivery": "driver", "equipment": "technician"}

#: The one table from the rules' reason codes to what a resident is told when no slot is offered on a date.
#: ``{worker}`` is the kind of worker, ``{workers}`` its plural, ``{day}`` the date (``Tuesday 24 November``).
RESIDENT_WORDS: dict[str, str] = {
    "no_provider": "no {worker} works on {day} in your area",
    "skill": "no {worker} with the skills you need works on {day}",
    "excluded": "the only {workers} working on {day} are ones you asked not to send",
    "gender": "no {worker} of the gender you asked for works on {day}",
    "capacity": "no {worker} working on {day} has room to carry this",
    "working_time": "every {worker} who could come is fully booked on {day}",
    "max_visits": "every {worker} who could come is fully booked on {day}",
    "shift": "no {worker} is working at the times you asked for on {day}",
    "busy": "every {worker} who could come is fully booked on {day}",
    "unreachable": "no {worker} can get to you at the times you asked for on {day}",
    "linked": "no {worker} can come at a time that fits your other visits on {day}",
    "past": "the times you asked for on {day} have already gone",
    "pinned": "the {worker} you asked for cannot come on {day}",
    "double_handed_limit": "no two {workers} who could come together are free on {day}",
    "pair": "no two {workers} are free at the same time on {day}",
    "no_roster": "there is no timetable for {day} yet",
    "recurrence": "no one time is free on every date of your repeat; try fewer days or other times",
    "no_dates": "none of the dates you asked for has a timetable yet",
    "equipment": "{items} has to be installed first: book the installation",
    "minimum_wage": "no {worker} can come on {day} at the times you asked for without being paid below the "
                    "minimum wage; try other times or another day",
}


def in_residents_words(code: str, *, kind: str, date: dt.date | None = None, items: Iterable[str] = ()) -> str:
    """Return what a resident is told for a reason code (:data:`RESIDENT_WORDS`), with the kind and date filled in.

    ``items`` is the equipment the visit needs (``{items}``: "a hoist", "a hoist and a bath lift").
    An unknown code reads as "fully booked".
    """
    worker = WORKER_WORDS.get(kind, "worker")
    day = f"{date:%A} {date.day} {date:%B}" if date is not None else "that day"
    text = RESIDENT_WORDS.get(code, RESIDENT_WORDS["busy"])
    things = " and ".join(f"a {i.replace('_', ' ')}" for i in sorted(items)) or "the equipment"
    return text.format(worker=worker, workers=worker + "s", day=day, items=things)
