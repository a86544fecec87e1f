"""Why a visit went to its worker, and what the next-best alternative would cost.

:func:`explain_choice` looks at one visit of a solved roster. For an assigned
visit it reports each serving worker's *place*: the stops before and after it,
and the travel the visit costs there (``prev -> visit -> next`` against
``prev -> next``, home legs included, which is what taking the visit out of the
route would save). For every other worker of the visit's provider (or kind) it
either names the rule that makes them ineligible
(:mod:`scheduler.eligibility`) or finds the cheapest place in their day as it
stands, other stops keeping their times, and its extra travel; or says why
their day has no room.

A place is feasible when, as in :func:`scheduler.validate.free_slot`, the visit
can start on a whole minute inside its window and inside the worker's shift,
with travel both ways fitting the gap between the neighbouring stops (or from
and back to home), and also when, as :func:`scheduler.validate.check_roster`
checks them (:mod:`scheduler.shifts`),

* the visit lies inside one of the worker's stints (``availability`` windows of a
  split shift, or the whole shift) and overlaps none of the route's rest breaks;
* travel fits the time left once breaks and gaps in availability are taken out;
* a stint that has no visits yet and is long enough to need a rest break still
  has room for one in the break window;
* a van has capacity left for its demand, and the worker has visits left under ``max_visits``;
* the working time the solver limits (visits and travel, home legs included;
  :meth:`scheduler.model.Plan.day_limit_min`) stays within the day's limit;
* the gaps of the visit's links to other served visits are kept;
* for a double-handed visit, the worker can start at the minute the other
  worker of the pair starts (who keeps their time).

All times are seconds since midnight, travel in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scheduler.eligibility import serves_kind
from scheduler.model import Location, Plan, Visit, Worker
from scheduler.roster import Roster, Route, Stop
from scheduler.rules import refusals
from scheduler.shifts import BreakNeed, break_needs, free_time, gaps, overlaps, stints
from scheduler.text import counted
from scheduler.timeutil import format_hhmm
from scheduler.validate import TravelOracle

__all__ = ["Explanation", "Option", "Place", "explain_choice"]

#: Option statuses, in the order they are listed.
STATUSES = ("serving", "can_take", "no_room", "not_eligible")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a visit sits, or could sit, in one worker's day.

    Parameters
    ----------
    worker_id
        The worker.
    after_visit_id
        The stop before it, or ``None`` when it is the first (from the start location).
    before_visit_id
        The stop after it, or ``None`` when it is the last (then back to the end location).
    start
        Earliest start there (seconds since midnight); for a serving worker, the actual start.
    latest_start
        Latest start there (seconds since midnight).
    travel_s
        Travel the visit adds to the route there (seconds): previous stop to the visit to the
        next stop, less previous stop to next stop.
    """

    worker_id: str
    after_visit_id: str | None
    before_visit_id: str | None
    start: int
    latest_start: int
    travel_s: int

    def where(self) -> str:
        """Return the place in words: ``between v1 and v2``, ``before v2 (first visit of the day)``."""
        a, b = self.after_visit_id, self.before_visit_id
        if a and b:
            return f"between {a} and {b}"
        if b:
            return f"before {b} (first visit of the day)"
        if a:
            return f"after {a} (last visit of the day)"
        return "as the only visit of the day"

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready data, times as ``HH:MM``."""
        return {"worker_id": self.worker_id, "after_visit_id": self.after_visit_id,
                "before_visit_id": self.before_visit_id, "start": format_hhmm(self.start),
                "latest_start": format_hhmm(self.latest_start), "travel_s": self.travel_s}


@dataclass(frozen=True, slots=True)
class Option:
    """One worker of the visit's provider or kind, as a candidate for it.

    ``status`` is ``serving`` (has it), ``can_take`` (``place`` is their cheapest
    feasible place), ``no_room`` or ``not_eligible`` (``reason`` says why).
    ``replaces`` names, for a double-handed visit, whose place they would take.
    """

    worker_id: str
    status: str
    reason: str = ""
    place: Place | None = None
    familiar: bool = False
    preferred: bool = False
    replaces: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready data."""
        return {"worker_id": self.worker_id, "status": self.status, "reason": self.reason,
                "place": self.place.to_dict() if self.place else None, "familiar": self.familiar,
                "preferred": self.preferred, "replaces": self.replaces}


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a visit is where it is in a roster, and its alternatives.

    Parameters
    ----------
    visit
        The visit.
    serving
        Places of the workers serving it (two for a double-handed visit); empty if unassigned.
    options
        Every other worker of the visit's provider or kind: who could take it, cheapest
        first, then who has no room, then who is not eligible.
    other_workers
        Workers of other providers or kinds, not listed.
    unassigned_reason, unassigned_code
        The roster's reason when the visit is unassigned.
    reasons
        Why the serving workers have it, in words (continuity, pinning, travel).
    """

    visit: Visit
    serving: tuple[Place, ...]
    options: tuple[Option, ...]
    other_workers: int = 0
    unassigned_reason: str | None = None
    unassigned_code: str | None = None
    reasons: tuple[str, ...] = field(default=())

    @property
    def assigned(self) -> bool:
        """Whether the roster serves the visit."""
        return bool(self.serving)

    @property
    def best(self) -> Option | None:
        """The next-best alternative: the other worker who could take it for the least travel."""
        return next((o for o in self.options if o.status == "can_take"), None)

    @property
    def current_travel_s(self) -> int | None:
        """Travel the current choice costs (seconds): the most a serving worker saves without it."""
        if not self.serving:
            return None
        if self.best is not None and self.best.replaces is not None:
            return next(p.travel_s for p in self.serving if p.worker_id == self.best.replaces)
        return max(p.travel_s for p in self.serving)

    @property
    def extra_s(self) -> int | None:
        """How much more travel the next-best alternative costs than the current choice (seconds)."""
        if self.best is None or self.best.place is None or self.current_travel_s is None:
            return None
        return self.best.place.travel_s - self.current_travel_s

    def summary(self) -> list[str]:
        """Return the explanation as a few sentences, one per line."""
        v = self.visit
        head = (f"{v.id} (client {v.client_id}, start {v.window}, {v.duration_min} min"
                f"{', double-handed' if v.workers_required == 2 else ''}, {v.priority})")
        lines = []
        if not self.serving:
            lines.append(f"{head} is unassigned: {self.unassigned_reason or 'no reason given'}")
            takers = [o for o in self.options if o.status == "can_take"]
            if takers and v.workers_required == 1:
                o = takers[0]
                lines.append(f"{o.worker_id} has room {o.place.where()} starting {format_hhmm(o.place.start)} "
                             f"for {_minutes(o.place.travel_s)} of travel.")
        else:
            who = " and ".join(f"{p.worker_id} at {format_hhmm(p.start)}, {p.where()}" for p in self.serving)
            lines.append(f"{head} is served by {who}.")
            for p in self.serving:
                lines.append(f"Taking it out of {p.worker_id}'s day would save {_minutes(p.travel_s)} of travel.")
            if self.reasons:
                lines.append("Why: " + "; ".join(self.reasons) + ".")
            best = self.best
            if best is not None and best.place is not None:
                instead = f" in {best.replaces}'s place (with the other worker at the same minute)" \
                    if best.replaces and v.workers_required == 2 else ""
                diff = self.extra_s or 0
                compare = (f"{_minutes(diff)} more than the current choice" if diff > 0 else
                           f"{_minutes(-diff)} less than the current choice" if diff < 0 else
                           "the same as the current choice")
                lines.append(f"Next best: {best.worker_id} could take it{instead} {best.place.where()} starting "
                             f"{format_hhmm(best.place.start)} for +{_minutes(best.place.travel_s)} of travel; "
                             f"the current choice costs {_minutes(self.current_travel_s or 0)} ({compare}).")
            else:
                lines.append("No other worker could take it: " + (self._why_nobody() or "nobody else serves "
                                                                     f"{v.kind} visits") + ".")
        rest = [o for o in self.options if o.status in ("no_room", "not_eligible")]
        if rest and (self.best is not None or not self.serving):
            lines.append("Others: " + self._why_nobody() + ".")
        return lines

    def _why_nobody(self) -> str:
        parts = []
        for status, label in (("no_room", "no room in their day"), ("not_eligible", "not eligible")):
            group = [o for o in self.options if o.status == status]
            if group:
                shown = "; ".join(f"{o.worker_id}: {o.reason}" for o in group[:3])
                more = f"; and {len(group) - 3} more" if len(group) > 3 else ""
                verb = ("has" if len(group) == 1 else "have") if status == "no_room" else \
                    ("is" if len(group) == 1 else "are")
                parts.append(f"{len(group)} {verb} {label} ({shown}{more})")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready data."""
        v = self.visit
        best = self.best
        return {
            "visit_id": v.id, "client_id": v.client_id, "window": {"start": format_hhmm(v.window.start),
                                                                   "end": format_hhmm(v.window.end)},
            "duration_min": v.duration_min, "workers_required": v.workers_required, "priority": v.priority,
            "assigned": self.assigned, "serving": [p.to_dict() for p in self.serving],
            "unassigned_reason": self.unassigned_reason, "unassigned_code": self.unassigned_code,
            "reasons": list(self.reasons), "current_travel_s": self.current_travel_s,
            "next_best": best.to_dict() if best else None, "extra_travel_s": self.extra_s,
            "options": [o.to_dict() for o in self.options], "other_workers": self.other_workers,
            "summary": self.summary(),
        }


def _minutes(seconds: int) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f} min" if abs(minutes) >= 10 or minutes == int(minutes) else f"{minutes:.1f} min"


# --------------------------------------------------------------------------- places

@dataclass(frozen=True, slots=True)
class _Gap:
    """Room for the visit between two stops: whole-minute ``starts`` (seconds), and its extra travel."""

    index: int
    starts: tuple[int, ...]
    travel_s: int

    @property
    def lo(self) -> int:
        return self.starts[0]

    @property
    def hi(self) -> int:
        return self.starts[-1]


#: Step between the break starts tried when a visit would open a stint that needs a break (seconds).
_BREAK_STEP_S = 300


class _Day:
    """One worker's day as it stands: their stops, breaks and where they are."""

    def __init__(self, plan: Plan, worker: Worker, route: Route | None, travel: TravelOracle, skip: str | None):
        self.plan = plan
        self.worker = worker
        self.travel = travel
        self.stops: list[Stop] = [s for s in (route.stops if route else ()) if plan.has_visit(s.visit_id)
                                  and s.visit_id != skip]
        self.points: list[Location] = [plan.visit_location(plan.visit(s.visit_id)) for s in self.stops]
        self.breaks = tuple(route.breaks) if route else ()
        self.stints = stints(worker)
        self.blocks = sorted([(g.start, g.end) for g in gaps(worker)] + [(b.start, b.end) for b in self.breaks])
        # Stints with no visit yet that would need a rest break once they have one.
        self.open_needs = [n for n in break_needs(plan, worker)
                           if not any(n.stint.start <= s.start < n.stint.end for s in self.stops)]

    def leg(self, a: Location, b: Location) -> int:
        return self.travel.leg(self.worker, a, b)[0]

    def before(self, i: int) -> tuple[Location, int, str | None]:
        """Location, free-from time and visit id before position ``i``."""
        if i == 0:
            return self.worker.start_location, self.worker.shift.start, None
        return self.points[i - 1], self.stops[i - 1].end, self.stops[i - 1].visit_id

    def after(self, i: int) -> tuple[Location, int, str | None]:
        """Location, free-until time and visit id after position ``i``."""
        if i == len(self.stops):
            return self.worker.end_location, self.worker.shift.end, None
        return self.points[i], self.stops[i].start, self.stops[i].visit_id

    def worked_s(self) -> int:
        """Working time the solver limits: visits and travel, home legs included (seconds)."""
        if not self.stops:
            return 0
        path = [self.worker.start_location, *self.points, self.worker.end_location]
        legs = sum(self.leg(a, b) for a, b in zip(path, path[1:], strict=False))
        return sum(s.end - s.start for s in self.stops) + legs

    def gaps(self, visit: Visit, here: Location, *, rota: bool = True, new_break: bool = True) -> list[_Gap]:
        """Every position where the visit fits between the stops in its window.

        With ``rota`` false only times and travel count; with it, stints, gaps in
        availability and rest breaks too, and with ``new_break`` the room for a
        break that a visit in an empty stint would call for.
        """
        out = []
        for i in range(len(self.stops) + 1):
            a, free_from, _ = self.before(i)
            b, free_until, _ = self.after(i)
            go, back = self.leg(a, here), self.leg(here, b)
            lo = -(-max(visit.window.start, free_from + go) // 60) * 60
            hi = min(visit.window.end, free_until - visit.duration_s - back) // 60 * 60
            starts = range(lo, hi + 1, 60)
            if rota:
                starts = [t for t in starts if self._fits_rota(t, t + visit.duration_s, i, go, back, new_break)]
            if starts:
                out.append(_Gap(i, tuple(starts), go + back - self.leg(a, b)))
        return out

    def _fits_rota(self, start: int, end: int, i: int, go: int, back: int, new_break: bool) -> bool:
        """Whether a visit at ``start``-``end`` in position ``i`` keeps to stints, gaps and breaks."""
        stint = next((p for p in self.stints if p.start <= start and end <= p.end), None)
        if stint is None or overlaps(start, end, self.blocks):
            return False
        since = self.stops[i - 1].end if i else stint.start
        until = self.stops[i].start if i < len(self.stops) else self.worker.shift.end
        if free_time(since, start, self.blocks) < go or free_time(end, until, self.blocks) < back:
            return False
        need = self.open_need(start)
        if need is None or not new_break:
            return True
        return any(not overlaps(b, b + need.duration_s, [*self.blocks, (start, end)])
                   for b in range(need.window.start, need.window.end + 1, _BREAK_STEP_S))

    def open_need(self, start: int) -> BreakNeed | None:
        """Return the break a visit starting then would call for, in a stint with no visits yet."""
        return next((n for n in self.open_needs if n.stint.start <= start < n.stint.end), None)

    def place(self, gap: _Gap) -> Place:
        return Place(self.worker.id, self.before(gap.index)[2], self.after(gap.index)[2], gap.lo, gap.hi,
                     gap.travel_s)


def _clip(gaps: list[_Gap], lo: int, hi: int) -> list[_Gap]:
    out = []
    for g in gaps:
        starts = tuple(t for t in g.starts if lo <= t <= hi)
        if starts:
            out.append(_Gap(g.index, starts, g.travel_s))
    return out


def _link_bounds(plan: Plan, visit: Visit, starts: dict[str, int]) -> tuple[int, int, list[str]]:
    """Start bounds (seconds) the visit's links to served visits impose, and the links in words."""
    lo, hi, words = 0, 24 * 3600, []
    for other in plan.visits:
        for first, then, gap_lo, gap_hi in other.links():
            if visit.id not in (first, then):
                continue
            if first == visit.id and then in starts:
                # this visit ends gap_lo..gap_hi minutes before `then` starts
                hi = min(hi, starts[then] - gap_lo * 60 - visit.duration_s)
                if gap_hi is not None:
                    lo = max(lo, starts[then] - gap_hi * 60 - visit.duration_s)
                words.append(f"ends {gap_lo}-{gap_hi if gap_hi is not None else '…'} min before {then} "
                             f"starts ({format_hhmm(starts[then])})")
            elif then == visit.id and first in starts:
                end = starts[first] + plan.visit(first).duration_s
                lo = max(lo, end + gap_lo * 60)
                if gap_hi is not None:
                    hi = min(hi, end + gap_hi * 60)
                words.append(f"starts {gap_lo}-{gap_hi if gap_hi is not None else '…'} min after {first} "
                             f"ends ({format_hhmm(end)})")
    return lo, hi, sorted(set(words))


def _busy_text(day: _Day, visit: Visit) -> str:
    """Describe the worker's stops around the visit's window."""
    until = visit.window.end + visit.duration_s
    near = [s for s in day.stops if s.end > visit.window.start - 1800 and s.start < until + 1800]
    if not near:
        return (f"cannot get to client {visit.client_id} and on to their next stop (or home by "
                f"{format_hhmm(day.worker.shift.end)}) for a start in {visit.window}")
    span = f"{format_hhmm(near[0].start)}-{format_hhmm(near[-1].end)}"
    return f"booked {span} ({', '.join(s.visit_id for s in near)}), no gap for {visit.duration_min} min plus travel"


def _find_place(plan: Plan, day: _Day, visit: Visit, starts: dict[str, int],
                fixed_start: int | None) -> tuple[Place | None, str]:
    """Cheapest feasible place for the visit in the worker's day, or why there is none."""
    w = day.worker
    if w.capacity is not None:
        load = sum(plan.visit(s.visit_id).demand for s in day.stops)
        if load + visit.demand > w.capacity:
            return None, f"carries {load} of capacity {w.capacity} already; this needs {visit.demand} more"
    if w.max_visits is not None and len(day.stops) >= w.max_visits:
        return None, f"already has {counted(len(day.stops), 'visit')}, their max_visits"
    here = plan.visit_location(visit)
    if not day.gaps(visit, here, rota=False):
        return None, _busy_text(day, visit)
    gaps = day.gaps(visit, here)
    if not gaps:
        loose = day.gaps(visit, here, new_break=False)
        need = day.open_need(loose[0].lo) if loose else None
        if need is not None:
            return None, (f"no room for the {need.duration_s // 60}-min rest break it would call for "
                          f"(start {need.window})")
        held = ", ".join(f"{format_hhmm(b.start)}-{format_hhmm(b.end)}" for b in day.breaks)
        blocked = [f"their rest break ({held})"] if held else []
        if w.availability:
            blocked.append("the gaps in their availability (" + ", ".join(str(a) for a in w.availability) + ")")
        return None, "no room once the visit and travel keep clear of " + (" and ".join(blocked) or "their stints")
    lo, hi, words = _link_bounds(plan, visit, starts)
    if words:
        gaps = _clip(gaps, lo, hi)
        if not gaps:
            return None, "no gap for its link: it " + "; ".join(words)
    if fixed_start is not None:
        gaps = _clip(gaps, fixed_start, fixed_start)
        if not gaps:
            return None, f"not free at {format_hhmm(fixed_start)}, when the other worker of the pair starts"
    limit = plan.day_limit_min(w)
    if limit is not None:
        worked = day.worked_s()
        fits = [g for g in gaps if worked + visit.duration_s + g.travel_s <= limit * 60]
        if not fits:
            least = min(g.travel_s for g in gaps)
            return None, (f"no working time left: {(worked + visit.duration_s + least) / 60:.0f} min of visits "
                          f"and travel, over the {limit} min allowed today")
        gaps = fits
    best = min(gaps, key=lambda g: (g.travel_s, g.lo))
    return day.place(best), ""


def _ineligible(plan: Plan, worker: Worker, visit: Visit) -> str | None:
    """Why the worker may not serve the visit at all (every worker rule that refuses), or ``None``."""
    broken = [r.message for r in refusals(plan, worker, visit)]
    if not broken:
        return None
    return "; ".join(m.replace(f"worker {worker.id!r}'s ", "").replace(f"worker {worker.id!r} ", "") for m in broken)


# --------------------------------------------------------------------------- the explanation

def explain_choice(plan: Plan, roster: Roster, visit_id: str, travel: TravelOracle) -> Explanation:
    """Explain why a visit went to its worker(s), and what the next-best alternative would cost.

    Parameters
    ----------
    plan
        The plan the roster was solved from.
    roster
        The roster.
    visit_id
        The visit to explain.
    travel
        Road-network travel for each worker's mode (a :class:`solver.PlanTravel`).

    Returns
    -------
    Explanation
        The serving workers' places, and every other worker of the visit's kind as an option.

    Raises
    ------
    KeyError
        If the plan has no such visit, or the roster neither serves it nor lists it as unassigned.
    """
    if not plan.has_visit(visit_id):
        raise KeyError(f"visit {visit_id!r} is not in the plan")
    visit = plan.visit(visit_id)
    routes = {r.worker_id: r for r in roster.routes}
    starts: dict[str, int] = {}
    serving_ids: list[str] = []
    for r in roster.routes:
        for s in r.stops:
            starts.setdefault(s.visit_id, s.start)
            if s.visit_id == visit_id:
                serving_ids.append(r.worker_id)
    unassigned = next((u for u in roster.unassigned if u.visit_id == visit_id), None)
    if not serving_ids and unassigned is None:
        raise KeyError(f"visit {visit_id!r} is neither served nor listed as unassigned in the roster")
    client = plan.client(visit.client_id)
    regulars = {h.worker_id: h.visits for h in plan.history if h.client_id == client.id and h.visits > 0}

    serving = []
    for wid in serving_ids:
        if not plan.has_worker(wid):
            continue
        day = _Day(plan, plan.worker(wid), routes[wid], travel, skip=visit_id)
        mine = next(s for s in routes[wid].stops if s.visit_id == visit_id)
        i = sum(1 for s in day.stops if s.start < mine.start)
        a, _, after_id = day.before(i)
        b, _, before_id = day.after(i)
        here = plan.visit_location(visit)
        cost = day.leg(a, here) + day.leg(here, b) - day.leg(a, b)
        serving.append(Place(wid, after_id, before_id, mine.start, mine.start, cost))

    fixed = serving[0].start if visit.workers_required == 2 and len(serving) == 2 else None
    replaceable = [p for p in serving if p.worker_id != visit.pinned_worker_id]
    options = []
    others = 0
    for worker in plan.workers:
        if worker.id in serving_ids:
            continue
        if not serves_kind(plan, worker, visit):
            others += 1
            continue
        flags = {"familiar": worker.id in regulars, "preferred": worker.id in client.preferred_worker_ids}
        why_not = _ineligible(plan, worker, visit)
        if why_not is None and visit.pinned_worker_id and (visit.workers_required == 1 or not replaceable):
            why_not = f"the visit is pinned to {visit.pinned_worker_id}"
        if why_not is not None:
            options.append(Option(worker.id, "not_eligible", why_not, **flags))
            continue
        day = _Day(plan, worker, routes.get(worker.id), travel, skip=None)
        place, why_not = _find_place(plan, day, visit, starts, fixed)
        if place is None:
            options.append(Option(worker.id, "no_room", why_not, **flags))
            continue
        replaces = None
        if visit.workers_required == 2 and replaceable:
            replaces = max(replaceable, key=lambda p: p.travel_s).worker_id
        elif len(serving) == 1:
            replaces = serving[0].worker_id
        options.append(Option(worker.id, "can_take", "", place, replaces=replaces, **flags))

    order = {s: i for i, s in enumerate(STATUSES)}
    options.sort(key=lambda o: (order[o.status], o.place.travel_s if o.place else 0,
                                o.place.start if o.place else 0, o.worker_id))
    reasons = _reasons(plan, visit, serving, options, regulars)
    return Explanation(visit, tuple(serving), tuple(options), others,
                       unassigned.reason if unassigned else None, unassigned.code if unassigned else None,
                       tuple(reasons))


def _reasons(plan: Plan, visit: Visit, serving: Sequence[Place], options: Sequence[Option],
             regulars: dict[str, int]) -> list[str]:
    """Why the serving workers have the visit, in words."""
    if not serving:
        return []
    client = plan.client(visit.client_id)
    out = []
    for p in serving:
        if visit.pinned_worker_id == p.worker_id:
            out.append(f"{p.worker_id} is pinned to it by the plan")
        if p.worker_id in regulars:
            out.append(f"{p.worker_id} is a regular carer of {client.id} "
                       f"({regulars[p.worker_id]} visits in the last 28 days)")
        if p.worker_id in client.preferred_worker_ids:
            out.append(f"{p.worker_id} is one of {client.id}'s preferred workers")
    takers = [o for o in options if o.status == "can_take"]
    if not takers:
        out.append("no other worker has room for it")
    else:
        best = takers[0]
        current = next((p.travel_s for p in serving if p.worker_id == best.replaces), max(p.travel_s for p in serving))
        if best.place is not None and best.place.travel_s < current:
            out.append(f"{best.worker_id} would add less travel ({_minutes(current - best.place.travel_s)} less): "
                       "the current choice trades travel for continuity, or for room the search needed elsewhere")
        else:
            out.append(f"it is the cheapest in travel of {len(takers) + len(serving)} workers with room for it")
    return out
