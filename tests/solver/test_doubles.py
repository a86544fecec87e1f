"""The double-handed visits' filter (:mod:`solver.doubles`) turns down only hopeless moves."""

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
from solver.routing import RoutingModel, build_model, read_routes, restore, search_parameters
from solver.travel import PlanTravel
from tests.helpers import LONDON_OSM, client, plan_dict, visit, worker

PARAMS = SolveParams(time_limit_s=2)


@pytest.fixture(scope="module")
def day(london_network, network_cache_dir) -> tuple[Plan, PlanTravel]:
    """Return a generated day of 120 central-London visits, some double-handed, with its travel."""
    plan = generate_day(LONDON_OSM, seed=3, n_visits=120, cache_dir=network_cache_dir,
                        radius_m=1500)
    assert sum(v.workers_required == 2 for v in plan.visits) >= 10
    return plan, travel_for(plan, london_network)


def _first_roster(plan: Plan, travel: PlanTravel) -> tuple[RoutingModel, list[list[int]]]:
    model = build_model(plan, travel, PARAMS)
    routes = construct_routes(model, model.node_allowed)
    model.routing.CloseModelWithParameters(search_parameters(PARAMS))
    start = restore(model, routes)
    assert start is not None
    model.double_filter.Synchronize(start, None)
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
    """Return ``count`` random moves of a double-handed visit's place to another eligible route."""
    places = [n for route in routes for n in route
              if model.node_visit[n].workers_required == 2 and len(model.node_allowed[n]) > 1]
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
    return model.double_filter.Accept(_delta(model, routes, moved), empty, 0, 2**62)


def test_filter_turns_down_only_moves_the_model_rejects(day):
    """Every move the filter turns down is one OR-Tools' model rejects; and it does turn some down.

    300 random moves of a double-handed visit's place to another route: for each,
    the filter's answer, and whether OR-Tools accepts the routes (propagating every
    constraint, the time equality of the two places included).
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
    model.double_filter.Synchronize(restore(model, moved), _delta(model, routes, moved))
    probes = _relocations(model, moved, rng, 150)
    step_by_step = [_accepts(model, moved, m) for m in probes]
    model.double_filter.Synchronize(restore(model, moved), None)
    assert [_accepts(model, moved, m) for m in probes] == step_by_step
    assert not all(step_by_step) and any(step_by_step)


def test_search_uses_the_filter_and_the_roster_is_valid(day, monkeypatch):
    """The search asks the filter, which turns moves down, and the roster obeys every rule."""
    import solver.routing

    plan, travel = day
    built: list[RoutingModel] = []

    def keep(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - build_model's own signature
        built.append(model := build_model(*args, **kwargs))
        return model

    monkeypatch.setattr(solver.routing, "build_model", keep)
    roster = solve(plan, params=PARAMS, travel=travel).roster
    assert not check_roster(plan, roster, travel=travel)
    (model,) = built
    assert model.double_filter.calls > 0 and model.double_filter.rejected > 0


def test_no_filter_without_double_handed_visits(london_network):
    """A day without double-handed visits gets no filter; one with such a visit gets one."""
    def model_for(required: int) -> RoutingModel:
        plan_kw = dict(workers=[worker("w1"), worker("w2", start_location="queen_sq")],
                       clients=[client("c1", location="fitzroy_sq")],
                       visits=[visit("v1", "c1", workers_required=required)])
        plan = plan_from_dict(plan_dict(**plan_kw))
        return build_model(plan, travel_for(plan, london_network), PARAMS)

    assert model_for(1).double_filter is None
    assert model_for(2).double_filter is not None
