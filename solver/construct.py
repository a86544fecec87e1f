"""A first roster built by insertion, which seats double-handed visits as pairs.

OR-Tools' first-solution heuristics insert one node at a time, so a visit that
needs two workers at the same minute often blocks them. This heuristic inserts
visits in order of difficulty (priority, then double-handed, then fewest
eligible workers, then narrowest window), each at its cheapest feasible place
(travel, plus continuity of care weighed :data:`CONTINUITY_FACTOR` times over);
the two places of a double-handed visit go to two different workers at one
common start minute, which is then fixed. Route feasibility is kept with the
classic earliest/latest start times per stop, so each check is O(1).

Everything is in the model's units: minutes for time, seconds for cost.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from scheduler.errors import PlanError, Problem
from scheduler.shifts import break_needs, earliest_start, gaps, latest_start, stints
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


@dataclass
class _Route:
    vehicle: int
    start_loc: int
    end_loc: int
    shift_lo: int
    shift_hi: int
    capacity: int | None
    tt: list[list[int]]
    cost: list[list[int]]
    work_cap: int | None = None
    max_count: int | None = None
    blocks: list[tuple[int, int]] = field(default_factory=list)  # gaps and breaks (minutes)
    gap_blocks: list[tuple[int, int]] = field(default_factory=list)  # gaps between stints only
    nodes: list[int] = field(default_factory=list)
    earliest: list[int] = field(default_factory=list)
    latest: list[int] = field(default_factory=list)
    load: int = 0
    work: int = 0


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
        # Links between visits, on their first node: node -> [(other node, min gap, max gap, node is first)].
        first = {}
        for node, visit in enumerate(model.node_visit):
            first.setdefault(visit.id, node)
        self.links: dict[int, list[tuple[int, int, int | None, bool]]] = {}
        for visit in plan.visits:
            for a_id, b_id, gap_lo, gap_hi in visit.links():
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
            self.routes.append(_Route(
                k, int(model.node_location[n + 2 * k]), int(model.node_location[n + 2 * k + 1]),
                time_dim.CumulVar(model.routing.Start(k)).Min(), periods[-1].end // 60, w.capacity, tt[w.travel_mode],
                cost[w.travel_mode], plan.day_limit_min(w), w.max_visits, sorted(blocks),
                [(g.start // 60, g.end // 60) for g in gaps(w)]))
        for r in self.routes:
            self._refresh(r)

    def _refresh(self, r: _Route) -> list[int]:
        """Recompute earliest and latest starts; return the fixed nodes that cannot keep their time."""
        loc, dur = self.loc, self.dur
        late_fixed: list[int] = []
        e, prev_loc, ready = [], r.start_loc, r.shift_lo
        for x in r.nodes:
            if r.blocks:
                t = earliest_start(ready, r.tt[prev_loc][loc[x]], self.lo[x], dur[x], r.blocks)
            else:
                t = max(self.lo[x], ready + r.tt[prev_loc][loc[x]])
            if x in self.fixed:
                if t > self.fixed[x]:
                    late_fixed.append(x)
                t = self.fixed[x]
            e.append(t)
            ready, prev_loc = t + dur[x], loc[x]
        late = [0] * len(r.nodes)
        nxt_loc, bound = r.end_loc, r.shift_hi
        for i in range(len(r.nodes) - 1, -1, -1):
            x = r.nodes[i]
            if r.blocks:
                t = latest_start(bound, r.tt[loc[x]][nxt_loc], self.hi[x], dur[x], r.blocks)
            else:
                t = min(self.hi[x], bound - r.tt[loc[x]][nxt_loc] - dur[x])
            if x in self.fixed:
                if t < self.fixed[x] and x not in late_fixed:
                    late_fixed.append(x)
                t = min(t, self.fixed[x])
            late[i] = t
            bound, nxt_loc = t, loc[x]
        r.earliest, r.latest = e, late
        stops = [r.start_loc, *(loc[x] for x in r.nodes), r.end_loc]
        r.work = sum(dur[x] for x in r.nodes) + sum(r.tt[a][b] for a, b in zip(stops, stops[1:]))
        return late_fixed

    def _slots(self, x: int, r: _Route) -> list[tuple[int, int, int, int]]:
        """Return (delta cost, lo, hi, position) of every feasible place for node x in r."""
        if r.capacity is not None and r.load + self.demand[x] > r.capacity:
            return []
        if r.max_count is not None and len(r.nodes) >= r.max_count:
            return []
        loc, dur, tt, cost = self.loc, self.dur, r.tt, r.cost
        lx, dx = loc[x], dur[x]
        stranger = 0 if self.stranger is None else self.stranger[r.vehicle][x]
        out = []
        nodes = r.nodes
        for p in range(len(nodes) + 1):
            if p == 0:
                prev_loc, ready = r.start_loc, r.shift_lo
            else:
                prev_loc, ready = loc[nodes[p - 1]], r.earliest[p - 1] + dur[nodes[p - 1]]
            if r.blocks:
                lo = earliest_start(ready, tt[prev_loc][lx], self.lo[x], dx, r.blocks)
            else:
                lo = max(self.lo[x], ready + tt[prev_loc][lx])
            if lo > self.hi[x]:
                break  # later positions only start later
            next_loc = loc[nodes[p]] if p < len(nodes) else r.end_loc
            bound = r.latest[p] if p < len(nodes) else r.shift_hi
            if r.blocks:
                hi = latest_start(bound, tt[lx][next_loc], self.hi[x], dx, r.blocks)
            else:
                hi = min(self.hi[x], bound - tt[lx][next_loc] - dx)
            if r.work_cap is not None and (
                    r.work + dx + tt[prev_loc][lx] + tt[lx][next_loc] - tt[prev_loc][next_loc] > r.work_cap):
                continue
            if lo <= hi:
                out.append((cost[prev_loc][lx] + cost[lx][next_loc] - cost[prev_loc][next_loc] + stranger,
                            lo, hi, p))
        return out

    def _insert(self, x: int, r: _Route, p: int, at: int | None = None) -> None:
        if at is not None:
            self.fixed[x] = at
        r.nodes.insert(p, x)
        r.load += self.demand[x]
        self._refresh(r)

    def link_bounds(self, x: int) -> tuple[int, int] | None:
        """Return the start minutes that x's links to already placed visits allow, or None if unlinked.

        Linked visits are fixed in time when placed, so these bounds stay valid.
        """
        links = self.links.get(x)
        if not links:
            return None
        lo, hi = -HORIZON, HORIZON
        for other, gap_lo, gap_hi, x_is_first in links:
            if other not in self.fixed:
                continue
            t = self.fixed[other]
            if x_is_first:  # x ends gap_lo..gap_hi before other starts
                hi = min(hi, t - self.dur[x] - gap_lo)
                if gap_hi is not None:
                    lo = max(lo, t - self.dur[x] - gap_hi)
            else:  # x starts gap_lo..gap_hi after other ends
                lo = max(lo, t + self.dur[other] + gap_lo)
                if gap_hi is not None:
                    hi = min(hi, t + self.dur[other] + gap_hi)
        return lo, hi

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
            r.load = sum(self.demand[x] for x in nodes)
            late = self._refresh(r)
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
                late = self._refresh(r)
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
    return best[1]
