"""The search's filter for tied starts (:mod:`solver.gaps`) turns down only hopeless moves.

Tied starts: the two places of a double-handed visit, and linked visits.
"""

from __future__ import annotations

import numpy as np
import pytest
from ortools.constraint_solver import pywrapcp

from scheduler.io import plan_from_dict
from scheduler.model import Plan
from scheduler.validate import check_roster
from solver import SolveParams, solve, travel_for
from solver.construct import construct_routes
from solver.generate import generate_day
from solver.improve import search_parameters
from solver.model import RoutingModel, build_model, read_routes, restore
from solver.travel import PlanTravel
from tests.helpers import LONDON_OSM, client, plan_dict, visit, worker

PARAMS = SolveParams(time_limit_s=2)


@pytest.fixture(scope="module")
def day(london_network, network_cache_dir) -> tuple[Plan, PlanTravel]:
    """Return a generated day of 120 central-London visits, some double-handed or linked."""
    plan = generate_day(LONDON_OSM, seed=3, n_visits=120, cache_dir=network_cache_dir,
                        radius_m=1500)
    assert sum(v.workers_required == 2 for v in plan.visits) >= 10
    assert sum(bool(v.links()) for v in plan.visits) >= 2
    return plan, travel_for(plan, london_network)


def _first_roster(plan: Plan, travel: PlanTravel) -> tuple[RoutingModel, list[list[int]]]:
    model = build_model(plan, travel, PARAMS)
    routes = construct_routes(model, model.node_allowed)
    model.routing.CloseModelWithParameters(search_parameters(PARAMS))
    start = restore(model, routes)
    assert start is not None
    model.gap_filter.Synchronize(start, None)
    return model, read_routes(model, start)[0]


def _nexts(model: RoutingModel, routes: list[list[int]]) -> dict[int, int]:
    """Each routing index's next under ``routes`` (a node nobody serves is its own next)."""
    routing, manager = model.routing, model.manager
    out = {i: i for i in range(routing.Size())}
    for k, nodes in enumerate(routes):
        path = [routing.Start(k), *(manager.NodeToIndex(n) for n in nodes), routing.End(k)]
        out.update(zip(path[:-1], path[1:], strict=False))
    return out


def _relocations(model: RoutingModel, routes: list[list[int]], rng: np.random.Generator,
                 count: int) -> list[list[list[int]]]:
    """Return ``count`` random moves of a tied place (double-handed or linked) to another route.

    The route is one the place is eligible for, the position on it at random.
    """
    places = [n for route in routes for n in route
              if (model.node_visit[n].workers_required == 2 or model.node_visit[n].links())
              and len(model.node_allowed[n]) > 1]
    out = []
    for _ in range(count):
        node = int(rng.choice(places))
        source = next(k for k, route in enumerate(routes) if node in route)
        target = int(rng.choice([k for k in model.node_allowed[node] if k != source]))
        moved = [[n for n in route if n != node] for route in routes]
        moved[target].insert(int(rng.integers(len(moved[target]) + 1)), node)
        out.append(moved)
    return out


def _delta(model: RoutingModel, routes: list[list[int]],
           moved: list[list[int]]) -> pywrapcp.Assignment:
    """Return the move from ``routes`` to ``moved`` as filters get it: the changed nexts."""
    routing = model.routing
    before, after = _nexts(model, routes), _nexts(model, moved)
    delta = routing.solver().Assignment()
    for i, j in after.items():
        if before[i] != j:
            delta.Add(routing.NextVar(i))
            delta.SetValue(routing.NextVar(i), j)
    return delta


def _accepts(model: RoutingModel, routes: list[list[int]], moved: list[list[int]]) -> bool:
    """Ask the filter about the move from ``routes`` to ``moved``."""
    empty = model.routing.solver().Assignment()
    return model.gap_filter.Accept(_delta(model, routes, moved), empty, 0, 2**62)


def test_filter_turns_down_only_moves_the_model_rejects(day):
    """Every move the filter turns down is one OR-Tools' model rejects; and it does turn some down.

    300 random moves of a double-handed or linked visit's place to another route: for
    each, the filter's answer, and whether OR-Tools accepts the routes (propagating every
    constraint, the time equality of the two places and the links included).
    """
    model, routes = _first_roster(*day)
    turned_down = accepted_by_model = 0
    for moved in _relocations(model, routes, np.random.default_rng(0), 300):
        passes = _accepts(model, routes, moved)
        feasible = restore(model, moved) is not None
        assert passes or not feasible, "the filter turned down a move the model accepts"
        turned_down += not passes
        accepted_by_model += feasible
    assert turned_down >= 30  # most of these moves put the two places at times that cannot meet
    assert accepted_by_model >= 1


def test_filter_follows_the_search_move_by_move(day):
    """Synchronised move by move, the filter judges as when synchronised with the whole solution.

    OR-Tools synchronises a filter with each move it makes, passing only the move;
    the filter's answers must then match those after reading the whole solution.
    """
    model, routes = _first_roster(*day)
    rng = np.random.default_rng(1)
    moved = next(m for m in _relocations(model, routes, rng, 200) if restore(model, m) is not None)
    model.gap_filter.Synchronize(restore(model, moved), _delta(model, routes, moved))
    probes = _relocations(model, moved, rng, 150)
    step_by_step = [_accepts(model, moved, m) for m in probes]
    model.gap_filter.Synchronize(restore(model, moved), None)
    assert [_accepts(model, moved, m) for m in probes] == step_by_step
    assert not all(step_by_step) and any(step_by_step)


def test_search_uses_the_filter_and_the_roster_is_valid(day, monkeypatch):
    """The search asks the filter, which turns moves down, and the roster obeys every rule."""
    import solver.model

    plan, travel = day
    built: list[RoutingModel] = []

    def keep(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - build_model's own signature
        built.append(model := build_model(*args, **kwargs))
        return model

    monkeypatch.setattr(solver.model, "build_model", keep)
    roster = solve(plan, params=PARAMS, travel=travel).roster
    assert not check_roster(plan, roster, travel=travel)
    (model,) = built
    assert model.gap_filter.calls > 0 and model.gap_filter.rejected > 0


def test_no_filter_without_double_handed_visits(london_network):
    """A day without double-handed visits gets no filter; one with such a visit gets one."""
    def model_for(required: int) -> RoutingModel:
        plan_kw = dict(workers=[worker("w1"), worker("w2", start_location="queen_sq")],
                       clients=[client("c1", location="fitzroy_sq")],
                       visits=[visit("v1", "c1", workers_required=required)])
        plan = plan_from_dict(plan_dict(**plan_kw))
        return build_model(plan, travel_for(plan, london_network), PARAMS)

    assert model_for(1).gap_filter is None
    assert model_for(2).gap_filter is not None


def _chain_plan() -> Plan:
    """Return a day whose one hopeless move shows only through a chain of ties over three routes.

    ``x`` and ``y`` are linked visits to one client (``y`` starts within 20 minutes of
    ``x``'s end, and ``x`` ends by 09:30); ``d`` is double-handed; ``p`` can only start
    10:00 to 10:10.
    """
    def at(name: str) -> dict:
        return client(name, location=name)

    return plan_from_dict(plan_dict(
        workers=[worker("w1"), worker("w2"), worker("w3")],
        clients=[at("fitzroy_sq"), at("warren_st"), at("portland_pl")],
        visits=[visit("x", "fitzroy_sq", window=("08:00", "09:00")),
                visit("d", "warren_st", window=("08:00", "12:00"), workers_required=2),
                visit("y", "fitzroy_sq", window=("08:00", "16:00"),
                      after={"visit_id": "x", "min_gap_min": 0, "max_gap_min": 20}),
                visit("p", "portland_pl", window=("10:00", "10:10"))]))


def test_filter_follows_ties_across_routes(london_network):
    """A move whose harm travels over three routes is turned down; a harmless one is not.

    Roster: w1 serves ``x``; w2 serves ``d`` then ``y``; w3 serves ``d``; ``p`` waits.
    Putting ``p`` before ``d`` on w3 pushes ``d`` past 10:30 on both routes, so ``y``
    (after ``d`` on w2) starts too late for its link to ``x`` on w1. No route is
    infeasible on its own, and each tie, judged by its two routes alone, could be kept.
    """
    plan = _chain_plan()
    model = build_model(plan, travel_for(plan, london_network), PARAMS)
    model.routing.CloseModelWithParameters(search_parameters(PARAMS))
    node = {v.id: i for i, v in reversed(list(enumerate(model.node_visit)))}
    x, d, y, p = node["x"], node["d"], node["y"], node["p"]
    other_d = next(i for i, v in enumerate(model.node_visit) if v.id == "d" and i != d)
    routes = [[x], [d, y], [other_d]]
    start = restore(model, routes)
    assert start is not None
    model.gap_filter.Synchronize(start, None)

    late = [[x], [d, y], [p, other_d]]
    assert restore(model, late) is None
    assert not _accepts(model, routes, late)
    fine = [[x], [d, y], [other_d, p]]
    assert restore(model, fine) is not None
    assert _accepts(model, routes, fine)


def test_filter_lets_one_place_of_a_double_handed_visit_through(day):
    """Serving one place of a double-handed visit alone is left to OR-Tools' check.

    OR-Tools' insertion heuristics ask the filters about each node they insert, so a
    filter that turned down the first place alone would keep them from ever inserting
    the pair.
    """
    model, routes = _first_roster(*day)
    served = [n for route in routes for n in route]
    node = next(n for n in served if model.node_visit[n].workers_required == 2)
    without = [[n for n in route if n != node] for route in routes]
    assert restore(model, without) is None
    assert _accepts(model, routes, without)
