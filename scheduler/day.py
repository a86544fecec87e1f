"""The worker-day engine: where a visit can start in one worker's day, at what extra travel, or why not.

Every "does this visit fit in this day" of the project asks here: the first
roster (:mod:`solver.construct`), the validator's "a mandatory visit was left
out but could have been served" (:func:`scheduler.validate.free_places`), the
reasons for left-out visits (:mod:`solver.explain`), the next-best alternative
of a visit (:mod:`solver.why`) and the repair after a short search
(:mod:`solver.repair`). Quoting a slot to a resident will ask here too.

Two layers:

:class:`Day`
    A worker's day as a sequence of stops with the classic earliest and latest
    start of each stop, kept up to date incrementally on :meth:`Day.insert` and
    :meth:`Day.remove` (no rebuild per question). It is unit-agnostic, like
    :mod:`scheduler.shifts`: time in any integer unit, travel as rows
    ``tt[a][b]`` indexed by location keys (matrix indices in minutes for the
    first roster; road-network seconds on :class:`WorkerDay`). It knows the day's
    start and end, blocked time (gaps between stints, rest breaks), the load
    against a capacity, the number of stops against a maximum and the working
    time (visits and travel, home legs included) against a limit, and the
    places of double-handed visits against theirs.
    :meth:`Day.slots` answers every place for a stop in O(1) per position.
:class:`WorkerDay`
    One worker of a plan, their route as it stands (other stops keep their
    times) and road-network travel, in seconds. It adds every other rule of the
    day: stints (a visit lies inside one; travel to a day's first visit within
    it), the rest break a first visit in a long stint would call for, a
    re-plan's lock time and ``off_from`` (:mod:`scheduler.roster`), links to
    visits already placed (:func:`link_bounds`), the equipment a visit needs
    (in place, or installed by a served visit: :mod:`scheduler.rules.equipment`) and, for a double-handed visit,
    a start shared with the other worker (:func:`pairs`). :meth:`WorkerDay.ask`
    gives every :class:`Place` (position, earliest and latest whole-minute
    start, extra travel) or a :class:`~scheduler.rules.base.Refusal` with the
    public reason code and a coordinator's sentence.

Which workers may serve a visit at all (skills, provider, gender, exclusions,
pins) is :mod:`scheduler.eligibility`'s question, asked before this one.

:class:`Sieve` bounds every position of many worker days at once (NumPy), for a
caller that asks the days only where a place could matter (the front door's
quotes, least travel first); :meth:`WorkerDay.places` ``positions`` asks those.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scheduler.model import Location, Plan, Visit, Worker
from scheduler.roster import Route, Stop, plan_locked_before, worker_off_from
from scheduler.rules import double_handed_limit, equipment
from scheduler.rules.base import Refusal
from scheduler.shifts import arrive, break_needs, earliest_start, gaps, latest_start, stints
from scheduler.text import counted
from scheduler.timeutil import DAY_S, format_hhmm

__all__ = ["Answer", "Day", "Link", "NodeData", "Place", "Sieve", "WorkerDay", "link_bounds", "link_window",
           "pairs"]


# --------------------------------------------------------------------------- the sequence (any unit)

@dataclass(slots=True)
class NodeData:
    """What a :class:`Day` knows of each stop it may hold, shared by every day of a roster.

    Each field maps a node (any key: a matrix node, a visit id) to its value:
    ``loc`` its location key into the travel rows, ``lo`` and ``hi`` the first
    and last start allowed (its window, narrowed by a re-plan's lock time),
    ``dur`` its duration and ``demand`` what it carries. ``fixed`` holds the
    start of the nodes that must keep theirs; ``double`` is 1 for a place of a
    double-handed visit, else 0 (``None``: no node is).
    """

    loc: Any
    lo: Any
    hi: Any
    dur: Any
    demand: Any
    fixed: dict = field(default_factory=dict)
    double: Any = None


class Day:
    """A worker's day as a sequence of stops, with the earliest and latest start of each.

    Parameters
    ----------
    data
        The nodes' locations, windows, durations, demands and fixed starts.
    start_loc, end_loc
        Location keys of where the day starts and ends.
    ready, bound
        The day's first moment (leaving the start location) and last (back at
        the end location).
    tt
        Travel time rows, ``tt[a][b]`` for location keys ``a`` and ``b`` (the time unit).
    cost
        Travel cost rows for :meth:`slots`' extra cost; ``tt`` by default.
    blocks
        Blocked time, (start, end) pairs: neither a stop nor travel may use it.
    capacity, max_count, work_cap
        Most load, stops and working time (stops plus travel, home legs included), or ``None``.
    double_cap
        Most places of double-handed visits, or ``None``.
    nodes
        The day's stops in order.
    """

    __slots__ = ("blocks", "bound", "capacity", "cost", "data", "double_cap", "doubles", "earliest", "end_loc",
                 "latest", "load", "max_count", "nodes", "ready", "start_loc", "tt", "work", "work_cap")

    def __init__(self, data: NodeData, *, start_loc: Hashable, end_loc: Hashable, ready: int, bound: int,
                 tt: Any, cost: Any = None, blocks: Iterable[tuple[int, int]] = (),
                 capacity: int | None = None, max_count: int | None = None, work_cap: int | None = None,
                 double_cap: int | None = None, nodes: Iterable[Hashable] = ()) -> None:
        self.data = data
        self.start_loc, self.end_loc, self.ready, self.bound = start_loc, end_loc, ready, bound
        self.tt = tt
        self.cost = tt if cost is None else cost
        self.blocks = sorted(blocks)
        self.capacity, self.max_count, self.work_cap, self.double_cap = capacity, max_count, work_cap, double_cap
        self.nodes = list(nodes)
        self.load = self.doubles = 0
        self.earliest: list[int] = []
        self.latest: list[int] = []
        self.work = 0
        self.refresh()

    def refresh(self) -> list[Hashable]:
        """Recompute every earliest and latest start, the load and working time of the stops as listed.

        Returns the fixed nodes that cannot keep their time.
        """
        d, n = self.data, len(self.nodes)
        self.load = sum(d.demand[x] for x in self.nodes)
        self.doubles = 0 if d.double is None else sum(d.double[x] for x in self.nodes)
        self.earliest, self.latest = [0] * n, [0] * n
        late: list[Hashable] = []
        self._forward(0, None, late)
        self._backward(n - 1, None, late)
        stops = [self.start_loc, *(d.loc[x] for x in self.nodes), self.end_loc]
        tt = self.tt
        self.work = sum(d.dur[x] for x in self.nodes) + sum(tt[a][b] for a, b in zip(stops, stops[1:], strict=False))
        return late

    def _around(self, p: int) -> tuple[Hashable, Hashable]:
        """Location keys before and after position ``p`` (the day's ends at either side)."""
        loc = self.data.loc
        return (self.start_loc if p == 0 else loc[self.nodes[p - 1]],
                self.end_loc if p >= len(self.nodes) else loc[self.nodes[p]])

    def insert(self, x: Hashable, p: int, at: int | None = None) -> None:
        """Put node ``x`` before stop ``p`` (fixed at ``at`` if given); update the times that change."""
        d = self.data
        if at is not None:
            d.fixed[x] = at
        a, b = self._around(p)
        lx, tt = d.loc[x], self.tt
        self.work += d.dur[x] + tt[a][lx] + tt[lx][b] - tt[a][b]
        self.nodes.insert(p, x)
        self.earliest.insert(p, 0)
        self.latest.insert(p, 0)
        self.load += d.demand[x]
        if d.double is not None:
            self.doubles += d.double[x]
        self._forward(p, True)
        self._backward(p, True)

    def remove(self, p: int) -> Hashable:
        """Take out stop ``p`` (and its fixed start); update the times that change; return its node."""
        d = self.data
        x = self.nodes.pop(p)
        del self.earliest[p], self.latest[p]
        a, b = self._around(p)
        lx, tt = d.loc[x], self.tt
        self.work -= d.dur[x] + tt[a][lx] + tt[lx][b] - tt[a][b]
        self.load -= d.demand[x]
        if d.double is not None:
            self.doubles -= d.double[x]
        d.fixed.pop(x, None)
        self._forward(p, False)
        self._backward(p - 1, False)
        return x

    def _forward(self, p: int, fresh: bool | None, late: list[Hashable] | None = None) -> None:
        """Recompute earliest starts from position ``p`` on.

        With ``fresh`` (position ``p`` is new) or ``False``, stop at the first
        unchanged time; with ``None`` go to the end, listing in ``late`` the fixed
        nodes that cannot be reached by their time.
        """
        d = self.data
        loc, dur, lo, fixed, tt, blocks = d.loc, d.dur, d.lo, d.fixed, self.tt, self.blocks
        nodes, e = self.nodes, self.earliest
        if p == 0:
            prev_loc, ready = self.start_loc, self.ready
        else:
            prev_loc, ready = loc[nodes[p - 1]], e[p - 1] + dur[nodes[p - 1]]
        for i in range(p, len(nodes)):
            x = nodes[i]
            if x in fixed and late is None:
                t = fixed[x]
            else:
                if blocks:
                    t = earliest_start(ready, tt[prev_loc][loc[x]], lo[x], dur[x], blocks)
                else:
                    t = max(lo[x], ready + tt[prev_loc][loc[x]])
                if x in fixed:
                    if t > fixed[x]:
                        late.append(x)
                    t = fixed[x]
            if fresh is not None and t == e[i] and (i > p or not fresh):
                return
            e[i] = t
            ready, prev_loc = t + dur[x], loc[x]

    def _backward(self, p: int, fresh: bool | None, late: list[Hashable] | None = None) -> None:
        """Recompute latest starts from position ``p`` back (``fresh`` and ``late`` as for :meth:`_forward`)."""
        d = self.data
        loc, dur, hi, fixed, tt, blocks = d.loc, d.dur, d.hi, d.fixed, self.tt, self.blocks
        nodes, lt = self.nodes, self.latest
        if p < 0:
            return
        if p + 1 >= len(nodes):
            nxt_loc, bound = self.end_loc, self.bound
        else:
            nxt_loc, bound = loc[nodes[p + 1]], lt[p + 1]
        for i in range(p, -1, -1):
            x = nodes[i]
            if blocks:
                t = latest_start(bound, tt[loc[x]][nxt_loc], hi[x], dur[x], blocks)
            else:
                t = min(hi[x], bound - tt[loc[x]][nxt_loc] - dur[x])
            if x in fixed:
                if late is not None and t < fixed[x] and x not in late:
                    late.append(x)
                t = min(t, fixed[x])
            if fresh is not None and t == lt[i] and (i < p or not fresh):
                return
            lt[i] = t
            bound, nxt_loc = t, loc[x]

    def has_room(self, demand: int, double: bool) -> bool:
        """Whether the day's limits leave room for one more stop.

        Its capacity for ``demand``, its most stops, and its most places of
        double-handed visits for one (``double``).
        """
        if self.capacity is not None and self.load + demand > self.capacity:
            return False
        if self.max_count is not None and len(self.nodes) >= self.max_count:
            return False
        return not (double and self.double_cap is not None and self.doubles >= self.double_cap)

    def slots(self, x: Hashable, extra: int = 0, *, blocks: Sequence[tuple[int, int]] | None = None,
              limits: bool = True, positions: Iterable[int] | None = None) -> list[tuple[int, int, int, int]]:
        """Return (extra cost, first start, last start, position) of every place for node ``x``.

        Other stops keep to their earliest and latest starts; ``extra`` is added
        to each place's cost. ``blocks`` replaces the day's blocked time (``()``:
        times and travel only). Without ``limits`` capacity, the most stops and
        the working time are not asked. ``positions`` (in increasing order) asks
        only those: each answers as it does among all.
        """
        if blocks is None:
            blocks = self.blocks
        d = self.data
        if limits and not self.has_room(d.demand[x], self.double_cap is not None and bool(d.double[x])):
            return []
        work_cap = self.work_cap if limits else None
        loc, dur, tt, cost = d.loc, d.dur, self.tt, self.cost
        lx, dx, lo_x, hi_x = loc[x], dur[x], d.lo[x], d.hi[x]
        out = []
        nodes, earliest, latest = self.nodes, self.earliest, self.latest
        n = len(nodes)
        # Blocked time matters only to a visit or journey that reaches it: before the first block
        # starts or after the last ends, the plain bounds are the exact ones.
        first_block = blocks[0][0] if blocks else 0
        last_block = max(b for _, b in blocks) if blocks else 0
        for p in (range(n + 1) if positions is None else positions):
            if p == 0:
                prev_loc, ready = self.start_loc, self.ready
            else:
                prev_loc, ready = loc[nodes[p - 1]], earliest[p - 1] + dur[nodes[p - 1]]
            lo = max(lo_x, ready + tt[prev_loc][lx])
            if blocks and lo + dx > first_block and ready < last_block:
                lo = earliest_start(ready, tt[prev_loc][lx], lo_x, dx, blocks)
            if lo > hi_x:
                break  # later positions only start later (stops keep their times, travel keeps to roads)
            bound = latest[p] if p < n else self.bound
            if bound - dx < lo:
                continue  # no room before the next stop, whatever the travel (the latest start is lower still)
            next_loc = loc[nodes[p]] if p < n else self.end_loc
            on = tt[lx][next_loc]
            hi = min(hi_x, bound - on - dx)
            if blocks and hi < last_block and bound > first_block:
                hi = latest_start(bound, on, hi_x, dx, blocks)
            if lo > hi:
                continue
            if work_cap is not None and (
                    self.work + dx + tt[prev_loc][lx] + on - tt[prev_loc][next_loc] > work_cap):
                continue
            out.append((cost[prev_loc][lx] + cost[lx][next_loc] - cost[prev_loc][next_loc] + extra, lo, hi, p))
        return out


# --------------------------------------------------------------------------- links

@dataclass(frozen=True, slots=True)
class Link:
    """A link of a visit to another one already placed.

    ``first`` says the visit comes first (it ends ``gap_lo``-``gap_hi`` minutes
    before the other starts at ``at``); otherwise it starts that long after the
    other ends at ``at`` (seconds since midnight).
    """

    other_id: str
    first: bool
    gap_lo: int
    gap_hi: int | None
    at: int

    def gap(self) -> str:
        """Return the gap in words: ``10-20`` or ``10+``."""
        return f"{self.gap_lo}-{self.gap_hi}" if self.gap_hi is not None else f"{self.gap_lo}+"


def link_window(duration: int, links: Iterable[tuple[int, int, int | None, bool]], *, per_min: int = 1,
                lo: int, hi: int) -> tuple[int, int]:
    """Narrow ``lo``-``hi``, the starts of a stop of ``duration``, to those its links allow (any time unit).

    Each link is (time, min gap, max gap or ``None``, whether this stop comes
    first): coming first, the stop ends the gap before the other starts at
    ``time``; else it starts the gap after the other ends at ``time``. Gaps are
    in minutes, ``per_min`` units each.
    """
    for at, gap_lo, gap_hi, first in links:
        if first:
            hi = min(hi, at - duration - gap_lo * per_min)
            if gap_hi is not None:
                lo = max(lo, at - duration - gap_hi * per_min)
        else:
            lo = max(lo, at + gap_lo * per_min)
            if gap_hi is not None:
                hi = min(hi, at + gap_hi * per_min)
    return lo, hi


#: Per plan's visits (kept, so their id stays theirs): visit id -> links naming it.
_LINK_INDEX: dict[int, tuple[Sequence[Visit], dict[str, list[tuple[str, str, int, int | None]]]]] = {}


def _links_of(plan: Plan, visit_id: str) -> list[tuple[str, str, int, int | None]]:
    """Return every link (first, then, min gap, max gap) naming the visit, wherever it is declared."""
    hit = _LINK_INDEX.get(id(plan.visits))
    if hit is None or hit[0] is not plan.visits:
        index: dict[str, list[tuple[str, str, int, int | None]]] = {}
        for other in plan.visits:
            for link in other.links():
                index.setdefault(link[0], []).append(link)
                if link[1] != link[0]:
                    index.setdefault(link[1], []).append(link)
        if len(_LINK_INDEX) >= 8:
            _LINK_INDEX.clear()
        hit = _LINK_INDEX[id(plan.visits)] = (plan.visits, index)
    return hit[1].get(visit_id, [])


def link_bounds(plan: Plan, visit: Visit, starts: Mapping[str, int]) -> tuple[int, int, tuple[Link, ...]]:
    """Return the first and last start (seconds) the visit's links to placed visits allow, and those links.

    ``starts`` maps each placed visit to its start (the first of a double-handed
    visit's, as the validator reads them); links to other visits do not bound.
    """
    out, seen = [], set()
    for first_id, then_id, gap_lo, gap_hi in _links_of(plan, visit.id):
        if (first_id, then_id, gap_lo, gap_hi) in seen:
            continue
        seen.add((first_id, then_id, gap_lo, gap_hi))
        if first_id == visit.id and then_id in starts:
            out.append(Link(then_id, True, gap_lo, gap_hi, starts[then_id]))
        elif then_id == visit.id and first_id in starts:
            out.append(Link(first_id, False, gap_lo, gap_hi, starts[first_id] + plan.visit(first_id).duration_s))
    lo, hi = link_window(visit.duration_s, ((k.at, k.gap_lo, k.gap_hi, k.first) for k in out), per_min=60,
                         lo=0, hi=DAY_S)
    return lo, hi, tuple(out)


# --------------------------------------------------------------------------- a worker's day (seconds)

@dataclass(frozen=True, slots=True)
class Place:
    """Room for a visit in a worker's day: before stop ``position``, any whole minute ``earliest``-``latest``.

    ``position`` 0 is before the first stop and the number of stops after the
    last; ``travel_s`` is the travel the visit adds there (previous stop to the
    visit to the next one, less previous stop to next; home legs at the ends).
    """

    position: int
    earliest: int
    latest: int
    travel_s: int


@dataclass(frozen=True, slots=True)
class Answer:
    """A worker's day's answer for a visit: every place, or why there is none."""

    worker_id: str
    places: tuple[Place, ...]
    refusal: Refusal | None = None

    @property
    def cheapest(self) -> Place | None:
        """The place with the least extra travel (the earliest at a tie), or ``None``."""
        return min(self.places, key=lambda p: (p.travel_s, p.earliest), default=None)


class _Row(dict):
    """Travel from one location, asked of the oracle once per destination."""

    __slots__ = ("fn", "origin")

    def __missing__(self, destination: int) -> int:
        value = self.fn(self.origin, destination)
        self[destination] = value
        return value


class _Legs(dict):
    """Travel rows ``tt[a][b]`` over location keys, filled from a leg function as they are read.

    The keys are small whole numbers (:meth:`key` gives a location's), so the
    engine's many reads hash an int, not a :class:`~scheduler.model.Location`.
    """

    __slots__ = ("fn", "keys", "places")

    def __init__(self, fn: Callable[[Location, Location], int]) -> None:
        super().__init__()
        self.keys: dict[Location, int] = {}
        self.places: list[Location] = []
        places = self.places
        self.fn = lambda a, b: fn(places[a], places[b])

    def key(self, location: Location) -> int:
        """Return the location's key (a new one the first time it is seen)."""
        k = self.keys.get(location)
        if k is None:
            k = self.keys[location] = len(self.places)
            self.places.append(location)
        return k

    def __missing__(self, origin: int) -> _Row:
        row = _Row()
        row.fn, row.origin = self.fn, origin
        self[origin] = row
        return row


#: The node key of the visit a question is about (it is not in the day yet).
_ASKED = ("?",)


class WorkerDay:
    """One worker's day as it stands, answering where a visit can start in it and at what extra travel.

    Other stops keep their times. Times are seconds since midnight.

    Parameters
    ----------
    plan
        The plan.
    worker
        The worker.
    route
        Their route as it stands, or ``None`` for an empty day.
    travel
        Road-network travel (anything with ``leg(worker, origin, destination)``
        returning seconds and metres), or pass ``legs``.
    not_before
        A re-plan's lock time (seconds; by default the plan's ``locked_before``):
        nothing new starts before it, and a worker with no stop before it leaves
        home no earlier.
    skip
        A visit of the route to leave out (to ask where else it could go).
    legs
        Travel seconds from one location to another, instead of ``travel``.
    rows
        Travel seconds as a matrix's rows and the row of each location, instead
        of ``travel`` or ``legs``: read as they are (``rows[i][j]``, nothing copied
        or filled in), so one matrix serves every worker day of its travel mode.
    fixed_breaks
        The route's rest breaks are all the day will have (a booking into a
        published roster keeps its breaks and adds none): a visit must not make a
        stint owe a break it lacks, rather than leave room for one.
    """

    def __init__(self, plan: Plan, worker: Worker, route: Route | None = None, travel: Any = None, *,
                 not_before: int | None = None, skip: str | None = None,
                 legs: Callable[[Location, Location], int] | None = None,
                 rows: tuple[Mapping[Location, int], Sequence[Sequence[int]]] | None = None,
                 fixed_breaks: bool = False) -> None:
        if legs is None and rows is None:
            if travel is None:
                raise TypeError("WorkerDay needs travel, legs or rows")
            legs = lambda a, b: travel.leg(worker, a, b)[0]  # noqa: E731
        self.plan, self.worker = plan, worker
        self.stops: list[Stop] = [s for s in (route.stops if route else ()) if plan.has_visit(s.visit_id)
                                  and s.visit_id != skip]
        self.breaks = tuple(route.breaks) if route else ()
        self.stints = stints(worker)
        self.lock = not_before if not_before is not None else plan_locked_before(plan)
        self.off = worker_off_from(worker)
        ready = self.stints[0].start
        if self.lock is not None and not any(s.start < self.lock for s in self.stops):
            ready = max(ready, self.lock)
        if rows is not None:
            self._key: Callable[[Location], int] = rows[0].__getitem__
            self.tt: Any = rows[1]
        else:
            self.tt = _Legs(legs)  # type: ignore[arg-type]
            self._key = self.tt.key
        data = NodeData({}, {}, {}, {}, {}, {}, {})
        for s in self.stops:
            self._know(data, s.visit_id, plan.visit(s.visit_id), s.start, s.end - s.start)
        limit = plan.day_limit_min(worker)
        self.day = Day(data, start_loc=self.key(worker.start_location), end_loc=self.key(worker.end_location),
                       ready=ready,
                       bound=self.stints[-1].end, tt=self.tt,
                       blocks=[(g.start, g.end) for g in gaps(worker)] + [(b.start, b.end) for b in self.breaks],
                       capacity=worker.capacity, max_count=worker.max_visits,
                       work_cap=None if limit is None else limit * 60,
                       double_cap=double_handed_limit.limit(plan, worker), nodes=[s.visit_id for s in self.stops])
        self.limit = limit
        self.after_s = plan.provider(worker.provider_id).break_rule.after_min * 60
        self.fixed_breaks = fixed_breaks
        self.open_needs, self.unowed = self._needs()

    def _needs(self) -> tuple[list[Any], list[Any]]:
        """Return the rest breaks a first visit must leave room for, and those a visit must not make owed.

        Room: breaks owed in stints with no visit yet (a first visit there calls for
        one). Not owed: breaks not owed yet (the day in the stint is short) and not
        taken, where a visit before the first stop or after the last must not make
        the day long enough to owe one (the validator's break rule). With
        ``fixed_breaks`` no break is added, so every break not taken is of the second kind.
        """
        needs = break_needs(self.plan, self.worker)
        untaken = [n for n in needs if not any(b.end - b.start >= n.duration_s
                                               and n.window.start <= b.start <= n.window.end for b in self.breaks)]
        if self.fixed_breaks:
            return [], untaken
        room = [n for n in needs if not any(n.stint.start <= s.start < n.stint.end for s in self.stops)]
        return room, [n for n in untaken if n not in room]

    def key(self, location: Location) -> int:
        """Return the key of a location in the day's travel rows ``tt`` (and its nodes' ``loc``)."""
        return self._key(location)

    def _know(self, data: NodeData, key: Hashable, visit: Visit, start: int, dur: int) -> None:
        data.loc[key] = self.key(self.plan.visit_location(visit))
        data.lo[key] = data.hi[key] = data.fixed[key] = start
        data.dur[key] = dur
        data.demand[key] = visit.demand
        data.double[key] = int(visit.workers_required == 2)

    # ------------------------------------------------------------------ reading the day

    def between(self, position: int) -> tuple[str | None, str | None]:
        """Return the visits before and after ``position`` (``None``: the day's start or end)."""
        nodes = self.day.nodes
        return (nodes[position - 1] if position > 0 else None,
                nodes[position] if position < len(nodes) else None)

    def added_travel(self, visit: Visit, position: int) -> int:
        """Return the travel (seconds) the visit adds at ``position``: there and on, less the leg it replaces."""
        a, b = self.day._around(position)
        here, tt = self.key(self.plan.visit_location(visit)), self.tt
        return tt[a][here] + tt[here][b] - tt[a][b]

    def worked_s(self) -> int:
        """Working time the day's limit counts: visits and travel, home legs included (seconds)."""
        return self.day.work if self.day.nodes else 0

    # ------------------------------------------------------------------ questions

    def bounds(self, visit: Visit, *, within: tuple[int, int] | None = None, at: int | None = None
               ) -> tuple[int, int]:
        """Return the first and last start (seconds) the day allows ``visit`` before asking its stops.

        Its window, from a re-plan's lock time, before the worker is off, ``within``
        and at ``at`` (as :meth:`places`).
        """
        lo, hi = visit.window.start, visit.window.end
        if self.lock is not None:
            lo = max(lo, self.lock)
        if self.off is not None:
            hi = min(hi, self.off - 60)
        if within is not None:
            lo, hi = max(lo, within[0]), min(hi, within[1])
        if at is not None:
            lo, hi = max(lo, at), min(hi, at)
        return lo, hi

    def places(self, visit: Visit, *, within: tuple[int, int] | None = None, at: int | None = None,
               limits: bool = True, rota: bool = True, new_break: bool = True,
               positions: Iterable[int] | None = None) -> list[Place]:
        """Return every place for ``visit``, in day order.

        Parameters
        ----------
        visit
            A visit not in the day.
        within
            First and last start allowed (seconds), e.g. by its links (:func:`link_bounds`).
        at
            The one start allowed (the other worker's of a double-handed visit).
        limits
            Whether capacity, ``max_visits`` and the day's working time count.
        rota
            Whether stints, gaps in availability and rest breaks count (else only times and travel).
        new_break
            Whether a first visit in a long stint must leave room for the rest break it calls for.
        positions
            Only these positions (in increasing order; :meth:`Day.slots`).
        """
        day = self.day
        d = day.data
        here = self.key(self.plan.visit_location(visit))
        lo, hi = self.bounds(visit, within=within, at=at)
        d.loc[_ASKED], d.lo[_ASKED], d.hi[_ASKED] = here, lo, hi
        d.dur[_ASKED], d.demand[_ASKED] = visit.duration_s, visit.demand
        d.double[_ASKED] = int(visit.workers_required == 2)
        out = []
        for travel_s, first, last, p in day.slots(_ASKED, blocks=None if rota else (), limits=limits,
                                                  positions=positions):
            pieces = self._pieces(p, first, last, visit.duration_s, here, new_break) if rota else [(first, last)]
            for a, b in pieces:
                if rota and new_break and self.unowed:
                    a, b = self._unowed(p, a, b, visit.duration_s, here)
                if rota and self.breaks:
                    a, b = self._journeys(p, a, b, visit.duration_s, here)
                a, b = -(-a // 60) * 60, b // 60 * 60
                if a <= b:
                    out.append(Place(p, a, b, travel_s))
        return out

    def _pieces(self, p: int, first: int, last: int, dur: int, here: int,
                new_break: bool) -> list[tuple[int, int]]:
        """Split the starts ``first``-``last`` into those inside a stint that keep clear of blocked time."""
        blocks = self.day.blocks
        out = []
        for stint in self.stints:
            a, b = max(first, stint.start), min(last, stint.end - dur)
            if p == 0:  # travel to the day's first visit happens inside its stint
                a = max(a, arrive(max(stint.start, self.day.ready), self.tt[self.day.start_loc][here], blocks))
            if a > b:
                continue
            cut = [(s - dur, e) for s, e in blocks if s < b + dur and a < e]
            need = next((n for n in self.open_needs if n.stint == stint), None) if new_break else None
            if need is not None:
                room = _free_starts(need.window.start, need.window.end, need.duration_s, blocks)
                if room is None:
                    continue
                cut.append((room[1] - dur, room[0] + need.duration_s))
            for x1, x2 in sorted(cut):
                if x2 <= a or x1 >= x2:
                    continue
                if x1 >= b:
                    break
                if x1 >= a:
                    out.append((a, x1))
                a = max(a, x2)
            if a <= b:
                out.append((a, b))
        return out

    def _journeys(self, p: int, a: int, b: int, dur: int, here: int) -> tuple[int, int]:
        """Narrow the starts ``a``-``b`` (clear of every break) so that a journey after a break follows it whole.

        A rest break between two stops holds no travel (the validator's order
        rule: a stop is reached no sooner than the entry before it ends plus the
        whole leg, as :func:`solver.decode.decode` places breaks). So after a
        break the visit starts a whole leg (in whole minutes) after it ends, and
        before a break the next stop must still be reached a whole leg after it.
        """
        stops, tt, loc = self.stops, self.tt, self.day.data.loc
        prev_end = stops[p - 1].end if p > 0 else None
        there = self.day.start_loc if p == 0 else loc[stops[p - 1].visit_id]
        after = stops[p] if p < len(stops) else None
        for rest in self.breaks:
            if a >= rest.end and (prev_end is None or prev_end <= rest.start):
                a = max(a, rest.end + -(-tt[there][here] // 60) * 60)
            if after is not None and b + dur <= rest.start and rest.end <= after.start \
                    and after.start < rest.end + tt[here][loc[after.visit_id]]:
                return a, a - 1
        return a, b

    def _unowed(self, p: int, a: int, b: int, dur: int, here: int) -> tuple[int, int]:
        """Narrow the starts ``a``-``b`` at ``p`` so that the day stays too short to owe a break it lacks.

        The validator measures the day from the departure (the first leg in whole
        minutes before the first start) to the return home; only a visit before
        the first stop or after the last moves either.
        """
        stops, tt = self.stops, self.tt
        if not stops or 0 < p < len(stops):
            return a, b
        first, last = stops[0], stops[-1]
        loc = self.day.data.loc
        leave = first.start - -(-tt[self.day.start_loc][loc[first.visit_id]] // 60) * 60
        back = last.end + tt[loc[last.visit_id]][self.day.end_loc]
        for need in self.unowed:
            stint = need.stint
            if p == 0:
                top = min(back, stint.end)
                if top - stint.start > self.after_s:
                    a = max(a, top - self.after_s + -(-tt[self.day.start_loc][here] // 60) * 60)
            else:
                bottom = max(leave, stint.start)
                if stint.end - bottom > self.after_s:
                    b = min(b, bottom + self.after_s - dur - tt[here][self.day.end_loc])
        return a, b

    def ask(self, visit: Visit, *, starts: Mapping[str, int] | None = None, at: int | None = None,
            ends: Mapping[str, int] | None = None, why: bool = True) -> Answer:
        """Return every place for ``visit`` in this day, or the :class:`Refusal` saying why there is none.

        ``starts`` are the placed visits' starts (seconds), for the visit's links;
        ``at`` is the start of the other worker of a double-handed visit;
        ``ends`` are the served visits' ends (seconds, :func:`scheduler.rules.equipment.served_ends`),
        for the equipment the visit needs: it starts once every item is in place
        (:func:`scheduler.rules.equipment.available_from`), and is refused (code
        ``equipment``) when an item is neither in place nor installed by a served
        visit. Without ``starts`` (``ends``) links (equipment) are not asked.
        Without ``why`` a day with no place gives no refusal but the equipment's
        (quicker, for callers that only want the places).
        """
        lo, hi, links = link_bounds(self.plan, visit, starts) if starts is not None else (0, DAY_S, ())
        ready = 0
        if ends is not None and visit.needs_equipment:
            ready = equipment.available_from(self.plan, visit, ends)
            if ready is None:
                return Answer(self.worker.id, (), Refusal("equipment", equipment.unmet(self.plan, visit, ends) or ""))
        within = (max(lo, ready), hi) if links or ready else None
        found = self.places(visit, within=within, at=at)
        if found:
            return Answer(self.worker.id, tuple(found))
        if not why:
            return Answer(self.worker.id, ())
        return Answer(self.worker.id, (), self._refusal(visit, (lo, hi) if links else None, links, at, ready))

    def _refusal(self, visit: Visit, within: tuple[int, int] | None, links: Sequence[Link],
                 at: int | None, ready: int = 0) -> Refusal:
        """Why the visit has no place in the day: the first rule that leaves none (``ready``: its equipment's time)."""
        w, day = self.worker, self.day
        if w.capacity is not None and day.load + visit.demand > w.capacity:
            return Refusal("capacity", f"carries {day.load} of capacity {w.capacity} already; "
                           f"this needs {visit.demand} more")
        if w.max_visits is not None and len(day.nodes) >= w.max_visits:
            return Refusal("working_time", f"already has {counted(len(day.nodes), 'visit')}, their max_visits")
        too_many = double_handed_limit.room_for(self.plan, w, self.stops, visit)
        if too_many is not None:
            return too_many
        if self.lock is not None and visit.window.end < self.lock:
            return Refusal("past", f"its window closed before the re-plan time {format_hhmm(self.lock)}")
        if self.off is not None and visit.window.start >= self.off:
            return Refusal("shift", f"off from {format_hhmm(self.off)}")
        if not self.places(visit, limits=False, rota=False):
            return Refusal("busy" if self.stops else "unreachable", self._busy_text(visit))
        if not self.places(visit, limits=False):
            loose = self.places(visit, limits=False, new_break=False)
            need = self._open_need(loose[0].earliest) if loose else None
            if need is not None:
                return Refusal("shift", f"no room for the {need.duration_s // 60}-min rest break it would call "
                               f"for (start {need.window})")
            if loose and self.unowed:
                return Refusal("shift", f"it would make the day over {self.after_s // 3600} h, owing a "
                               f"{self.unowed[0].duration_s // 60}-min rest break the roster has no place for")
            held = ", ".join(f"{format_hhmm(b.start)}-{format_hhmm(b.end)}" for b in self.breaks)
            blocked = [f"their rest break ({held})"] if held else []
            if w.availability:
                blocked.append("the gaps in their availability (" + ", ".join(str(a) for a in w.availability) + ")")
            return Refusal("shift", "no room once the visit and travel keep clear of "
                           + (" and ".join(blocked) or "their stints"))
        if within is not None and not self.places(visit, limits=False, within=within):
            words = sorted({(f"ends {k.gap_lo}-{k.gap_hi if k.gap_hi is not None else '…'} min before "
                             f"{k.other_id} starts ({format_hhmm(k.at)})") if k.first else
                            (f"starts {k.gap_lo}-{k.gap_hi if k.gap_hi is not None else '…'} min after "
                             f"{k.other_id} ends ({format_hhmm(k.at)})") for k in links})
            return Refusal("linked", "no gap for its link: it " + "; ".join(words))
        if ready:
            lo, hi = within if within is not None else (0, DAY_S)
            within = (max(lo, ready), hi)
            if not self.places(visit, limits=False, within=within):
                return Refusal("equipment", f"the equipment it needs is in place only from {format_hhmm(ready)}, "
                               "and there is no room after that")
        timed = self.places(visit, limits=False, within=within, at=at)
        if not timed:
            return Refusal("busy", f"not free at {format_hhmm(at or 0)}, when the other worker of the pair starts")
        least = min(p.travel_s for p in timed)
        worked = self.worked_s() + visit.duration_s + least + (0 if self.stops else self.day.work)
        return Refusal("working_time", f"no working time left: {worked / 60:.0f} min of visits and travel, "
                       f"over the {self.limit} min allowed today")

    def _open_need(self, start: int) -> Any:
        return next((n for n in self.open_needs if n.stint.start <= start < n.stint.end), None)

    def _busy_text(self, visit: Visit) -> str:
        """Describe the worker's stops around the visit's window."""
        until = visit.window.end + visit.duration_s
        near = [s for s in self.stops if s.end > visit.window.start - 1800 and s.start < until + 1800]
        if not near:
            return (f"cannot get to client {visit.client_id} and on to their next stop (or home by "
                    f"{format_hhmm(self.worker.shift.end)}) for a start in {visit.window}")
        span = f"{format_hhmm(near[0].start)}-{format_hhmm(near[-1].end)}"
        return f"booked {span} ({', '.join(s.visit_id for s in near)}), no gap for {visit.duration_min} min plus travel"

    # ------------------------------------------------------------------ changing the day

    def insert(self, visit: Visit, position: int, start: int) -> None:
        """Put ``visit`` before stop ``position``, starting at ``start``; the times of the rest follow."""
        key = visit.id
        self._know(self.day.data, key, visit, start, visit.duration_s)
        self.day.insert(key, position)
        stop = Stop(visit.id, start, start, start + visit.duration_s, 0, 0, visit.client_id)
        self.stops.insert(position, stop)
        self.open_needs = [n for n in self.open_needs if not n.stint.start <= start < n.stint.end]

    def remove(self, visit_id: str) -> None:
        """Take ``visit_id`` out of the day; the times of the rest follow."""
        position = self.day.nodes.index(visit_id)
        self.day.remove(position)
        self.stops.pop(position)
        self.open_needs, self.unowed = self._needs()


class Sieve:
    """Every position of many worker days at once, as NumPy arrays: where a visit might go, least travel first.

    The days read one travel matrix by its indices (:class:`WorkerDay` ``rows``,
    ``matrix[i][j]`` the same whole seconds) and do not change while the sieve is
    used. For a visit, :meth:`candidates` bounds each position as
    :meth:`Day.slots` starts to: the day's bounds for the visit
    (:meth:`WorkerDay.bounds`), reached from the stop before by its earliest
    end and on to the next stop by its latest start, the day's limits (capacity,
    most stops, double-handed visits, working time), in whole minutes. Blocked
    time, stints, rest breaks and journeys only narrow that, so every place
    :meth:`WorkerDay.places` gives at a position lies inside its bounds, and a
    position the sieve leaves out has none. The travel the visit adds at a
    position is exact: the same sum as :meth:`Day.slots`.

    Parameters
    ----------
    days
        The worker days.
    matrix
        Travel seconds between the days' location keys.
    """

    def __init__(self, days: Sequence[WorkerDay], matrix: Any) -> None:
        import numpy as np

        self.days, self.matrix = list(days), matrix
        prev: list[int] = []
        nxt: list[int] = []
        ready: list[int] = []
        bound: list[int] = []
        owner: list[int] = []
        position: list[int] = []
        for i, wd in enumerate(self.days):
            day, d = wd.day, wd.day.data
            if day.cost is not day.tt:
                raise ValueError("a sieve's days cost their travel time")
            keys = [day.start_loc, *(d.loc[x] for x in day.nodes), day.end_loc]
            prev += keys[:-1]
            nxt += keys[1:]
            ready += [day.ready, *(e + d.dur[x] for e, x in zip(day.earliest, day.nodes, strict=True))]
            bound += [*day.latest, day.bound]
            owner += [i] * (len(day.nodes) + 1)
            position += range(len(day.nodes) + 1)
        self._prev, self._next = np.array(prev, dtype=np.int64), np.array(nxt, dtype=np.int64)
        self._ready, self._bound = np.array(ready, dtype=np.int64), np.array(bound, dtype=np.int64)
        self._owner, self._position = np.array(owner, dtype=np.int64), np.array(position, dtype=np.int64)
        self._base = np.asarray(matrix)[self._prev, self._next].astype(np.int64)
        inf = np.iinfo(np.int64).max // 4
        self._work = np.array([wd.day.work for wd in self.days], dtype=np.int64)
        self._work_cap = np.array([inf if wd.day.work_cap is None else wd.day.work_cap for wd in self.days],
                                  dtype=np.int64)

    def candidates(self, visit: Visit, here: int, days: Iterable[int], *, plus: Any = None,
                   away: tuple[Any, Any] | None = None) -> list[tuple[int, int, int, int, int]]:
        """Return (added travel, day, position, first start, last start) where ``visit`` might go, least travel first.

        Parameters
        ----------
        visit
            The visit (its window, duration, demand and workers required).
        here
            The location key of its place.
        days
            Indices of the days to ask (others are left out).
        plus
            Travel (seconds) added to each position of each day, by day (e.g. the
            journey home of a day without stops), counted in the order.
        away
            Travel seconds from each location key to ``here`` and from ``here`` to each,
            when the matrix lacks ``here``.
        """
        import numpy as np

        chosen = [i for i in days if self.days[i].day.has_room(visit.demand, visit.workers_required == 2)]
        if not chosen:
            return []
        lo_day = np.ones(len(self.days), dtype=np.int64)
        hi_day = np.full(len(self.days), -1, dtype=np.int64)
        for i in chosen:
            lo_day[i], hi_day[i] = self.days[i].bounds(visit)
        keep = hi_day[self._owner] >= 0
        owner, prev, nxt = self._owner[keep], self._prev[keep], self._next[keep]
        if away is None:
            matrix = np.asarray(self.matrix)
            into, out = matrix[prev, here], matrix[here, nxt]
        else:
            into, out = np.asarray(away[0])[prev], np.asarray(away[1])[nxt]
        dx = visit.duration_s
        lo = np.maximum(lo_day[owner], self._ready[keep] + into)
        hi = np.minimum(hi_day[owner], self._bound[keep] - out - dx)
        lo, hi = -(-lo // 60) * 60, hi // 60 * 60
        added = into + out - self._base[keep]
        ok = (lo <= hi) & (self._work[owner] + dx + added <= self._work_cap[owner])
        cost = added if plus is None else added + np.asarray(plus)[owner]
        found = np.flatnonzero(ok)
        found = found[np.argsort(cost[found], kind="stable")]
        return list(zip(cost[found].tolist(), owner[found].tolist(), self._position[keep][found].tolist(),
                        lo[found].tolist(), hi[found].tolist(), strict=True))


def _free_starts(lo: int, hi: int, length: int, blocks: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """Return the first and last start in ``lo``-``hi`` of a ``length`` that no block interrupts, or ``None``."""
    a = lo
    cut = sorted((s - length, e) for s, e in blocks if s - length < hi and e > lo)
    first = last = None
    for x1, x2 in cut:
        if x2 <= a or x1 >= x2:
            continue
        if x1 >= hi:
            break
        if x1 >= a:
            first = a if first is None else first
            last = x1
        a = max(a, x2)
    if a <= hi:
        first = a if first is None else first
        last = hi
    return None if first is None else (first, last)


def pairs(first: Iterable[Answer], second: Iterable[Answer] | None = None) -> Iterator[tuple[int, Place, Place,
                                                                                             str, str]]:
    """Yield each way two workers share one start minute for a double-handed visit.

    ``first`` and ``second`` are the days' answers for the visit's two places
    (``second`` defaults to ``first``: the same visit); the workers differ.
    Yields (start, place of the first worker, place of the second, first worker, second worker):
    pairs of workers by id, each one's places through the day, at the earliest common minute.
    """
    one = sorted((a for a in first if a.places), key=lambda a: a.worker_id)
    two = one if second is None else sorted((a for a in second if a.places), key=lambda a: a.worker_id)
    for i, a1 in enumerate(one):
        for a2 in (two[i + 1:] if second is None else two):
            if a1.worker_id == a2.worker_id:
                continue
            for g1 in a1.places:
                for g2 in a2.places:
                    if max(g1.earliest, g2.earliest) <= min(g1.latest, g2.latest):
                        yield max(g1.earliest, g2.earliest), g1, g2, a1.worker_id, a2.worker_id
