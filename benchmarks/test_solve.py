"""Benchmark of a full solve of the bundled 300-visit Cambridge weekday."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.validate import check_roster
from solver import SolveParams, network_for, solve, travel_for

TIME_LIMIT_S = 10.0


@pytest.fixture(scope="module")
def weekday_travel(weekday_plan, tmp_path_factory):
    """Travel matrices of the weekday plan (computed once, outside the timing)."""
    cache = Path(tmp_path_factory.mktemp("cache"))
    network = network_for(weekday_plan, cache_dir=cache)
    return travel_for(weekday_plan, network)


def test_solve_weekday(benchmark, weekday_plan, weekday_travel):
    """Solve the 300-visit day with a 10 s search; record travel and coverage."""
    params = SolveParams(time_limit_s=TIME_LIMIT_S, seed=0)
    result = benchmark.pedantic(solve, args=(weekday_plan,), kwargs={"params": params, "travel": weekday_travel},
                                rounds=1, iterations=1)
    assert check_roster(weekday_plan, result.roster, travel=weekday_travel) == []
    assert result.roster.kpis.mandatory_unassigned == 0
    k = result.roster.kpis
    benchmark.extra_info.update(
        visits=k.visits, assigned=k.assigned, travel_h=round(k.travel_s / 3600, 2), travel_share=k.travel_share,
        first_solution_s=result.first_solution_s, objective=result.objective)
