"""The one solve pipeline, :func:`solver.run`: plan, network, matrices, solve, check, result."""

from __future__ import annotations

import dataclasses

import pytest

from scheduler.errors import PlanError
from scheduler.roster import LockedStop
from scheduler.validate import check_roster
from solver import RunResult, SolveParams, run
from tests.helpers import LONDON_NAMES, LONDON_OSM, client, make_plan, visit, worker

FAST = SolveParams(time_limit_s=0.5, metaheuristic="GREEDY_DESCENT")


def _plan():
    names = LONDON_NAMES[:4]
    return make_plan(
        network=str(LONDON_OSM),
        workers=[worker("w1", start_location="marylebone"), worker("w2", start_location="queen_sq")],
        clients=[client(f"c{i}", location=name) for i, name in enumerate(names)],
        visits=[visit(f"v{i}", f"c{i}", window=("08:00", "11:00")) for i in range(4)])


def test_run_loads_the_network_solves_and_checks_the_roster(network_cache_dir):
    """From the plan alone: the roster, its travel matrices and its check, with the search figures."""
    plan = _plan()
    result = run(plan, params=FAST, cache_dir=network_cache_dir)
    assert isinstance(result, RunResult)
    assert result.roster is result.search.roster
    assert result.roster.kpis.assigned == 4
    assert result.violations == tuple(check_roster(plan, result.roster, travel=result.travel))
    assert result.violations == ()
    assert result.search.status and result.search.objective is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.violations = ()  # type: ignore[misc]


def test_run_checks_the_roster_against_the_locks(network_cache_dir):
    """Locks and the lock time reach the check: a kept stop is checked as locked, none flagged."""
    plan = _plan()
    first = run(plan, params=FAST, cache_dir=network_cache_dir)
    kept = next(s for r in first.roster.routes for s in r.stops)
    worker_id = next(r.worker_id for r in first.roster.routes if kept in r.stops)
    lock = LockedStop(kept.visit_id, worker_id, kept.start)
    again = run(plan, params=FAST, travel=first.travel, locked=[lock], locked_before=kept.start + 60)
    assert again.roster.locked_before == kept.start + 60
    stop = next(s for r in again.roster.routes for s in r.stops if s.visit_id == kept.visit_id)
    assert stop.start == kept.start
    assert again.violations == tuple(check_roster(plan, again.roster, travel=again.travel, locked=[lock],
                                                  locked_before=kept.start + 60))
    assert again.violations == ()


def test_run_refuses_a_plan_that_fails_its_checks(network_cache_dir):
    """The plan checks of ``check_plan`` come first: a visit of an unknown client is a PlanError."""
    plan = make_plan(network=str(LONDON_OSM), workers=[worker("w1")], clients=[client("c1")],
                     visits=[visit("v1", "c1")])
    plan = dataclasses.replace(plan, visits=(dataclasses.replace(plan.visits[0], client_id="nobody"),))
    with pytest.raises(PlanError, match="nobody"):
        run(plan, params=FAST, cache_dir=network_cache_dir)
