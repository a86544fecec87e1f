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

Places come from the worker-day engine (:class:`scheduler.day.WorkerDay`), as
for the validator's :func:`scheduler.validate.free_slot`: a place is feasible when
the visit can start on a whole minute inside its window and inside the worker's shift,
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

from scheduler.day import WorkerDay
from scheduler.eligibility import serves_kind
from scheduler.model import Plan, Visit, Worker
from scheduler.roster import Roster
from scheduler.rules import refusals
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

def _find_place(day: WorkerDay, visit: Visit, starts: dict[str, int],
                fixed_start: int | None) -> tuple[Place | None, str]:
    """Cheapest place for the visit in the worker's day (:class:`scheduler.day.WorkerDay`), or why there is none."""
    answer = day.ask(visit, starts=starts, at=fixed_start)
    if answer.refusal is not None:
        return None, answer.refusal.message
    best = answer.cheapest
    assert best is not None
    latest = max(p.latest for p in answer.places if p.position == best.position)
    return Place(day.worker.id, *day.between(best.position), best.earliest, latest, best.travel_s), ""


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
        day = WorkerDay(plan, plan.worker(wid), routes[wid], travel, skip=visit_id)
        mine = next(s for s in routes[wid].stops if s.visit_id == visit_id)
        i = sum(1 for s in day.stops if s.start < mine.start)
        after_id, before_id = day.between(i)
        cost = day.added_travel(visit, i)
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
        day = WorkerDay(plan, worker, routes.get(worker.id), travel)
        place, why_not = _find_place(day, visit, starts, fixed)
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
