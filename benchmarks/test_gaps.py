"""Benchmark of the search filter for tied starts (:mod:`solver.gaps`).

Greedy descent from the constructed first roster of the bundled weekday, stopped after
a fixed number of improving solutions, with and without the filter. The filter only
turns down moves OR-Tools' full check would reject, so both searches take the same
moves (asserted) and the difference is time alone. The timed run is the one with the
filter; the run without it is timed once (CPU) and recorded in ``extra_info``. Building the
model and the first roster is outside both timings.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ortools.constraint_solver import routing_enums_pb2

import solver.model
from scheduler.roster import Roster, compute_kpis
from scheduler.validate import check_roster
from solver import SolveParams, network_for, travel_for
from solver.construct import construct_routes
from solver.decode import decode
from solver.explain import explain_unassigned
from solver.improve import run_search, search_parameters
from solver.model import build_model, restore

#: Improving solutions each descent stops after.
SOLUTIONS = 100
PARAMS = SolveParams(time_limit_s=120, seed=0)


@pytest.fixture(scope="module")
def weekday_travel(weekday_plan, tmp_path_factory):
    """Travel matrices of the weekday plan (computed once, outside the timing)."""
    network = network_for(weekday_plan, cache_dir=Path(tmp_path_factory.mktemp("cache")))
    return travel_for(weekday_plan, network)


def _first_roster(plan, travel):  # noqa: ANN001, ANN202 - Plan, PlanTravel -> (model, start)
    """Build the model and restore the constructed first roster (outside the timing)."""
    model = build_model(plan, travel, PARAMS)
    routes = construct_routes(model, model.node_allowed)
    model.routing.CloseModelWithParameters(search_parameters(PARAMS))
    return model, restore(model, routes)


def _descend(model, start):  # noqa: ANN001, ANN202 - RoutingModel, Assignment -> (best, objectives)
    """Descend from ``start`` for ``SOLUTIONS`` improving solutions."""
    search = search_parameters(PARAMS)
    search.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    search.solution_limit = SOLUTIONS
    objectives: list[int] = []
    model.routing.AddAtSolutionCallback(lambda: objectives.append(model.routing.CostVar().Value()))
    return run_search(model.routing, search, start, model.warm), objectives


def test_descent_with_the_start_gap_filter(benchmark, weekday_plan, weekday_travel, monkeypatch):
    """The same descent with and without the filter: same objectives, the time recorded for each."""
    assert any(v.workers_required == 2 for v in weekday_plan.visits)
    model, start = _first_roster(weekday_plan, weekday_travel)
    best, with_filter = benchmark.pedantic(_descend, args=(model, start), rounds=1, iterations=1)
    routes, unassigned = decode(model, best)
    unassigned = explain_unassigned(weekday_plan, routes, unassigned, weekday_travel)
    roster = Roster(weekday_plan.date, tuple(routes), tuple(unassigned),
                    compute_kpis(weekday_plan, routes, unassigned), {})
    assert check_roster(weekday_plan, roster, travel=weekday_travel) == []

    monkeypatch.setattr(solver.model, "_start_gap_filter", lambda *args, **kwargs: None)
    plain, plain_start = _first_roster(weekday_plan, weekday_travel)
    t = time.process_time()
    _, without_filter = _descend(plain, plain_start)
    without_s = time.process_time() - t
    assert plain.gap_filter is None
    assert without_filter == with_filter  # the filter changes the time, never the moves
    benchmark.extra_info.update(solutions=len(with_filter), objective=with_filter[-1],
                                filter_calls=model.gap_filter.calls,
                                filter_rejected=model.gap_filter.rejected,
                                cpu_s_without_filter=round(without_s, 2))
