"""A first roster built by insertion, which seats double-handed visits as pairs.

OR-Tools' first-solution heuristics insert one node at a time, so a visit that
needs two workers at the same minute often blocks them. This heuristic inserts
visits in order of difficulty (priority, then double-handed, then fewest
eligible workers, then narrowest window), each at its cheapest feasible place
(travel, plus continuity of care weighed :data:`CONTINUITY_FACTOR` times over);
the two places of a double-handed visit go to two different workers at one
common start minute, which is then fixed. Route feasibility is kept with the
classic earliest/latest start times per stop, so each check is O(1): each worker's day
is a :class:`scheduler.day.Day`, the engine every "fits in this day" asks.

Everything is in the model's units: minutes for time, seconds for cost.
"""

from __future__ import annotations

import logging
import time

from scheduler.day import Day, NodeData, link_window
from scheduler.errors import PlanError, Problem
from scheduler.rules import double_handed_limit, equipment
from scheduler.shifts import break_needs, gaps, stints
from scheduler.timeutil import format_hhmm
from solver.model import HORIZON_MIN as HORIZON, RoutingModel

log = logging.getLogger("homecare.construct")

#: The first roster weighs continuity of care this many times as heavily as the search
#: does (``SolveParams.continuity_weight_s``). The search is good at cutting travel
#: within a few neighbouring routes and slow at handing a client's visits to the worker
#: they know, who is often working elsewhere that day: after 60 s and after 10 minutes
#: of search the 1,000-visit day's travel differed by 0.7%, its continuity cost by 7%.
#: So the first roster leans towards familiar workers and the search pays for it in
#: travel. Measured on that day, 60-second solves: factor 1 339,516 (eight solves),
#: 2 333,048, 4 331,498 and 8 329,962 (four each); with repeated repair regions
#: (:data:`solver.decompose.REPAIR_AGAIN_AFTER`) 328,078, 1.83% above the 10-minute
#: solves (``benchmarks/RESULTS.md``, eighth round).
CONTINUITY_FACTOR = 4


class _Route(Day):
    """A worker's day in the first roster: the engine's day, plus its vehicle and its gaps between stints."""

    __slots__ = ("gap_blocks", "vehicle")


class _Constructor:
    def __init__(self, model: RoutingModel):
        self.m = model
        plan = model.plan
        n = model.n_visit_nodes
        self.loc = model.node_location[:n].tolist()
        self.dur = [v.duration_min for v in model.node_visit]
        # Window starts as the model has them (a re-plan's lock time raises some).
        time_dim, manager = model.time_dim, model.manager
        self.lo = [time_dim.CumulVar(manager.NodeToIndex(i)).Min() for i in range(n)]
        self.hi = [v.window.end // 60 for v in model.node_visit]
        self.demand = [v.demand for v in model.node_visit]
        # Per worker and visit node, what serving it costs in continuity, as this heuristic weighs it.
        self.stranger = (None if model.stranger_cost is None
                         else (model.stranger_cost * CONTINUITY_FACTOR).tolist())
        self.fixed: dict[int, int] = {}
        self.data = NodeData(self.loc, self.lo, self.hi, self.dur, self.demand, self.fixed,
                             [int(v.workers_required == 2) for v in model.node_visit])
        # Links between visits, on their first node: node -> [(other node, min gap, max gap, node is first)].
        first = {}
        for node, visit in enumerate(model.node_visit):
            first.setdefault(visit.id, node)
        self.links: dict[int, list[tuple[int, int, int | None, bool]]] = {}
        for visit in plan.visits:
            for a_id, b_id, gap_lo, gap_hi in (*visit.links(), *equipment.links(plan, visit)):
                if a_id in first and b_id in first:
                    a, b = first[a_id], first[b_id]
                    self.links.setdefault(a, []).append((b, gap_lo, gap_hi, True))
                    self.links.setdefault(b, []).append((a, gap_lo, gap_hi, False))
        tt, cost = {}, {}
        for mode in {w.travel_mode for w in plan.workers}:
            seconds = model.travel.matrix(mode).time_s
            cost[mode] = seconds.tolist()
            tt[mode] = (-(-seconds // 60)).tolist()
        self.routes = []
        self.rests: dict[int, list[tuple[int, int, int]]] = {}  # per vehicle: break window and length (min)
        for k, w in enumerate(plan.workers):
            periods = stints(w)
            # Gaps between stints, and each rest break pencilled in mid-window; the search may move it.
            blocks = [(g.start // 60, g.end // 60) for g in gaps(w)]
            self.rests[k] = [(-(-need.window.start // 60), need.window.end // 60, need.duration_s // 60)
                             for need in break_needs(plan, w)]
            for lo_b, hi_b, d_b in self.rests[k]:
                at = (lo_b + hi_b) // 2
                blocks.append((at, at + d_b))
            r = _Route(self.data, start_loc=int(model.node_location[n + 2 * k]),
                       end_loc=int(model.node_location[n + 2 * k + 1]),
                       ready=time_dim.CumulVar(model.routing.Start(k)).Min(), bound=periods[-1].end // 60,
                       tt=tt[w.travel_mode], cost=cost[w.travel_mode], blocks=blocks, capacity=w.capacity,
                       max_count=w.max_visits, work_cap=plan.day_limit_min(w),
                       double_cap=double_handed_limit.limit(plan, w))
            r.vehicle, r.gap_blocks = k, [(g.start // 60, g.end // 60) for g in gaps(w)]
            self.routes.append(r)

    def _slots(self, x: int, r: _Route) -> list[tuple[int, int, int, int]]:
        """Return (delta cost, lo, hi, position) of every feasible place for node x in r."""
        return r.slots(x, 0 if self.stranger is None else self.stranger[r.vehicle][x])

    def _insert(self, x: int, r: _Route, p: int, at: int | None = None) -> None:
        r.insert(x, p, at)

    def link_bounds(self, x: int) -> tuple[int, int] | None:
        """Return the start minutes that x's links to already placed visits allow, or None if unlinked.

        Linked visits are fixed in time when placed, so these bounds stay valid.
        """
        links = self.links.get(x)
        if not links:
            return None
        fixed, dur = self.fixed, self.dur
        return link_window(dur[x], ((fixed[other] if x_is_first else fixed[other] + dur[other], gap_lo, gap_hi,
                                     x_is_first) for other, gap_lo, gap_hi, x_is_first in links if other in fixed),
                           lo=-HORIZON, hi=HORIZON)

    def insert_single(self, x: int, allowed: list[int]) -> bool:
        bounds = self.link_bounds(x)
        best = None
        for v in allowed:
            r = self.routes[v]
            for delta, lo, hi, p in self._slots(x, r):
                if bounds is not None:
                    lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
                    if lo > hi:
                        continue
                if best is None or delta < best[0]:
                    best = (delta, v, p, lo)
        if best is None:
            return False
        self._insert(x, self.routes[best[1]], best[2], at=best[3] if bounds is not None else None)
        return True

    def place_locked(self) -> list[tuple[int, int]]:
        """Put every locked node on its route at its time; return (node, vehicle) of locks that clash."""
        by_vehicle: dict[int, list[int]] = {}
        for node, (vehicle, start) in self.m.node_lock.items():
            self.fixed[node] = start
            by_vehicle.setdefault(vehicle, []).append(node)
        clashes = []
        for vehicle, nodes in by_vehicle.items():
            r = self.routes[vehicle]
            r.nodes = sorted(nodes, key=lambda x: self.fixed[x])
            late = r.refresh()
            if late and self.rests.get(vehicle):
                late = self._pencil_breaks_around_locks(r)
            clashes += [(x, vehicle) for x in late]
        return clashes

    def _pencil_breaks_around_locks(self, r: _Route) -> list[int]:
        """Move a route's pencilled breaks so its locked stops keep their times, if some time works.

        Tries each break at its window's edges and just before or after each locked stop;
        returns the locked nodes that still cannot keep their time.
        """
        rests: list[tuple[int, int]] = []
        late: list[int] = []
        for lo_b, hi_b, d_b in self.rests[r.vehicle]:
            candidates = {lo_b, hi_b, *(self.fixed[x] + self.dur[x] for x in r.nodes),
                          *(self.fixed[x] - d_b for x in r.nodes)}
            for at in sorted(c for c in candidates if lo_b <= c <= hi_b):
                r.blocks = sorted(r.gap_blocks + rests + [(at, at + d_b)])
                late = r.refresh()
                if not late:
                    rests.append((at, at + d_b))
                    break
            else:
                return late
        return late

    def insert_at(self, x: int, allowed: list[int], at: int, not_vehicle: int) -> bool:
        """Insert node x at start minute ``at`` on the cheapest route other than ``not_vehicle``."""
        best = None
        for v in allowed:
            if v == not_vehicle:
                continue
            for delta, lo, hi, p in self._slots(x, self.routes[v]):
                if lo <= at <= hi and (best is None or delta < best[0]):
                    best = (delta, v, p)
        if best is None:
            return False
        self._insert(x, self.routes[best[1]], best[2], at=at)
        return True

    def insert_pair(self, a: int, b: int, allowed_a: list[int], allowed_b: list[int]) -> bool:
        """Insert nodes a and b on two different routes at one common start minute."""
        bounds = self.link_bounds(a) or (-HORIZON, HORIZON)
        first = sorted((d, lo, hi, v, p) for v in allowed_a for d, lo, hi, p in self._slots(a, self.routes[v]))
        if allowed_b == allowed_a:
            second = first
        else:
            second = sorted((d, lo, hi, v, p) for v in allowed_b for d, lo, hi, p in self._slots(b, self.routes[v]))
        best = None
        for d1, lo1, hi1, v1, p1 in first:
            if best is not None and d1 + (second[0][0] if second else 0) >= best[0]:
                break
            for d2, lo2, hi2, v2, p2 in second:
                if best is not None and d1 + d2 >= best[0]:
                    break
                start = max(lo1, lo2, bounds[0])
                if v2 != v1 and start <= min(hi1, hi2, bounds[1]):
                    best = (d1 + d2, start, v1, p1, v2, p2)
                    break
        if best is None:
            return False
        _, t, v1, p1, v2, p2 = best
        self._insert(a, self.routes[v1], p1, at=t)
        self._insert(b, self.routes[v2], p2, at=t)
        return True


def construct_routes(model: RoutingModel, allowed: list[list[int]], *, rounds: int = 12,
                     budget_s: float | None = None) -> list[list[int]]:
    """Build a feasible first roster by insertion, retrying with the hardest visits first.

    After a pass, visits that found no place move to the front of their
    priority class for the next pass ("squeaky wheel"); the pass that leaves
    the least penalty unplaced, then the least travel, wins.

    Parameters
    ----------
    model
        The compiled model.
    allowed
        Per visit node, the vehicles (workers) allowed to serve it.
    rounds
        Most passes to make; stops early once every visit is placed.
    budget_s
        No new pass starts after this many seconds (the first always runs): on
        a big day one pass takes about a second and the search does better with the time.

    Returns
    -------
    list of list of int
        Per vehicle, the visit *nodes* it serves in order; nodes that could not
        be placed are left out.
    """
    groups: dict[str, list[int]] = {}
    for node, visit in enumerate(model.node_visit):
        groups.setdefault(visit.id, []).append(node)
    rank = {"mandatory": 0, "high": 1, "normal": 2, "low": 3}
    penalty = {vid: model.params.penalty(model.node_visit[nodes[0]].priority) * len(nodes)
               for vid, nodes in groups.items()}
    boost: dict[str, int] = {}
    best: tuple[tuple[int, int], list[list[int]]] | None = None
    t0 = time.perf_counter()
    for done in range(max(1, rounds)):
        if done and budget_s is not None and time.perf_counter() - t0 >= budget_s:
            log.info("first roster: %d passes in %.1f s, %d visit(s) unplaced", done,
                     time.perf_counter() - t0, len(failed))
            break
        c = _Constructor(model)
        clashes = c.place_locked()
        if clashes:
            raise PlanError(
                Problem("visit", model.node_visit[x].id, "locked",
                        f"locked stop with worker {model.plan.workers[v].id!r} at "
                        f"{format_hhmm(c.fixed[x] * 60)} cannot be kept: the worker cannot get "
                        "there from the stop before it, or on to the next one, within their shift")
                for x, v in clashes)

        def difficulty(vid: str, c: _Constructor = c) -> tuple:
            nodes = groups[vid]
            v = model.node_visit[nodes[0]]
            return (rank[v.priority], -boost.get(vid, 0), -len(nodes), len(allowed[nodes[0]]),
                    c.hi[nodes[0]] - c.lo[nodes[0]], c.lo[nodes[0]])

        failed = []
        for vid in sorted(groups, key=difficulty):
            nodes = groups[vid]
            free = [x for x in nodes if x not in model.node_lock]
            if not free:
                continue
            if len(nodes) == 1:
                ok = c.insert_single(nodes[0], allowed[nodes[0]])
            elif len(free) == 1:
                (held,) = [x for x in nodes if x in model.node_lock]
                ok = c.insert_at(free[0], allowed[free[0]], c.fixed[held], model.node_lock[held][0])
            else:
                ok = c.insert_pair(nodes[0], nodes[1], allowed[nodes[0]], allowed[nodes[1]])
            if not ok:
                failed.append(vid)
        travel = sum(r.cost[a][b] for r in c.routes
                     for a, b in zip([r.start_loc, *(c.loc[x] for x in r.nodes)],
                                     [*(c.loc[x] for x in r.nodes), r.end_loc], strict=True))
        score = (sum(penalty[vid] for vid in failed), travel)
        if best is None or score < best[0]:
            best = (score, [list(r.nodes) for r in c.routes])
        if not failed:
            break
        for vid in failed:
            boost[vid] = boost.get(vid, 0) + 1
    assert best is not None
    # A locked place of a double-handed visit forces its partner in: if the partner found
    # no worker at that minute, the lock cannot be kept.
    placed = {x for nodes in best[1] for x in nodes}
    stranded = [(x, v) for x, (v, _) in model.node_lock.items()
                if any(y not in placed for y in groups[model.node_visit[x].id])]
    if stranded:
        raise PlanError(
            Problem("visit", model.node_visit[x].id, "locked",
                    f"double-handed visit is locked to worker {model.plan.workers[v].id!r} at "
                    f"{format_hhmm(model.node_lock[x][1] * 60)}, but no second eligible "
                    "worker can join at that minute: unlock it or add a worker on shift then")
            for x, v in stranded)
    # A visit that needs equipment only an installation left out would put in place is left out too.
    served = {model.node_visit[x].id for x in placed}
    waiting = {vid for vid in served
               if equipment.available_from(model.plan, model.plan.visit(vid), dict.fromkeys(served, 0)) is None}
    return [[x for x in nodes if model.node_visit[x].id not in waiting] for nodes in best[1]]
