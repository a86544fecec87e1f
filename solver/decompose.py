"""Re-optimise a big day a few neighbouring routes at a time.

One OR-Tools search over every worker of a big day moves slowly: its operators
try each visit at each place in every route, so a pass costs about nodes² moves
(on the 1,000-visit day, 2.7 million relocations in 20 s, 77 of them taken;
``benchmarks/RESULTS.md``). A *region* (one worker's route, the nearest routes of workers
of the same kind of provider, their visits, and the visits left out that those
workers could serve) is a model of about a hundred nodes, which OR-Tools improves
many times faster. This is POPMUSIC (Taillard & Voss, 2002) with OR-Tools' guided
local search as the sub-solver.

What ties a region to the rest of the day stays as it is. The region's half of a
double-handed visit whose other worker is outside the region keeps its start and
must be served, by any worker of the region (or keeps its worker too, if pinned
to them). A visit linked to one served outside the region may be served (or
moved) only at the times the link leaves it, and the visit outside is held where
it is until the region is done; locked stops keep their worker and start.
A visit left out gets a *repair region* before the others: the allowed workers
nearest it and the workers of the visits linked to it (:meth:`_Day.repair_regions`),
since ordinary regions hold one kind of provider and a delivery linked to a
carer's visit would otherwise never meet that carer's route.
Continuity and fair-share costs are measured against the whole day
(:func:`solver.model.build_model`'s ``context``), so a region's objective moves
by exactly what the day's does; a region's new routes replace the old ones only
if that objective went down.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import signal
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np

from scheduler.errors import SchedulerError
from scheduler.model import Plan, TimeWindow, Visit
from scheduler.roster import LockedStop
from scheduler.timeutil import DAY_S
from solver.improve import StopFlag, improve_routes
from solver.model import RoutingModel, build_model
from solver.parallel import process_pool
from solver.params import SolveParams
from solver.travel import PlanTravel

log = logging.getLogger("homecare.decompose")

#: Workers in a region, the seed route's included, and the search time per region
#: (seconds). Measured on the generated 1,000-visit Cambridge day, two processes,
#: cost after 60 s: 10 workers × 0.5 s 370,449; 15 × 1 s 360,921; 20 × 1 s 351,594;
#: 20 × 2 s 355,440; 30 × 2 s 354,165 (``benchmarks/RESULTS.md``).
REGION_WORKERS = 20
REGION_TIME_S = 1.0

#: A visit still left out gets another repair region once this many regions have been
#: searched since its last one: the day around it has changed by then, and a repair that
#: failed early often works later. (With one repair per visit, the 1,000-visit day's
#: 60-second solves left a visit out in six of eight; a fresh repair region on such a
#: roster served it at once. ``benchmarks/RESULTS.md``, eighth round.)
REPAIR_AGAIN_AFTER = 20


#: A visit node named so that a region and the day agree on it: visit id and copy (0 or 1).
NodeKey = tuple[str, int]


@dataclass(frozen=True)
class DayContext:
    """What a region's model needs of the whole day; picklable, for worker processes."""

    plan: Plan
    travel: PlanTravel
    params: SolveParams
    node_visit: list[Visit]


@dataclass(frozen=True)
class RegionTask:
    """A region to re-optimise: some workers, the visits they serve or could, and what stays put."""

    workers: tuple[int, ...]
    visits: tuple[Visit, ...]
    locks: tuple[LockedStop, ...]
    routes: tuple[tuple[NodeKey, ...], ...]
    time_s: float
    required: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RegionResult:
    """A region's objective before and after its search, and its best routes."""

    before: int
    after: int
    routes: list[list[NodeKey]]
    starts: dict[NodeKey, int]
    solutions: int


@dataclass(frozen=True)
class Cut:
    """A region cut out of the day, and what ties it to the rest (:meth:`_Day.region`)."""

    task: RegionTask
    #: For a double-handed visit cut in half, the region's half's node in the day.
    halves: dict[str, int]
    #: Visits left out offered to the region.
    offered: list[str]
    #: Visits outside the region that must not move while it is searched (linked to one it may move).
    holds: frozenset[str]


@dataclass
class RegionsOutcome:
    """Routes after re-optimising regions, and what it took."""

    routes: list[list[int]]
    objective: int
    regions: int
    improved: int
    runtime_s: float


_DAY: DayContext | None = None


def _init_process(day: DayContext) -> None:
    global _DAY  # noqa: PLW0603 - one day per worker process, set once when the pool starts
    _DAY = day
    # Ctrl-C reaches the whole process group. The parent decides what it means (stop
    # the search, keep the best roster); a region's search ends by its own short time
    # limit. A KeyboardInterrupt raised inside OR-Tools' callbacks would abort the process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def solve_region(task: RegionTask, day: DayContext | None = None) -> RegionResult | None:
    """Build the region's model and search it from its current routes.

    Returns ``None`` if the region cannot be modelled (a lock it cannot keep) or
    OR-Tools rejects its routes.
    """
    day = day or _DAY
    assert day is not None, "solve_region needs the day (given, or set by the worker process)"
    sub_plan = dataclasses.replace(day.plan, workers=tuple(day.plan.workers[k] for k in task.workers),
                                   visits=task.visits)
    try:
        model = build_model(sub_plan, day.travel, day.params.replace(time_limit_s=task.time_s), task.locks,
                            context=day, required=task.required)
    except SchedulerError as exc:
        log.debug("region of workers %s skipped: %s", task.workers, exc)
        return None
    key_of: list[NodeKey] = []
    copies: dict[str, int] = {}
    for v in model.node_visit:
        key_of.append((v.id, copies.get(v.id, 0)))
        copies[v.id] = copies.get(v.id, 0) + 1
    node_of = {key: i for i, key in enumerate(key_of)}
    if any(key not in node_of for route in task.routes for key in route):
        return None
    found = improve_routes(model, [[node_of[key] for key in route] for route in task.routes], task.time_s)
    if found is None:
        return None
    return RegionResult(found.before, found.after, [[key_of[i] for i in r] for r in found.routes],
                        {key_of[i]: m for i, m in found.starts.items()}, found.solutions)


class _Day:
    """The day's current routes and starts, and the bookkeeping to cut regions out of it."""

    def __init__(self, model: RoutingModel, routes: list[list[int]], starts: dict[int, int], objective: int):
        self.model = model
        self.routes = [list(r) for r in routes]
        self.starts = dict(starts)
        self.objective = objective
        plan = model.plan
        self.nodes_of: dict[str, list[int]] = {}
        for i, v in enumerate(model.node_visit):
            self.nodes_of.setdefault(v.id, []).append(i)
        # Visits linked to each visit, whichever of the two declares the link.
        self.partners: dict[str, set[str]] = {}
        for v in plan.visits:
            for first, then, _, _ in v.links():
                self.partners.setdefault(first, set()).add(then)
                self.partners.setdefault(then, set()).add(first)
        self.kind = [plan.provider(w.provider_id).kind for w in plan.workers]
        self._home = np.array([[w.start_location.lat, w.start_location.lon] for w in plan.workers], dtype=float)
        self._where = np.array([[plan.visit_location(v).lat, plan.visit_location(v).lon] for v in model.node_visit],
                               dtype=float).reshape(-1, 2)
        self.centre = self._home.copy()
        self.version = [0] * len(plan.workers)
        self.vehicle_of: dict[int, int] = {}
        for k in range(len(plan.workers)):
            self._update(k)

    def _update(self, k: int) -> None:
        for n in self.routes[k]:
            self.vehicle_of[n] = k
        self.centre[k] = self._where[self.routes[k]].mean(axis=0) if self.routes[k] else self._home[k]
        self.version[k] += 1

    def replace(self, workers: Sequence[int], result: RegionResult, halves: dict[str, int]) -> None:
        """Give ``workers`` the routes a region's search found."""
        def day_node(key: NodeKey) -> int:
            return halves[key[0]] if key[0] in halves else self.nodes_of[key[0]][key[1]]

        for k in workers:
            for n in self.routes[k]:
                self.vehicle_of.pop(n, None)
                self.starts.pop(n, None)
        for k, route in zip(workers, result.routes, strict=True):
            self.routes[k] = [day_node(key) for key in route]
            self._update(k)
        self.starts.update({day_node(key): m for key, m in result.starts.items()})
        self.objective -= result.before - result.after

    def left_out(self) -> list[int]:
        """Return the visit nodes nobody serves."""
        return [n for n in range(self.model.n_visit_nodes) if n not in self.vehicle_of]

    def repair_regions(self, size: int, skip: Collection[str] = ()) -> list[tuple[str, list[int]]]:
        """Return a region for each visit left out (dearest penalty first) where it is likeliest to fit.

        The region holds the allowed workers whose routes lie nearest the visit and,
        if the visit is linked to visits served already (a delivery before a carer's
        lunch call), those visits' workers and their neighbours: only a region
        holding both sides can move the served visit to make room. Searched before
        the other regions, these spend the time on the penalties that dwarf travel.
        Visits in ``skip`` (repaired lately) get none.
        """
        model = self.model
        out = {vid: nodes[0] for vid, nodes in self.nodes_of.items()
               if vid not in skip and all(n not in self.vehicle_of for n in nodes) and model.node_allowed[nodes[0]]}
        order = sorted(out, key=lambda vid: (-model.params.penalty(model.node_visit[out[vid]].priority), vid))
        regions = []
        for vid in order:
            n = out[vid]
            workers: set[int] = set()
            for other in sorted(self.partners.get(vid, ())):
                for k in self._workers_of(other):
                    workers.update(self.neighbours(k, max(1, size // 2)))
            allowed = np.array([k for k in model.node_allowed[n] if k not in workers], dtype=int)
            lat0 = math.radians(self._where[n, 0])
            d = (self.centre[allowed] - self._where[n]) * np.array([1.0, math.cos(lat0)])
            nearest = allowed[np.argsort(np.hypot(d[:, 0], d[:, 1]), kind="stable")]
            workers.update(int(k) for k in nearest[:max(1, size - len(workers))])
            regions.append((vid, sorted(workers)))
        return regions

    def neighbours(self, seed: int, size: int) -> list[int]:
        """Return ``seed`` and the workers of the same kind of provider whose routes lie nearest to it, sorted."""
        same = np.array([k for k in range(len(self.kind)) if self.kind[k] == self.kind[seed]])
        lat0 = math.radians(self.centre[seed, 0])
        d = (self.centre[same] - self.centre[seed]) * np.array([1.0, math.cos(lat0)])
        order = np.argsort(np.hypot(d[:, 0], d[:, 1]), kind="stable")
        return sorted(int(k) for k in same[order[:size]])

    def region(self, workers: list[int], time_s: float, taken: set[str],
               busy: Collection[int] = (), frozen: Collection[str] = ()) -> Cut:
        """Cut the region of ``workers`` out of the day.

        Visits left out that are in ``taken`` (another region's) are not offered.
        A visit linked to one served outside the region may move within the times
        the link leaves it, if the outside visit's workers are not in ``busy`` (in
        another region being searched); the outside visit is then held (the cut's
        ``holds``) and must stay put until this region is done. Visits in ``frozen``
        (held for another region) keep their worker and start.
        """
        model, plan = self.model, self.model.plan
        inside = set(workers)
        served_ids = list(dict.fromkeys(model.node_visit[n].id for k in workers for n in self.routes[k]))
        served_set = set(served_ids)
        left_out = [vid for vid, nodes in self.nodes_of.items()
                    if vid not in taken and all(n not in self.vehicle_of for n in nodes)
                    and any(k in inside for k in model.node_allowed[nodes[0]])]
        members = served_set | set(left_out)
        visits: list[Visit] = []
        locks: list[LockedStop] = []
        halves: dict[str, int] = {}
        offered: list[str] = []
        required: set[str] = set()
        holds: set[str] = set()
        for vid in served_ids + left_out:
            visit = plan.visit(vid)
            nodes = self.nodes_of[vid]
            outside = [n for n in nodes if n in self.vehicle_of and self.vehicle_of[n] not in inside]
            linked = self._linked_outside(visit, members)
            tied = (vid in frozen or any(n in model.node_lock for n in nodes)
                    or any(k in busy for other in linked for k in self._workers_of(other)))
            low, high = visit.window.start, visit.window.end
            if not tied:
                for other, (lo, hi) in linked.items():
                    low, high = max(low, lo), min(high, hi)
                tied = low > high  # the links leave it no time: it stays as it is
            if vid not in served_set:
                if tied:
                    continue  # left out, and linked to a visit it cannot be served with: it stays out
                offered.append(vid)
            if outside:
                (half,) = [n for n in nodes if n not in outside]
                halves[vid] = half
                pinned = visit.pinned_worker_id
                if pinned is not None and plan.workers[self.vehicle_of[half]].id == pinned:
                    tied = True  # the pinned worker's half stays theirs
                visit = dataclasses.replace(visit, workers_required=1, pinned_worker_id=None)
                if not tied:
                    # The other half starts then, outside: any worker of the region may take
                    # this half at that very minute, but nobody may leave it out.
                    low = high = self.starts[half] * 60
                    required.add(vid)
            if tied:
                locks.extend(LockedStop(vid, plan.workers[self.vehicle_of[n]].id, self.starts[n] * 60)
                             for n in nodes if self.vehicle_of.get(n, -1) in inside)
            else:
                holds.update(linked)
                if (low, high) != (visit.window.start, visit.window.end):
                    visit = dataclasses.replace(visit, window=TimeWindow(low, high))
            visits.append(visit)

        def key(n: int) -> NodeKey:
            vid = model.node_visit[n].id
            return (vid, 0) if vid in halves else (vid, self.nodes_of[vid].index(n))

        routes = tuple(tuple(key(n) for n in self.routes[k]) for k in workers)
        task = RegionTask(tuple(workers), tuple(visits), tuple(locks), routes, time_s, frozenset(required))
        return Cut(task, halves, offered, frozenset(holds))

    def _linked_outside(self, visit: Visit, members: set[str]) -> dict[str, tuple[int, int]]:
        """Return the visits linked to ``visit`` served outside the region, each with the starts it leaves ``visit`` (s)."""
        plan = self.model.plan
        out: dict[str, tuple[int, int]] = {}
        for other in self.partners.get(visit.id, ()):
            if other in members or not self._served(other):
                continue
            at = min(self.starts[n] for n in self.nodes_of[other] if n in self.vehicle_of)  # minutes
            lo, hi = 0, DAY_S
            for first, then, low, high in plan.visit(visit.id).links() + plan.visit(other).links():
                if (first, then) == (other, visit.id):  # it starts after the other ends
                    end = at + plan.visit(other).duration_min
                    lo = max(lo, (end + low) * 60)
                    if high is not None:
                        hi = min(hi, (end + high) * 60)
                elif (first, then) == (visit.id, other):  # it ends before the other starts
                    if high is not None:
                        lo = max(lo, (at - visit.duration_min - high) * 60)
                    hi = min(hi, (at - visit.duration_min - low) * 60)
            out[other] = (lo, hi)
        return out

    def _workers_of(self, vid: str) -> list[int]:
        return [self.vehicle_of[n] for n in self.nodes_of.get(vid, ()) if n in self.vehicle_of]

    def _served(self, vid: str) -> bool:
        return any(n in self.vehicle_of for n in self.nodes_of.get(vid, ()))


class _InProcess(Executor):
    """Runs each task at once in this process: the one-core case, with the pool's interface."""

    def __init__(self, day: DayContext):
        self._day = day

    def submit(self, fn, /, *args, **kwargs):  # noqa: ANN001, ANN202 - Executor's signature
        future: Future = Future()
        future.set_result(fn(*args, day=self._day, **kwargs))
        return future


def _executor(day: DayContext, processes: int) -> Executor:
    """Return a pool of ``processes`` worker processes, or an in-process runner for one."""
    if processes > 1:
        try:
            return process_pool(processes, initializer=_init_process, initargs=(day,))
        except (OSError, ValueError) as exc:  # no processes to be had: go on in this one
            log.warning("cannot start %d region processes (%s); using one", processes, exc)
    return _InProcess(day)


def improve_by_regions(
    model: RoutingModel, routes: list[list[int]], starts: dict[int, int], objective: int, *, budget_s: float,
    record: Callable[[int, Callable[[], list[int]]], None] | None = None,
    region_workers: int | None = None, region_time_s: float | None = None, processes: int = 1, seed: int = 0,
    stop: StopFlag | None = None,
) -> RegionsOutcome:
    """Re-optimise the day region by region until ``budget_s`` seconds are spent or no region improves.

    Parameters
    ----------
    model
        The whole day's model.
    routes, starts, objective
        A solution of it: per worker the visit nodes served in order, each served
        node's start (minutes), and its objective.
    budget_s
        Time to spend (seconds); no region starts when less than a region's time is left.
    record
        Called with the day's objective and a function returning the nodes left out,
        after each region that improved it.
    region_workers
        Workers per region (default :data:`REGION_WORKERS`).
    region_time_s
        Search time per region (seconds; default :data:`REGION_TIME_S`).
    processes
        Regions searched at once, each in its own process (regions in flight share no worker).
    seed
        Seed of the order in which regions are visited.
    stop
        Once set, no region starts; the regions under way finish (each within
        its short time limit) and their improvements are kept.

    Returns
    -------
    RegionsOutcome
        The day's routes and objective afterwards.
    """
    t0 = time.perf_counter()
    region_workers = region_workers or REGION_WORKERS
    region_time_s = region_time_s or REGION_TIME_S
    day = _Day(model, routes, starts, objective)
    rng = np.random.default_rng(seed)
    n = len(day.routes)
    tried: dict[tuple[int, ...], tuple[int, ...]] = {}  # region -> its routes' versions when it did not improve
    queue: deque[int] = deque()
    pending: dict[Future, tuple[Cut, tuple[int, ...]]] = {}
    busy: set[int] = set()
    taken: set[str] = set()
    frozen: Counter[str] = Counter()
    repaired: dict[str, int] = {}  # visit left out -> regions searched when its last repair began
    regions = improved = 0

    def cut_of(workers: list[int]) -> tuple[Cut, tuple[int, ...]] | None:
        versions = tuple(day.version[k] for k in workers)
        if busy.intersection(workers) or tried.get(tuple(workers)) == versions:
            return None
        return day.region(workers, region_time_s, taken, busy, frozen), versions

    def next_cut() -> tuple[Cut, tuple[int, ...]] | None:
        # A region that may take in a visit left out comes first (again every REPAIR_AGAIN_AFTER regions),
        # then every route in turn.
        lately = {vid for vid, at in repaired.items() if regions - at < REPAIR_AGAIN_AFTER}
        for vid, workers in day.repair_regions(region_workers, skip=lately):
            got = cut_of(workers)
            if got is not None:
                log.debug("repair region for visit %s left out (after %d regions): workers %s",
                          vid, regions, workers)
                repaired[vid] = regions
                return got
        for _ in range(2 * n):
            if not queue:
                queue.extend(int(k) for k in rng.permutation(n) if day.routes[k])
                if not queue:
                    return None
            got = cut_of(day.neighbours(queue.popleft(), region_workers))
            if got is not None:
                return got
        return None

    context = DayContext(model.plan, model.travel, model.params, model.node_visit)
    pool = _executor(context, processes)
    try:
        while True:
            while (len(pending) < max(1, processes) and budget_s - (time.perf_counter() - t0) >= region_time_s
                   and not (stop is not None and stop.is_set())):
                got = next_cut()
                if got is None:
                    break
                cut = got[0]
                busy.update(cut.task.workers)
                taken.update(cut.offered)
                frozen.update(cut.holds)
                pending[pool.submit(solve_region, cut.task)] = got
            if not pending:
                break  # out of time, or every region is at its local optimum
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                cut, versions = pending.pop(future)
                busy.difference_update(cut.task.workers)
                taken.difference_update(cut.offered)
                frozen.subtract(cut.holds)
                frozen += Counter()  # drop the visits no region holds any more
                regions += 1
                try:
                    result = future.result()
                except BrokenProcessPool as exc:
                    log.warning("region processes stopped (%s); keeping the day as it is now", exc)
                    return _outcome(day, regions, improved, t0)
                if result is None or result.after >= result.before:
                    tried[cut.task.workers] = versions
                    continue
                improved += 1
                day.replace(cut.task.workers, result, cut.halves)
                if record is not None:
                    record(day.objective, day.left_out)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return _outcome(day, regions, improved, t0)


def _outcome(day: _Day, regions: int, improved: int, t0: float) -> RegionsOutcome:
    runtime = time.perf_counter() - t0
    log.info("regions: %d searched, %d improved, objective %d, in %.1f s", regions, improved, day.objective, runtime)
    return RegionsOutcome(day.routes, day.objective, regions, improved, runtime)
