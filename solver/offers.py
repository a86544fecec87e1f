r"""Quote delivery-style slots for a resident's request, and book one into the published roster.

:func:`quote` asks every eligible worker's published day (the worker-day
engine, :class:`scheduler.day.WorkerDay`; :func:`scheduler.day.pairs` for two
workers at one minute) where the requested visit could start, on each date
searched, and turns the places into :class:`~scheduler.offers.Offer`\\ s on the
slot grid: ranked, green ones marked, or why nobody can come in the resident's
words (:mod:`scheduler.offers`). A single-handed request asks the days least
travel first (:class:`scheduler.day.Sieve`, :func:`_least_travel_first`): only
where a place could be the best of a slot window.

:func:`book` re-checks an offer against the roster as it is now (a stale offer
is quoted afresh, never booked blind), adds the visit to the plan with the
offer's window, inserts it exactly where it was quoted with every other stop
as it was (:func:`solver.repair.with_visit`) and checks the roster
(:func:`scheduler.validate.check_roster`). :func:`cancel` takes a visit out of
plan and roster.

A new client's home gets travel to and from every location of each day:
:func:`with_location` extends the days' matrices by one point with SciPy's
Dijkstra, once forward and once on the reversed graph, for all days at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from scheduler.day import Answer, Place, Sieve, WorkerDay, pairs
from scheduler.eligibility import eligibility
from scheduler.errors import NetworkError, PlanError, Problem, SolverError
from scheduler.model import Client, Location, Plan, TimeWindow, Visit, Worker
from scheduler.offers import (
    Offer,
    OfferRequest,
    Quote,
    Slot,
    asked_client,
    asked_visit,
    booked_plan,
    in_residents_words,
    mark_green,
    rank,
    recurring_dates,
    slot_starts,
    window_open,
    with_equipment,
)
from scheduler.pay import WorkingTime
from scheduler.roster import Roster, Route, Stop, compute_kpis, make_route
from scheduler.rules import TravelOracle, Violation
from scheduler.rules.equipment import EquipmentRule, served_ends
from scheduler.rules.minimum_wage import DayPay, day_pay, day_time, wage_terms
from scheduler.rules.view import RosterView
from scheduler.shifts import gaps
from scheduler.timeutil import DAY_S
from scheduler.validate import check_roster
from solver.decode import day_start, timed_legs
from solver.matrix import TravelMatrix, _fastest_path_lengths
from solver.network import RoadNetwork, Snap, check_snaps
from solver.repair import remove_stop, with_visit
from solver.travel import PlanTravel

__all__ = ["Booking", "PointTravel", "Published", "book", "cancel", "quote", "warm", "with_location", "without_item"]

#: Codes for a date with no offer, most telling first when workers refuse for different reasons.
_ORDER = ("past", "shift", "unreachable", "linked", "capacity", "double_handed_limit", "working_time", "busy")


@dataclass(frozen=True, slots=True)
class Published:
    """A date's published plan and roster, and the travel between its locations."""

    plan: Plan
    roster: Roster
    travel: TravelOracle

    @property
    def date(self) -> dt.date:
        """The date."""
        return self.plan.date


@dataclass(frozen=True, slots=True)
class Booking:
    """What booking an offer did.

    Booked: ``days`` are the new plan and roster of each date of the offer (the
    visits ``visit_ids``, for client ``client_id``). Stale (``stale``): nothing
    was booked; ``fresh`` are the offers quoted against the rosters as they are now.
    ``later``: for an installation, the other days given after its (first) date,
    their plans with the item in the client's equipment (installed earlier) and
    their rosters as they were; they are to be published too.
    """

    days: tuple[Published, ...] = ()
    visit_ids: tuple[str, ...] = ()
    client_id: str | None = None
    stale: bool = False
    fresh: Quote | None = None
    later: tuple[Published, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the offer was booked."""
        return not self.stale


# --------------------------------------------------------------------------- a new client's travel

def with_location(days: Sequence[Published], network: RoadNetwork, location: Location, *,
                  snap_limit_m: float = 1000.0) -> list[Published]:
    """Return the days with travel to and from ``location`` too (days that know it already are kept).

    One Dijkstra from the point's road node and one on the reversed graph per
    travel mode give the times and lengths of fastest paths both ways to every
    road node; each day's travel gains the row and column of its snapped nodes
    (NumPy indexing, no loop over node pairs) as a :class:`PointTravel`, once per
    distinct travel. Days whose travel is not a :class:`~solver.travel.PlanTravel`
    are kept as they are.

    Raises
    ------
    PlanError
        If the point is more than ``snap_limit_m`` from a road of a mode that must
        reach it (record ``request``, field ``client.location``).
    """
    todo = [d for d in days if isinstance(d.travel, PlanTravel) and _unknown(d.travel, location)]
    if not todo:
        return list(days)
    modes = sorted({m for d in todo for m in d.travel.matrices})  # type: ignore[union-attr]
    legs = {}
    for mode in modes:
        graph = network.mode(mode)
        snap = network.snap(np.array([location.lat]), np.array([location.lon]), mode)
        check_snaps(snap, [("request", None, "client.location")], limit_m=snap_limit_m, network_name=network.name,
                    mode=mode)
        every = np.arange(graph.time_s.shape[0])
        node = snap.node[:1]
        out_s, out_m = _fastest_path_lengths(graph.time_s, graph.length_m, node, every)
        in_s, in_m = _fastest_path_lengths(graph.time_s.T.tocsr(), graph.length_m.T.tocsr(), node, every)
        legs[mode] = (snap, out_s[0], out_m[0], in_s[0], in_m[0])
    grown: dict[int, PointTravel] = {}  # days sharing their travel share its growth
    for d in todo:
        travel = d.travel
        assert isinstance(travel, PlanTravel)
        if id(travel) not in grown:
            grown[id(travel)] = PointTravel(travel, location, {
                mode: (legs[mode][0], *(np.rint(v[travel.matrices[mode].snap.node]).astype(np.int64)
                                        for v in legs[mode][1:])) for mode in travel.matrices})
    return [dataclasses.replace(d, travel=grown[id(d.travel)]) if id(d.travel) in grown else d for d in days]


class PointTravel(PlanTravel):
    """A day's travel and one more location (a new client's home), without copying the day's matrices.

    Legs to and from the new location come from its row and column (whole
    seconds and metres, per travel mode); every other leg from the day's travel.
    ``matrices`` are the day's grown by that row and column, built on first use
    (a re-solve needs them; quoting and booking do not).

    Parameters
    ----------
    base
        The day's travel.
    location
        The new location (matrix row ``len(base.locations)``).
    vectors
        Per mode: the location's snap, then seconds and metres from it to each of
        the day's locations, and from each of them to it.
    """

    def __init__(self, base: PlanTravel, location: Location,
                 vectors: dict[str, tuple[Snap, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> None:
        self.base, self.location = base, location
        self.vectors = {mode: (snap, out_s.tolist(), out_m.tolist(), in_s.tolist(), in_m.tolist())
                        for mode, (snap, out_s, out_m, in_s, in_m) in vectors.items()}
        self.locations = [*base.locations, location]
        self.network_name = base.network_name
        self.users = [*base.users, [("client", "request", "location", None)]]
        self._index = {**base._index, (location.lat, location.lon): len(base.locations)}
        self._grown: dict[str, TravelMatrix] | None = None

    @property  # type: ignore[override]
    def matrices(self) -> dict[str, TravelMatrix]:
        """The day's matrices with the new location's row and column (built on first use)."""
        if self._grown is None:
            self._grown = {}
            for mode, m in self.base.matrices.items():
                snap, out_s, out_m, in_s, in_m = self.vectors[mode]
                self._grown[mode] = TravelMatrix(
                    mode, _grown(m.time_s, np.array(out_s), np.array(in_s)),
                    _grown(m.distance_m, np.array(out_m), np.array(in_m)),
                    Snap(np.append(m.snap.node, snap.node[0]), np.append(m.snap.distance_m, snap.distance_m[0])))
        return self._grown

    def leg(self, worker: Worker, origin: Location, destination: Location) -> tuple[int, int]:
        """Return travel time (seconds) and distance (metres) for a worker's mode."""
        n = len(self.base.locations)
        i, j = self.index(origin), self.index(destination)
        if i < n and j < n:
            return self.base.leg(worker, origin, destination)
        if i == j:
            return 0, 0
        try:
            _, out_s, out_m, in_s, in_m = self.vectors[worker.travel_mode]
        except KeyError:
            raise NetworkError(f"no {worker.travel_mode} travel was computed for this plan") from None
        return (out_s[j], out_m[j]) if i == n else (in_s[i], in_m[i])


def _unknown(travel: PlanTravel, location: Location) -> bool:
    try:
        travel.index(location)
    except KeyError:
        return True
    return False


def _grown(matrix: np.ndarray, out: np.ndarray, into: np.ndarray) -> np.ndarray:
    """Return ``matrix`` with a last row (from the new point) and column (to it), whole units, zero diagonal."""
    n = matrix.shape[0]
    grown = np.zeros((n + 1, n + 1), dtype=matrix.dtype)
    grown[:n, :n] = matrix
    grown[n, :n] = np.rint(out)
    grown[:n, n] = np.rint(into)
    return grown


# --------------------------------------------------------------------------- quoting

def quote(request: OfferRequest, days: Sequence[Published], *, network: RoadNetwork | None = None) -> Quote:
    """Quote every slot the published days have room for, ranked, or say why there is none.

    Parameters
    ----------
    request
        What the resident asks for; its ``dates`` (every day given, when empty)
        are searched, or for a repeat the dates of those it falls on.
    days
        The published plan, roster and travel of each date (one per date).
    network
        The road network, needed when the request is for a new client and the
        days' travel is a :class:`~solver.travel.PlanTravel` (their home gets travel).

    Returns
    -------
    Quote
        Offers ranked by :func:`scheduler.offers.rank`, green ones marked
        (:func:`scheduler.offers.mark_green`); when there are none, the reason in
        the resident's words and the code of each date.

    Raises
    ------
    PlanError
        If the request names a client not in the plans, or a new client's home is
        too far from the roads.
    """
    by_date = {d.date: d for d in days}
    wanted = list(request.dates) or sorted(by_date)
    if request.recurrence is not None:
        wanted = recurring_dates(request.recurrence, wanted)
    if not wanted:
        return Quote((), in_residents_words("no_dates", kind=request.kind), {})
    found = [by_date[d] for d in wanted if d in by_date]
    codes = {d: "no_roster" for d in wanted if d not in by_date}
    if request.recurrence is not None and codes:
        first = min(codes)
        return Quote((), in_residents_words("no_roster", kind=request.kind, date=first), codes)
    client = _client(request, found)
    found = _travelled(found, client.location, network)
    per_day: dict[dt.date, dict[tuple[int, str], Slot]] = {}
    for day in found:
        slots, code = _day_slots(request, day, client)
        per_day[day.date] = slots
        if code is not None:
            codes[day.date] = code
    if request.recurrence is None:
        offers = [Offer((s,)) for d in found for s in per_day[d.date].values()]
    else:
        keys = set.intersection(*(set(per_day[d.date]) for d in found)) if found else set()
        offers = [Offer(tuple(per_day[d.date][k] for d in found)) for k in sorted(keys)]
    offers = rank(mark_green(offers))
    if offers:
        return Quote(tuple(offers), None, codes)
    if request.recurrence is not None and found and all(per_day[d.date] for d in found):
        return Quote((), in_residents_words("recurrence", kind=request.kind), codes)
    first = min(codes)
    return Quote((), in_residents_words(codes[first], kind=request.kind, date=first,
                                        items=request.needs_equipment), codes)


def _client(request: OfferRequest, days: Sequence[Published]) -> Client:
    """Return the request's client: the plans', or the new one with an id free in every plan."""
    if not days:
        raise PlanError([Problem("request", None, "dates", "no published day to quote")])
    if request.client_id is not None:  # a client of any of the plans (one booked on another date too)
        for day in days:
            if any(c.id == request.client_id for c in day.plan.clients):
                return asked_client(day.plan, request)
        return asked_client(days[0].plan, request)  # raises: no plan knows the client
    if request.new_client and request.new_client.id:
        return asked_client(days[0].plan, request)
    taken = {c.id for d in days for c in d.plan.clients}
    n = 1
    while f"resident-{n}" in taken:
        n += 1
    return dataclasses.replace(asked_client(days[0].plan, request), id=f"resident-{n}")


def _travelled(days: Sequence[Published], location: Location, network: RoadNetwork | None) -> list[Published]:
    """Return the days, with travel to a new client's home where it is missing (needs ``network``)."""
    if not any(isinstance(d.travel, PlanTravel) and _unknown(d.travel, location) for d in days):
        return list(days)
    if network is None:
        raise PlanError([Problem("request", None, "client.location", "a new client's home needs the road network "
                                 "to measure travel")])
    return with_location(days, network, location)


def _search_window(request: OfferRequest) -> TimeWindow:
    """Return the starts a request can take at all: the preferred times' span, within the day."""
    last = DAY_S - request.duration_min * 60
    if request.preferred_times:
        lo = min(w.start for w in request.preferred_times)
        hi = max(w.end for w in request.preferred_times)
        return TimeWindow(min(lo, last), max(min(lo, last), min(hi, last)))
    return TimeWindow(0, last)


def _asked(request: OfferRequest, day: Published, client: Client, window: TimeWindow,
           visit_id: str | None = None, provider_id: str | None = None) -> tuple[Plan, Visit]:
    """Return the day's plan with the asked visit (and the client, if the plan lacks them) in it, and the visit."""
    plan = day.plan
    visit = asked_visit(plan, request, client, window, visit_id=visit_id, provider_id=provider_id)
    return booked_plan(plan, client, visit), visit


def _extra(wd: WorkerDay, travel_s: int) -> int:
    """Travel a place adds to the roster: the engine's, plus the home-to-home leg a day without stops lacks."""
    if wd.day.nodes:
        return travel_s
    return travel_s + wd.tt[wd.day.start_loc][wd.day.end_loc]


def _cost(plan: Plan, provider_id: str, travel_s: int) -> float:
    """Cost of added travel (pounds) at the provider's hourly rate (0 without one)."""
    pay = plan.provider(provider_id).pay
    rate = pay.hourly_rate if pay is not None and pay.model == "hourly" and pay.hourly_rate else 0.0
    return round(travel_s / 3600 * rate, 2)



@dataclass(frozen=True, slots=True)
class _Loan:
    """Cached worker days lent to a request for a client the day's plan lacks: their plan, and their home's legs."""

    plan: Plan
    own: Plan
    travel: TravelOracle


class _Rows:
    """A travel's matrices as Python rows, shared by every worker day of the travel (one per mode), and its lock.

    ``index`` maps each location to its row; ``modes`` each travel mode to its
    rows (built on first use). Plain lists because the engine reads legs one at
    a time, where NumPy's scalar indexing costs more than the lookup; the same
    whole seconds as ``travel.leg``. Hold ``lock`` while asking the worker days
    or building them: :func:`_lend` grows the rows by a new client's home for
    one question.
    """

    __slots__ = ("index", "lock", "matrices", "modes", "travel")

    def __init__(self, travel: TravelOracle) -> None:
        self.travel, self.lock = travel, threading.Lock()
        self.index: dict[Location, int] = {}
        self.modes: dict[str, list[list[int]]] = {}
        self.matrices: dict[str, np.ndarray] = {}
        if isinstance(travel, PlanTravel):
            self.index = {loc: i for i, loc in enumerate(travel.locations)}

    def of(self, mode: str) -> tuple[dict[Location, int], list[list[int]]] | None:
        """Return the index and rows of a mode (``None``: not a :class:`PlanTravel` of that mode; ask ``travel``)."""
        travel = self.travel
        if not isinstance(travel, PlanTravel) or mode not in travel.matrices:
            return None
        rows = self.modes.get(mode)
        if rows is None:
            self.matrices[mode] = travel.matrix(mode).time_s
            rows = self.modes[mode] = self.matrices[mode].tolist()
        return self.index, rows


@dataclass(slots=True)
class _Kept:
    """A published day's worker days (built on first use) and the travel rows they read.

    Per travel mode, ``sieves`` hold a :class:`~scheduler.day.Sieve` over every
    worker day of that mode, its index by worker, and what a place adds to each
    day beside its own travel (:func:`_extra`).
    """

    day: Published
    shared: _Rows
    built: dict[str, WorkerDay]
    sieves: dict[str, tuple[Sieve, dict[str, int], np.ndarray]]


#: Per travel: its :class:`_Rows` (days of one travel share them).
_ROWS: dict[int, _Rows] = {}
_ROWS_LOCK = threading.Lock()
#: Worker days built for a published day, reused by every question about it: roster id -> what is kept.
_DAYS: dict[int, _Kept] = {}
_DAYS_KEPT = 32


def _rows(travel: TravelOracle) -> _Rows:
    with _ROWS_LOCK:
        hit = _ROWS.get(id(travel))
        if hit is None or hit.travel is not travel:
            if len(_ROWS) >= _DAYS_KEPT:
                _ROWS.clear()
            hit = _ROWS[id(travel)] = _Rows(travel)
        return hit


def _kept(day: Published) -> _Kept:
    """Return what is kept of a published day (made on first use)."""
    base = day.travel  # the day's own travel: without the point a request added for a client it lacks
    while isinstance(base, PointTravel) and not any(c.location == base.location for c in day.plan.clients):
        base = base.base
    hit = _DAYS.get(id(day.roster))
    if hit is None or hit.day.roster is not day.roster or hit.day.plan is not day.plan or hit.day.travel is not base:
        if len(_DAYS) >= _DAYS_KEPT:
            _DAYS.clear()
        hit = _DAYS[id(day.roster)] = _Kept(dataclasses.replace(day, travel=base), _rows(base), {}, {})
    return hit


def _build(kept: _Kept, worker_ids: Iterable[str]) -> None:
    """Build the worker days missing of ``worker_ids``. Hold the rows' lock (they are not lent meanwhile)."""
    plan, roster, travel = kept.day.plan, kept.day.roster, kept.day.travel
    for wid in worker_ids:
        if wid not in kept.built:
            worker = plan.worker(wid)
            kept.built[wid] = WorkerDay(plan, worker, roster.route(wid), travel,
                                        rows=kept.shared.of(worker.travel_mode), fixed_breaks=True)


def _lend(days: Iterable[WorkerDay], shared: _Rows, loan: _Loan, client: Location) -> bool:
    """Let cached worker days read a client their plan lacks: the plan with them, and their home's legs.

    A home the travel rows lack gains its row and column (one more location,
    index ``len(base.locations)``, as :class:`PointTravel` numbers it); a home
    they know (another client's) keeps its own. Returns whether the rows grew;
    :func:`_give_back` takes the row and column out again and gives the days
    their own plan back. Hold the rows' lock.
    """
    for wd in days:
        wd.plan = loan.plan
    travel = loan.travel
    if not (isinstance(travel, PointTravel) and travel.location == client and shared.modes
            and client not in shared.index):
        return False
    shared.index[client] = travel.index(client)  # len(base.locations): the row each mode gains
    for mode, rows in shared.modes.items():
        _, out_s, _, in_s, _ = travel.vectors[mode]
        for row, s in zip(rows, in_s, strict=True):
            row.append(s)
        rows.append([*out_s, 0])
    return True


def _give_back(days: Iterable[WorkerDay], shared: _Rows, loan: _Loan, client: Location, grown: bool) -> None:
    """Undo :func:`_lend`: each day's own plan, and (``grown``) no legs to the home it does not know."""
    for wd in days:
        wd.plan = loan.own
    if grown:
        del shared.index[client]
        for rows in shared.modes.values():
            rows.pop()
            for row in rows:
                row.pop()


def warm(days: Iterable[Published]) -> None:
    """Build every worker's day of each published day now (as a publish would), so that the first quote is quick.

    Then everything alive is moved out of the cyclic garbage collector's sight
    (:func:`gc.freeze`): the published days are long-lived and large (plans,
    worker days, travel rows), and without it every full collection walks them
    again, tens of milliseconds that land on whichever quote triggers it (the
    double-handed p99 in ``benchmarks/quote.py`` halves). Reference counting
    still frees them once unused; only garbage in reference cycles among them
    would stay, and these structures hold none.
    """
    for day in days:
        kept = _kept(day)
        with kept.shared.lock:
            _build(kept, [w.id for w in day.plan.workers])
            for mode in sorted({w.travel_mode for w in day.plan.workers}):
                _sieve(kept, mode)
    gc.freeze()


@contextmanager
def _asking(plan: Plan, visit: Visit, day: Published, worker_ids: Sequence[str]) -> Iterator[_Kept]:
    """Hold the day's worker days for questions about ``visit`` of ``plan``: built, locked, lent a new client's home.

    Yields what is kept of the day; its ``built`` worker days (built once per
    published day: a booking makes a new one) read ``plan`` meanwhile: as they
    are when ``plan`` only adds a visit of a client the day knows, lent
    (:func:`_lend`) when it adds a new client.
    """
    kept = _kept(day)
    loan = _Loan(plan, kept.day.plan, day.travel) if len(plan.clients) != len(day.plan.clients) else None
    with kept.shared.lock:
        _build(kept, worker_ids)
        home = plan.visit_location(visit)
        asked = [kept.built[wid] for wid in worker_ids]
        grown = _lend(asked, kept.shared, loan, home) if loan is not None else False
        try:
            yield kept
        finally:
            if loan is not None:
                _give_back(asked, kept.shared, loan, home, grown)


def _answers(plan: Plan, visit: Visit, day: Published, worker_ids: Sequence[str], *,
             why: bool = False) -> tuple[dict[str, WorkerDay], list[Answer]]:
    """Each worker's places for ``visit`` in the day (and, with ``why``, the refusal of a day with none).

    A visit that needs equipment starts once it is in place: installed earlier, or by an installation the
    roster serves (from its end); with neither, every day refuses it (code ``equipment``).
    """
    with _asking(plan, visit, day, worker_ids) as kept:
        ends = served_ends(day.roster.routes) if visit.needs_equipment else None
        return kept.built, [kept.built[wid].ask(visit, ends=ends, why=why) for wid in worker_ids]


def _sieve(kept: _Kept, mode: str) -> tuple[Sieve, dict[str, int], np.ndarray] | None:
    """Return the day's sieve over every worker day of a travel mode, its index by worker, and their extra travel.

    ``None``: the days of that mode do not read one matrix. Hold the rows' lock.
    """
    hit = kept.sieves.get(mode)
    if hit is None:
        if kept.shared.of(mode) is None:
            return None
        ids = [w.id for w in kept.day.plan.workers if w.travel_mode == mode]
        _build(kept, ids)
        days = [kept.built[wid] for wid in ids]
        hit = kept.sieves[mode] = (Sieve(days, kept.shared.matrices[mode]), {wid: i for i, wid in enumerate(ids)},
                                   np.array([_extra(wd, 0) for wd in days], dtype=np.int64))
    return hit


def _least_travel_first(request: OfferRequest, plan: Plan, visit: Visit, day: Published, worker_ids: Sequence[str],
                        offer: Callable[[tuple[str, ...], tuple[int, ...], int, int, int], None],
                        best: dict[tuple[int, str], Slot]) -> bool:
    """Offer the places of a single-handed visit that can be the best of a slot window, least added travel first.

    Every worker day of a mode is bounded at once (:class:`~scheduler.day.Sieve`);
    a day is asked (:meth:`~scheduler.day.WorkerDay.places`) only at a position
    whose bounds reach a window of the slot grid whose best so far adds as much
    travel or more. A place asked nowhere would add more travel than the best of
    each window it could fall in, so the best of every window (``best``, kept by
    ``offer``) is the one asking every place gives. Returns ``False``, having done
    nothing, when a day does not read one travel matrix (ask every place then).
    """
    slot_s, preferred = request.slot_s, request.preferred_times
    grid = [-math.inf if not window_open(k * slot_s, slot_s, preferred) else math.inf
            for k in range(DAY_S // slot_s)]
    floors: dict[str, list[float]] = {}
    modes: dict[str, list[str]] = {}
    for wid in worker_ids:
        modes.setdefault(plan.worker(wid).travel_mode, []).append(wid)
    with _asking(plan, visit, day, worker_ids) as kept:
        sieves = {mode: _sieve(kept, mode) for mode in modes}
        if any(v is None for v in sieves.values()):
            return False
        home = plan.visit_location(visit)
        here = kept.shared.index[home]
        travel = day.travel
        for mode, ids in modes.items():
            sieve, index, plus = sieves[mode]  # type: ignore[misc]
            away = None
            if here >= len(sieve.matrix):  # a new client's home, lent: its travel is the request's
                assert isinstance(travel, PointTravel)
                _, out_s, _, in_s, _ = travel.vectors[mode]
                away = (in_s, out_s)
            for extra, i, position, lo, hi in sieve.candidates(visit, here, [index[w] for w in ids], plus=plus,
                                                               away=away):
                wd = sieve.days[i]
                provider_id = wd.worker.provider_id
                floor = floors.get(provider_id)
                if floor is None:
                    floor = floors[provider_id] = list(grid)
                if max(floor[lo // slot_s:hi // slot_s + 1], default=-math.inf) < extra:
                    continue  # every window it reaches has a best adding less travel
                for p in wd.places(visit, positions=(position,)):
                    offer((wd.worker.id,), (p.position,), p.earliest, p.latest, _extra(wd, p.travel_s))
                    for t, _ in slot_starts(p.earliest, p.latest, slot_s, preferred):
                        floor[t // slot_s] = best[(t, provider_id)].extra_travel_s
    return True


def _day_slots(request: OfferRequest, day: Published, client: Client
               ) -> tuple[dict[tuple[int, str], Slot], str | None]:
    """Every slot of one date, the best per (window start, provider), and the reason code when there is none."""
    plan, visit = _asked(request, day, client, _search_window(request))
    elig = eligibility(plan, visit)
    if not elig.ok:
        return {}, elig.code or "no_provider"
    best: dict[tuple[int, str], Slot] = {}
    preferred = request.preferred_times
    known = set(client.preferred_worker_ids)
    wage = _Wage(plan, visit, day)
    # Mode hard: every candidate of a window is kept, and the best the minimum wage allows is taken at the end
    # (the fewest questions of the rule: in order, until one is allowed).
    held: dict[tuple[int, str], list[tuple[int, bool, int, tuple[str, ...], tuple[int, ...]]]] = {}

    def offer(wids: tuple[str, ...], positions: tuple[int, ...], lo: int, hi: int, extra: int) -> None:
        provider_id = plan.worker(wids[0]).provider_id
        is_known = None
        for t, start in slot_starts(lo, hi, request.slot_s, preferred):
            key = (t, provider_id)
            if is_known is None:
                is_known = any(w in known or plan.familiar(client.id, w) for w in wids)
            if wage.hard:
                held.setdefault(key, []).append((extra, not is_known, start, wids, positions))
                continue
            old = best.get(key)
            if old is not None and extra > old.extra_travel_s:
                continue
            if old is None or (extra, not is_known, start, wids) < (old.extra_travel_s, not old.known_worker,
                                                                    old.start, old.worker_ids):
                best[key] = Slot(plan.date, t, t + request.slot_s, start, wids, positions, extra,
                                 _cost(plan, provider_id, extra), is_known, provider_id)

    def allowed() -> None:
        for (t, provider_id), candidates in held.items():
            candidates.sort(key=lambda c: c[:4])
            for extra, unknown, start, wids, positions in candidates:
                if wage.allows(wids, positions, start):
                    best[(t, provider_id)] = Slot(plan.date, t, t + request.slot_s, start, wids, positions, extra,
                                                  _cost(plan, provider_id, extra), not unknown, provider_id)
                    break

    if request.workers_required == 1:
        if wage.hard or visit.needs_equipment or not _least_travel_first(request, plan, visit, day,
                                                                         elig.worker_ids, offer, best):
            days, answers = _answers(plan, visit, day, elig.worker_ids)
            for a in answers:
                wd = days[a.worker_id]
                for p in a.places:
                    offer((a.worker_id,), (p.position,), p.earliest, p.latest, _extra(wd, p.travel_s))
    else:
        days, answers = _answers(plan, visit, day, elig.worker_ids)
        fits = None
        if wage.hard:
            def fits(one: tuple[int, str, Place, int, int], two: tuple[int, str, Place, int, int], start: int) -> bool:
                return wage.allows((one[1], two[1]), (one[2].position, two[2].position), start)
        for group in _in_slots(plan, request, days, answers).values():
            pair = _cheapest_pair(group, fits)
            if pair is not None:
                (c1, w1, p1, lo1, hi1), (c2, w2, p2, lo2, hi2) = sorted(pair, key=lambda c: c[1])
                offer((w1, w2), (p1.position, p2.position), max(lo1, lo2), min(hi1, hi2), c1 + c2)
    allowed()
    if best:
        return (wage.priced(best) if wage.prices else best), None
    if wage.refused:
        return {}, "minimum_wage"
    return {}, _why(request, _answers(plan, visit, day, elig.worker_ids, why=True)[1])


#: Per published roster: its plan, routes and each worker's route, working time and pay as published.
_PAY: dict[int, tuple[Roster, Plan, dict[str, Route], dict[str, tuple[Route, WorkingTime, DayPay]]]] = {}


class _Wage:
    """The plan's minimum wage as a quote asks it (:func:`scheduler.rules.minimum_wage.day_pay`).

    A worker's day with the offered visit is the route booking would make
    (:func:`solver.repair.insert_stop`: the visit at its start, every other stop
    as it was). In mode ``hard`` an offer that leaves a worker below the
    minimum wage is not made (``allows``; ``refused`` says one was not); in
    modes ``penalty`` and ``price`` the change in the workers' shortfall
    (pounds, what the provider owes to top their pay up) is added to the
    offer's ``extra_cost`` (``priced``). Workers whose pay cannot fall below the
    minimum (:attr:`scheduler.rules.minimum_wage.WageTerms.at_risk`) are not asked.
    """

    def __init__(self, plan: Plan, visit: Visit, day: Published) -> None:
        mode = plan.minimum_wage.mode
        self.plan, self.visit, self.day = plan, visit, day
        self.hard, self.prices = mode == "hard", mode in ("penalty", "price")
        self.refused = False
        self._risky: dict[str, bool] = {}
        self._after: dict[tuple[str, int, int], DayPay] = {}
        self._kept: dict[str, list[Stop]] = {}
        self._blocks: dict[str, list[tuple[int, int]]] = {}

    def _route(self, worker_id: str) -> Route:
        """Return the worker's published route, its stops of visits in the plan (as booking counts positions)."""
        return self._published(worker_id)[0]

    def _published(self, worker_id: str) -> tuple[Route, WorkingTime, DayPay]:
        """Return the worker's published route, working time and pay (once per published day and worker)."""
        roster = self.day.roster
        kept = _PAY.get(id(roster))
        if kept is None or kept[0] is not roster or kept[1] is not self.day.plan:
            if len(_PAY) >= _DAYS_KEPT:
                _PAY.clear()
            kept = _PAY[id(roster)] = (roster, self.day.plan, {r.worker_id: r for r in roster.routes}, {})
        routes, done = kept[2], kept[3]
        hit = done.get(worker_id)
        if hit is None:
            route = routes.get(worker_id) or make_route(worker_id, ())
            if not all(self.plan.has_visit(st.visit_id) for st in route.stops):
                route = dataclasses.replace(route, stops=tuple(st for st in route.stops
                                                               if self.plan.has_visit(st.visit_id)))
            time = day_time(self.plan, route)
            hit = done[worker_id] = (route, time, day_pay(self.plan, route, time=time))
        return hit

    def risky(self, worker_id: str) -> bool:
        """Whether the worker's pay could fall below the minimum wage at all."""
        hit = self._risky.get(worker_id)
        if hit is None:
            terms = wage_terms(self.plan, self.plan.worker(worker_id))
            hit = self._risky[worker_id] = terms is not None and terms.at_risk
        return hit

    def after(self, worker_id: str, position: int, start: int) -> DayPay:
        """Return the worker's day with the visit before stop ``position``, starting at ``start``.

        Booking (:func:`solver.repair.insert_stop`, :func:`solver.decode.timed_route`)
        keeps every stop's start and end and times each leg just in time; only the new
        stop's leg and the next stop's change, so only those two are timed here, by the
        same :func:`solver.decode.timed_legs` and :func:`solver.decode.day_start`.
        """
        key = (worker_id, position, start)
        hit = self._after.get(key)
        if hit is None:
            route, stops = self._route(worker_id), self._stops(worker_id)
            worker, travel, visit = self.plan.worker(worker_id), self.day.travel, self.visit
            blocks = self._blocks.get(worker_id)
            if blocks is None:
                blocks = self._blocks[worker_id] = [(g.start, g.end) for g in gaps(worker)]
            stop = Stop(visit.id, start, start, start + visit.duration_s, 0, 0, visit.client_id)
            if position:
                there, ready = self.plan.visit_location(self.plan.visit(stops[position - 1].visit_id)), \
                    stops[position - 1].end
            else:
                there, ready = worker.start_location, day_start(worker, [stop, *stops], self.day.roster.locked_before)
            timed = timed_legs(self.plan, worker, [stop, *stops[position:position + 1]], travel, there=there,
                               ready=ready, blocks=blocks)
            hit = self._after[key] = day_pay(self.plan, route, old=stops[max(0, position - 1):position + 1],
                                             new=[*stops[max(0, position - 1):position], *timed],
                                             time=self._time(worker_id))
        return hit

    def _time(self, worker_id: str) -> WorkingTime:
        return self._published(worker_id)[1]

    def _stops(self, worker_id: str) -> list[Stop]:
        hit = self._kept.get(worker_id)
        if hit is None:
            hit = self._kept[worker_id] = list(self._route(worker_id).stops)
        return hit

    def before(self, worker_id: str) -> DayPay:
        """Return the worker's day as published."""
        return self._published(worker_id)[2]

    def allows(self, worker_ids: Sequence[str], positions: Sequence[int], start: int) -> bool:
        """Whether no worker of the offer ends the day below the minimum wage (mode ``hard``)."""
        ok = all(not self.risky(w) or not self.after(w, p, start).below
                 for w, p in zip(worker_ids, positions, strict=True))
        self.refused |= not ok
        return ok

    def change(self, worker_ids: Sequence[str], positions: Sequence[int], start: int) -> float:
        """Return the workers' shortfall with the visit less without it (pounds)."""
        return sum(self.after(w, p, start).shortfall - self.before(w).shortfall
                   for w, p in zip(worker_ids, positions, strict=True) if self.risky(w))

    def priced(self, slots: dict[tuple[int, str], Slot]) -> dict[tuple[int, str], Slot]:
        """Return the slots with the shortfall they change in their ``extra_cost``."""
        out = {}
        for key, s in slots.items():
            more = self.change(s.worker_ids, s.positions, s.start)
            out[key] = dataclasses.replace(s, extra_cost=round(s.extra_cost + more, 2)) if more else s
        return out


def _in_slots(plan: Plan, request: OfferRequest, days: dict[str, WorkerDay], answers: Sequence[Answer]
              ) -> dict[tuple[int, str], list[tuple[int, str, Place, int, int]]]:
    """Each worker's places cut to each slot-grid window: (extra travel, worker, place, first, last start)."""
    out: dict[tuple[int, str], list[tuple[int, str, Place, int, int]]] = {}
    last = request.slot_s - 60
    for a in answers:
        provider_id = plan.worker(a.worker_id).provider_id
        wd = days[a.worker_id]
        for p in a.places:
            extra = _extra(wd, p.travel_s)
            for t, start in slot_starts(p.earliest, p.latest, request.slot_s, request.preferred_times):
                out.setdefault((t, provider_id), []).append((extra, a.worker_id, p, start, min(p.latest, t + last)))
    return out


def _cheapest_pair(group: list[tuple[int, str, Place, int, int]],
                   fits: Callable[[tuple[int, str, Place, int, int], tuple[int, str, Place, int, int], int], bool]
                   | None = None
                   ) -> tuple[tuple[int, str, Place, int, int], tuple[int, str, Place, int, int]] | None:
    """Return the two places of different workers sharing a start minute that add the least travel together.

    The places are cut to one slot window; the pair's start is the first
    minute both can make (as :func:`scheduler.day.pairs` pairs places). Branch
    and bound over the places by extra travel: exact, and quick because the
    cheapest places usually pair. ``fits(first, second, start)``, when given,
    must hold too (the minimum wage in mode ``hard``).
    """
    group.sort(key=lambda c: (c[0], c[1], c[3]))
    best, found = None, None
    for i, one in enumerate(group):
        if best is not None and one[0] + group[0][0] >= best:
            break
        for two in group[:i]:
            if best is not None and one[0] + two[0] >= best:
                break
            if one[1] != two[1] and max(one[3], two[3]) <= min(one[4], two[4]) and (
                    fits is None or fits(*sorted((one, two), key=lambda c: c[1]), max(one[3], two[3]))):
                best, found = one[0] + two[0], (two, one)
                break
    return found


def _why(request: OfferRequest, answers: Sequence[Answer]) -> str:
    """Return the reason code of a date with eligible workers but no slot."""
    if any(a.places for a in answers):
        if request.workers_required == 2 and next(pairs(answers), None) is None:
            # One worker has room: a second held back by their double-handed limit is why no pair forms.
            limited = sum(1 for a in answers if a.places) < 2 and any(
                a.refusal is not None and a.refusal.code == "double_handed_limit" for a in answers)
            return "double_handed_limit" if limited else "pair"
        return "busy"
    counts = Counter(a.refusal.code for a in answers if a.refusal is not None)
    if not counts:
        return "busy"
    return min(counts, key=lambda c: (-counts[c], _ORDER.index(c) if c in _ORDER else len(_ORDER)))


# --------------------------------------------------------------------------- booking

def book(request: OfferRequest, offer: Offer, days: Sequence[Published], *, network: RoadNetwork | None = None,
         visit_ids: Sequence[str] | None = None) -> Booking:
    """Book an offer: every slot of it into its date's plan and roster, or none.

    Each slot is checked against the roster as it is now: the same worker(s)
    must be able to start at the quoted minute, adding the travel quoted. If
    any cannot, nothing is booked and the result is stale, with fresh offers
    for the request on those dates. Otherwise the visit joins the plan (a new
    id, the offer's start window, the client added if new) and its stop(s) go
    exactly where quoted, every other stop, time and break kept.

    Parameters
    ----------
    request
        The request the offer answers.
    offer
        The offer, as quoted.
    days
        The published plan, roster and travel of at least the offer's dates.
    network
        The road network, for a new client's travel (as for :func:`quote`).
    visit_ids
        Ids for the new visits, one per slot (default ``booked-N``, free in the plan).

    Returns
    -------
    Booking
        The new plans and rosters, or stale with fresh offers.

    Raises
    ------
    PlanError
        If a date of the offer has no published day.
    SolverError
        If a booked roster breaks a rule (the engine and the validator disagree: a bug).
    """
    by_date = {d.date: d for d in days}
    missing = [s.date for s in offer.slots if s.date not in by_date]
    if missing:
        raise PlanError([Problem("request", None, "dates", f"no published roster for {missing[0]}")])
    mine = [by_date[s.date] for s in offer.slots]
    client = _client(request, [*mine, *days])
    mine = _travelled(mine, client.location, network)
    done = []
    for i, (slot, day) in enumerate(zip(offer.slots, mine, strict=True)):
        vid = visit_ids[i] if visit_ids else None
        plan, visit = _asked(request, day, client, TimeWindow(slot.window_start, min(slot.window_end, DAY_S)),
                             visit_id=vid, provider_id=slot.provider_id)
        where = _still(plan, visit, day, slot)
        if where is None:
            fresh = quote(dataclasses.replace(request, dates=tuple(s.date for s in offer.slots)), days,
                          network=network)
            return Booking(stale=True, fresh=fresh)
        done.append((day, plan, visit, slot, where))
    out = []
    for day, plan, visit, slot, where in done:
        roster = day.roster
        routes = with_visit(plan, roster.routes, visit, slot.start, where, day.travel, roster.locked_before)
        booked = dataclasses.replace(roster, routes=tuple(routes),
                                     kpis=compute_kpis(plan, routes, roster.unassigned))
        broken = _new_violations(check_roster(plan, booked, travel=day.travel), day)
        if broken:
            raise SolverError(f"booking {visit.id} on {plan.date} breaks the roster: {broken[0]} "
                              f"(and {len(broken) - 1} more); please report it")
        out.append(Published(plan, booked, day.travel))
    later: tuple[Published, ...] = ()
    if request.installs is not None:
        out, later = _installed(request.installs, client.id, out, days)
    return Booking(tuple(out), tuple(p.plan.visits[-1].id for p in out), client.id, later=later)


def _new_violations(after: Sequence[Violation], day: Published) -> list[Violation]:
    """Return the violations of a booked roster that the published day did not have already (by rule and record).

    A day published with a broken rule (a plan setting changed since, a roster stored as it was) is not
    the booking's fault; the whole day is checked again only when the booked one has any violation.
    """
    if not after:
        return []
    before = Counter((v.rule, v.record_kind, v.record_id) for v in check_roster(day.plan, day.roster,
                                                                                 travel=day.travel))
    out = []
    for v in after:
        key = (v.rule, v.record_kind, v.record_id)
        if before[key]:
            before[key] -= 1
        else:
            out.append(v)
    return out


def _installed(item: str, client_id: str, booked: Sequence[Published], days: Sequence[Published]
               ) -> tuple[list[Published], tuple[Published, ...]]:
    """Put a booked installation's item in the client's equipment: from its end on its (first) date, then all day.

    Returns the booked days and the other days given after the first date, whose plans gain the item.
    """
    first = min(p.date for p in booked)
    out = []
    for p in booked:
        visit = p.plan.visits[-1]
        end = min(s.end for r in p.roster.routes for s in r.stops if s.visit_id == visit.id)
        plan = with_equipment(p.plan, client_id, item, end if p.date == first else None)
        out.append(dataclasses.replace(p, plan=plan))
    mine = {p.date for p in booked}
    later = tuple(dataclasses.replace(d, plan=with_equipment(d.plan, client_id, item, None)) for d in days
                  if d.date > first and d.date not in mine and any(c.id == client_id for c in d.plan.clients))
    return out, later


def _still(plan: Plan, visit: Visit, day: Published, slot: Slot) -> list[tuple[str, int]] | None:
    """Where each worker of ``slot`` can start ``visit`` at the quoted minute for the quoted travel, or ``None``."""
    if not set(slot.worker_ids) <= set(eligibility(plan, visit).worker_ids):
        return None
    days, answers = _answers(plan, visit, day, slot.worker_ids)
    where, extra = [], 0
    for a, position in zip(answers, slot.positions, strict=True):
        fits = sorted((p.position != position, p.position, p) for p in a.places
                      if p.earliest <= slot.start <= p.latest)
        if not fits:
            return None
        place = fits[0][2]
        where.append((a.worker_id, place.position))
        extra += _extra(days[a.worker_id], place.travel_s)
    if extra != slot.extra_travel_s:
        return None
    wage = _Wage(plan, visit, day)
    if wage.hard and not wage.allows([w for w, _ in where], [p for _, p in where], slot.start):
        return None
    return where


def cancel(visit_id: str, day: Published) -> Published:
    """Take a visit out of a date's plan and roster; every other stop, time and break stays as it was.

    The stop after each of its stops gets its leg from the stop before. An
    installation also takes out the item it put in place (:func:`without_item`).

    Raises
    ------
    PlanError
        If the plan has no such visit, another visit links to it, or (an
        installation) a served visit needs the item it puts in.
    """
    plan, roster = day.plan, day.roster
    if not plan.has_visit(visit_id):
        raise PlanError([Problem("visit", visit_id, "id", f"visit {visit_id!r} is not in the plan of {plan.date}")])
    linked = [v.id for v in plan.visits if v.id != visit_id and any(visit_id in lk[:2] for lk in v.links())]
    if linked:
        raise PlanError([Problem("visit", visit_id, "id", f"visit {linked[0]!r} is linked to it; cancel or "
                                 "unlink that first")])
    kept = dataclasses.replace(plan, visits=tuple(v for v in plan.visits if v.id != visit_id))
    routes = tuple(remove_stop(kept, r, visit_id, day.travel, roster.locked_before)
                   if any(s.visit_id == visit_id for s in r.stops) else r for r in roster.routes)
    left = tuple(u for u in roster.unassigned if u.visit_id != visit_id)
    out = Published(kept, dataclasses.replace(roster, routes=routes, unassigned=left,
                                              kpis=compute_kpis(kept, routes, left)), day.travel)
    visit = plan.visit(visit_id)
    end = served_ends(roster.routes).get(visit_id)
    if visit.installs is not None and end is not None:  # book put the item in place from its end
        out = dataclasses.replace(out, plan=without_item(out, visit.client_id, visit.installs, end))
    return out


def without_item(day: Published, client_id: str, item: str, installed_from: int | None) -> Plan:
    """Return the day's plan without a client's item where a booking put it in place, and check what that leaves.

    Parameters
    ----------
    day
        The date's plan and roster (without the installation visit itself, when that is cancelled).
    client_id, item
        Whose item.
    installed_from
        In place from this time (seconds), or ``None`` for all day: as :func:`book` put it. An item
        in place otherwise (the coordinator's own plan) is left alone and the plan returned as it is.

    Raises
    ------
    PlanError
        If a served visit of the client then breaks the equipment rule (it starts before the item is
        in place, or nothing puts it in place): the booking that installed it cannot go first.
    """
    plan = day.plan
    client = next((c for c in plan.clients if c.id == client_id), None)
    if client is None or not any(e.item == item and e.installed_from == installed_from for e in client.equipment):
        return plan
    client = dataclasses.replace(client, equipment=tuple(e for e in client.equipment if e.item != item))
    kept = dataclasses.replace(plan, clients=tuple(client if c.id == client_id else c for c in plan.clients))
    broken = [v for v in EquipmentRule().check(RosterView(kept, day.roster)) if v.record_id is not None
              and kept.visit(v.record_id).client_id == client_id and item in kept.visit(v.record_id).needs_equipment]
    if broken:
        raise PlanError([Problem("visit", v.record_id, "needs_equipment", f"visit {v.record_id!r} on {plan.date} "
                                 f"needs the {item} this installation puts in place; cancel that first")
                         for v in broken])
    return kept
