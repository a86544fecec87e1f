"""Equipment first: a visit that needs a piece of equipment starts only once it is in place at the client.

A client's equipment (``Client.equipment``) is in place all day when it was
installed on an earlier day, or from its ``installed_from`` time; an
installation visit (kind ``equipment``, ``installs`` an item) puts the item in
place at the visit's end, if it is served. A visit whose ``needs_equipment``
names an item that nothing puts in place in time for its window cannot be
served at all (code ``equipment``).

The plain functions here are what the worker-day engine and the model hook
(:mod:`solver.constraints.equipment`) need to know: :func:`sources` (the fixed
time and the installation visits for each item) and :func:`available_from`
(the first start a roster's served installations allow).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from scheduler.model import Plan, Visit, Worker
from scheduler.roster import Route
from scheduler.rules.base import Refusal, Violation
from scheduler.rules.view import RosterView
from scheduler.timeutil import format_hhmm


@dataclass(frozen=True, slots=True)
class Source:
    """What puts one item in place at one client: a fixed time (seconds; 0 when earlier), installation visits."""

    item: str
    fixed: int | None
    installations: tuple[Visit, ...]

    def earliest(self) -> int | None:
        """Return the earliest time (seconds) the item could be in place today, or ``None`` if never."""
        ends = [v.window.start + v.duration_s for v in self.installations]
        if self.fixed is not None:
            ends.append(self.fixed)
        return min(ends, default=None)


_index: tuple[Plan | None, dict[tuple[str, str], tuple[Visit, ...]]] = (None, {})


def _installations(plan: Plan) -> dict[tuple[str, str], tuple[Visit, ...]]:
    """Return the installation visits of the plan by (client, item), worked out once per plan."""
    global _index
    last_plan, index = _index  # one read: another thread may replace it meanwhile
    if last_plan is not plan:
        out: dict[tuple[str, str], list[Visit]] = {}
        for v in plan.visits:
            if v.installs is not None:
                out.setdefault((v.client_id, v.installs), []).append(v)
        index = {k: tuple(vs) for k, vs in out.items()}
        _index = (plan, index)
    return index


def sources(plan: Plan, visit: Visit) -> tuple[Source, ...]:
    """Return, for each item the visit needs (by name), what puts it in place at the client today.

    Parameters
    ----------
    plan
        A validated plan.
    visit
        One of its visits.

    Returns
    -------
    tuple of Source
        One per item of ``needs_equipment``, sorted by item; empty when it needs none.
    """
    if not visit.needs_equipment:
        return ()
    client = plan.client(visit.client_id)
    fixed = {e.item: (0 if e.installed_from is None else e.installed_from) for e in client.equipment}
    installs = _installations(plan)
    return tuple(Source(item, fixed.get(item), installs.get((visit.client_id, item), ()))
                 for item in sorted(visit.needs_equipment))


def available_from(plan: Plan, visit: Visit, ends: Mapping[str, int]) -> int | None:
    """Return the first time (seconds) every item the visit needs is in place, given the served installations.

    Parameters
    ----------
    plan
        A validated plan.
    visit
        One of its visits.
    ends
        The end (seconds) of each served visit, by id; installation visits not in it are not served.

    Returns
    -------
    int or None
        0 when the visit needs nothing (or everything was installed earlier); ``None`` when an item is
        neither in place nor installed by a served visit.
    """
    out = 0
    for source in sources(plan, visit):
        times = [ends[v.id] for v in source.installations if v.id in ends]
        if source.fixed is not None:
            times.append(source.fixed)
        if not times:
            return None
        out = max(out, min(times))
    return out


def links(plan: Plan, visit: Visit) -> list[tuple[str, str, int, int | None]]:
    """Return the visit's equipment as links (installation, visit, 0 min, no limit), as ``Visit.links`` gives them.

    For a first roster that orders visits by their links (:mod:`solver.construct`): the
    visit starts once each installation that could put an item it needs in place has ended.
    Items with a fixed time are not links (the model raises the visit's earliest start).
    """
    return [(install.id, visit.id, 0, None) for source in sources(plan, visit) if source.fixed is None
            for install in source.installations]


def served_ends(routes: Iterable[Route]) -> dict[str, int]:
    """Return the end (seconds) of each visit served on ``routes`` (the first place's, for a double-handed one)."""
    ends: dict[str, int] = {}
    for route in routes:
        for st in route.stops:
            ends[st.visit_id] = min(st.end, ends.get(st.visit_id, st.end))
    return ends


def unmet(plan: Plan, visit: Visit, ends: Mapping[str, int]) -> str | None:
    """Say why the equipment the visit needs is not in place in its window, given the served installations.

    Parameters
    ----------
    plan
        A validated plan.
    visit
        One of its visits.
    ends
        The end (seconds) of each served visit, by id.

    Returns
    -------
    str or None
        A coordinator's sentence, or ``None`` when the equipment is in place in time for its window.
    """
    ready = available_from(plan, visit, ends)
    if ready is None:
        lacking = [s for s in sources(plan, visit)
                   if s.fixed is None and not any(v.id in ends for v in s.installations)]
        installs = [v.id for s in lacking for v in s.installations]
        how = (f"its installation ({', '.join(repr(i) for i in installs)}) is not served" if installs
               else "no installation visit puts it in")
        return (f"it needs {_items([s.item for s in lacking])} at client {visit.client_id!r}, which is not in "
                f"place, and {how}: serve the installation first")
    if ready > visit.window.end:
        return (f"the equipment it needs is in place only at {format_hhmm(ready)}, after its window "
                f"{visit.window} closes: move the visit later or the installation earlier")
    return None


def missing(plan: Plan, visit: Visit) -> list[str]:
    """Return the items that nothing can put in place before the visit's window ends (none: it may be served)."""
    out = []
    for source in sources(plan, visit):
        earliest = source.earliest()
        if earliest is None or earliest > visit.window.end:
            out.append(source.item)
    return out


def _items(items: Sequence[str]) -> str:
    return " and ".join(repr(i) for i in items)


class EquipmentRule:
    """A visit that needs equipment starts once every item is in place (installed earlier, or by a served visit)."""

    code = "equipment"

    def refuse(self, plan: Plan, worker: Worker, visit: Visit) -> Refusal | None:
        """Refuse every worker when an item the visit needs cannot be in place in its window."""
        lacking = missing(plan, visit)
        if not lacking:
            return None
        return Refusal(self.code, f"worker {worker.id!r} cannot start it: client {visit.client_id!r} has no "
                                  f"{_items(lacking)} in place by {format_hhmm(visit.window.end)}")

    def none_can(self, plan: Plan, visit: Visit, candidates: Sequence[Worker]) -> str:
        """Say which item is not in place, and that an installation must come first."""
        lacking = missing(plan, visit)
        return (f"it needs {_items(lacking)} at client {visit.client_id!r}, which is not in place and no "
                f"installation visit puts it in before {format_hhmm(visit.window.end)}: book the installation "
                f"first, or move the visit later")

    def requirement(self, plan: Plan, visit: Visit) -> str:
        """Describe a worker this rule allows (any, once the equipment is in place)."""
        return f"once {_items(sorted(visit.needs_equipment))} is in place"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every served visit that starts before an item it needs is in place."""
        plan = view.plan
        ends = {vid: min(st.end for _, st in stops) for vid, stops in view.served.items()}
        for vid, stops in view.served.items():
            visit = plan.visit(vid)
            if not visit.needs_equipment:
                continue
            start = min(st.start for _, st in stops)
            ready = available_from(plan, visit, ends)
            if ready is None:
                yield Violation(self.code, "visit", vid, unmet(plan, visit, ends) or "")
            elif start < ready:
                yield Violation(self.code, "visit", vid, f"it starts at {format_hhmm(start)}, before the equipment "
                                                         f"it needs is in place at {format_hhmm(ready)}")
