"""Re-optimising a day region by region (:mod:`solver.decompose`): ties kept, objective exact, rosters valid."""

from __future__ import annotations

import dataclasses
import logging
import re

import pytest

from scheduler.errors import ConfigError
from scheduler.io import plan_from_dict
from scheduler.model import Plan
from solver import SolveParams, decompose, travel_for
from solver.construct import construct_routes
from solver.generate import generate_day
from solver.improve import search_parameters
from solver.model import RoutingModel, build_model, read_routes, restore
from solver.travel import PlanTravel
from tests.helpers import (LONDON_OSM, checked_roster, client, plan_dict, provider, solve_checked,
                           visit, worker)


def _first_roster(plan: Plan, travel: PlanTravel, params: SolveParams) -> tuple[RoutingModel, list, dict, int]:
    """Build the day's model and restore the constructed first roster: (model, routes, starts, objective)."""
    model = build_model(plan, travel, params)
    routes = construct_routes(model, model.node_allowed)
    model.routing.CloseModelWithParameters(search_parameters(params))
    start = restore(model, routes)
    assert start is not None
    return model, *read_routes(model, start), start.ObjectiveValue()


@pytest.fixture(scope="module")
def london_day(london_network, network_cache_dir) -> tuple[Plan, PlanTravel]:
    """Return a generated day of 120 visits on the central-London network, with its travel."""
    plan = generate_day(LONDON_OSM, seed=3, n_visits=120, cache_dir=network_cache_dir, radius_m=1500)
    return plan, travel_for(plan, london_network)


def test_region_keeps_what_ties_it_to_the_rest_of_the_day(london_network):
    """Half a double-handed visit keeps its start; a visit linked to one outside keeps to the link.

    Skills force the day: ``w1`` and ``w3`` give meds and so serve the double-handed visit
    together, one of them the first of two linked visits; only ``w2`` can hoist, the second.
    The region of that one worker holds half the double-handed visit and the first link.
    """
    plan = plan_from_dict(plan_dict(
        providers=[provider()],
        workers=[worker("w1", skills=["meds"]), worker("w2", start_location="queen_sq", skills=["hoist"]),
                 worker("w3", start_location="marylebone", skills=["meds"])],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="gordon_sq"),
                 client("c4", location="harley_st")],
        visits=[visit("pair", "c1", window=("09:00", "10:00"), workers_required=2, required_skills=["meds"]),
                visit("first", "c2", window=("08:00", "09:00"), required_skills=["meds"]),
                visit("then", "c2", window=("08:00", "12:00"), required_skills=["hoist"],
                      after={"visit_id": "first", "min_gap_min": 0, "max_gap_min": 60}),
                visit("other", "c4", window=("10:00", "14:00"))],
    ))
    travel = travel_for(plan, london_network)
    params = SolveParams(time_limit_s=1)
    model, routes, starts, objective = _first_roster(plan, travel, params)
    day = decompose._Day(model, routes, starts, objective)
    serving = {model.node_visit[n].id: k for k, route in enumerate(routes) for n in route}
    k = serving["first"]
    who = plan.workers[k].id
    assert who in ("w1", "w3") and plan.workers[serving["then"]].id == "w2"
    cut = day.region([k], 0.5, set())

    by_id = {v.id: v for v in cut.task.visits}
    assert by_id["pair"].workers_required == 1  # the other half is the other meds worker's, outside
    assert set(cut.halves) == {"pair"}
    node_start = {model.node_visit[n].id: starts[n] * 60 for n in routes[k]}
    # The region's half must start with the other half, but any worker of the region may take it.
    assert by_id["pair"].window.start == by_id["pair"].window.end == node_start["pair"]
    assert cut.task.required == {"pair"} and cut.task.locks == ()
    # "first" (30 min) must end 0-60 min before "then" starts, outside: that start is held.
    then_at = next(starts[n] for n in routes[serving["then"]] if model.node_visit[n].id == "then") * 60
    window = by_id["first"].window
    assert (window.start, window.end) == (max(8 * 3600, then_at - 90 * 60), min(9 * 3600, then_at - 30 * 60))
    assert window.start <= node_start["first"] <= window.end
    assert cut.holds == {"then"} and "then" not in by_id

    result = decompose.solve_region(cut.task, decompose.DayContext(plan, travel, params, model.node_visit))
    assert result is not None and result.after <= result.before
    day.replace(cut.task.workers, result, cut.halves)
    again = restore(model, day.routes)
    assert again is not None
    assert again.ObjectiveValue() == day.objective
    checked_roster(plan, model, day.routes, travel)


def test_region_locks_a_linked_visit_while_the_other_may_move(london_network):
    """While "then" is in another region's search, or held for one, "first" keeps its worker and start."""
    plan = _linked_plan()
    travel = travel_for(plan, london_network)
    model, routes, starts, objective = _first_roster(plan, travel, SolveParams(time_limit_s=1))
    day = decompose._Day(model, routes, starts, objective)
    (first,), (then,) = routes
    lock = [("first", "w1", starts[first] * 60)]
    for busy, frozen in (({1}, set()), (set(), {"first"})):
        cut = day.region([0], 0.5, set(), busy=busy, frozen=frozen)
        assert [(lk.visit_id, lk.worker_id, lk.start) for lk in cut.task.locks] == lock
        assert cut.holds == frozenset()
    # Were "then" to start at 08:29, "first" (from 08:00) could not end before it: it stays as it is.
    day.starts[then] = 8 * 60 + 29
    cut = day.region([0], 0.5, set())
    assert [(lk.visit_id, lk.worker_id, lk.start) for lk in cut.task.locks] == lock


def _linked_plan(first_window: tuple[str, str] = ("08:00", "12:00")) -> Plan:
    """Return a plan of two linked visits to one client, "first" for ``w1`` only, "then" for ``w2`` only."""
    return plan_from_dict(plan_dict(
        providers=[provider()],
        workers=[worker("w1", skills=["meds"]), worker("w2", start_location="queen_sq", skills=["hoist"])],
        clients=[client("c2", location="gordon_sq")],
        visits=[visit("first", "c2", window=first_window, required_skills=["meds"]),
                visit("then", "c2", window=("10:00", "12:00"), required_skills=["hoist"],
                      after={"visit_id": "first", "min_gap_min": 0, "max_gap_min": 60})],
    ))


def test_region_serves_a_visit_left_out_next_to_its_linked_visit_outside(london_network):
    """A visit left out, linked to one served outside the region, is offered at the times the link leaves.

    ``w1`` starts with nothing to do; "first" is left out and "then" is ``w2``'s. The region of
    ``w1`` alone serves "first" so that it ends at most an hour before "then" starts.
    """
    plan = _linked_plan()
    travel = travel_for(plan, london_network)
    params = SolveParams(time_limit_s=1)
    model = build_model(plan, travel, params)
    model.routing.CloseModelWithParameters(search_parameters(params))
    (then,) = (n for n, v in enumerate(model.node_visit) if v.id == "then")
    start = restore(model, [[], [then]])
    assert start is not None
    day = decompose._Day(model, *read_routes(model, start), start.ObjectiveValue())
    cut = day.region([0], 0.5, set())
    assert cut.offered == ["first"] and cut.holds == {"then"}

    result = decompose.solve_region(cut.task, decompose.DayContext(plan, travel, params, model.node_visit))
    assert result is not None and result.after < result.before
    day.replace(cut.task.workers, result, cut.halves)
    assert day.left_out() == []
    first = day.routes[0][0]
    assert day.starts[then] - 60 <= day.starts[first] + 30 <= day.starts[then]
    again = restore(model, day.routes)
    assert again is not None and again.ObjectiveValue() == day.objective
    assert checked_roster(plan, model, day.routes, travel).unassigned == ()


def test_repair_region_of_a_delivery_left_out_holds_the_carer_of_its_linked_visit(london_network):
    """A delivery left out before a carer's visit gets a region with a driver and that carer.

    Routes are grouped by the kind of provider, so no ordinary region holds both: the
    carer's visit could never move to make room for the delivery. The repair region
    does, and its search serves the delivery an hour at most before the carer's visit.
    """
    plan = plan_from_dict(plan_dict(
        providers=[provider("shop", kind="delivery"), provider()],
        workers=[worker("van", "shop"), worker("carer", start_location="queen_sq"),
                 worker("other", start_location="marylebone")],
        clients=[client("c2", location="gordon_sq")],
        visits=[visit("groceries", "c2", kind="delivery", window=("08:00", "12:00"), duration_min=15),
                visit("lunch", "c2", window=("10:00", "12:00"), priority="mandatory",
                      after={"visit_id": "groceries", "min_gap_min": 0, "max_gap_min": 60})],
    ))
    travel = travel_for(plan, london_network)
    params = SolveParams(time_limit_s=1)
    model = build_model(plan, travel, params)
    model.routing.CloseModelWithParameters(search_parameters(params))
    (lunch,) = (n for n, v in enumerate(model.node_visit) if v.id == "lunch")
    start = restore(model, [[], [lunch], []])
    assert start is not None
    day = decompose._Day(model, *read_routes(model, start), start.ObjectiveValue())
    assert day.neighbours(1, 3) == [1, 2]  # the carers only
    assert day.repair_regions(2) == [("groceries", [0, 1])]
    cut = day.region([0, 1], 0.5, set())
    assert cut.offered == ["groceries"]
    result = decompose.solve_region(cut.task, decompose.DayContext(plan, travel, params, model.node_visit))
    assert result is not None and result.after < result.before
    day.replace(cut.task.workers, result, cut.halves)
    assert day.left_out() == [] and day.repair_regions(2) == []
    again = restore(model, day.routes)
    assert again is not None and again.ObjectiveValue() == day.objective
    assert checked_roster(plan, model, day.routes, travel).unassigned == ()


@pytest.mark.parametrize("again_after", [3, 10_000])
def test_a_visit_still_left_out_gets_a_repair_region_again(london_day, monkeypatch, caplog, again_after):
    """A repair that fails is tried again once ``REPAIR_AGAIN_AFTER`` regions have been searched since.

    One visit of the first roster is taken out, and no region may serve it (as if none
    found room), so it stays out all along while the regions change the routes around it.
    """
    plan, travel = london_day
    params = SolveParams(time_limit_s=5, seed=1)
    model, routes, _, _ = _first_roster(plan, travel, params)
    k, out = next((k, n) for k, route in enumerate(routes) for n in route
                  if model.node_visit[n].workers_required == 1 and not model.node_visit[n].links())
    vid = model.node_visit[out].id
    routes[k].remove(out)
    start = restore(model, routes)
    assert start is not None
    real = decompose.solve_region

    def refuse_the_visit(task, day=None):  # noqa: ANN001, ANN202 - solve_region's signature
        return real(dataclasses.replace(task, visits=tuple(v for v in task.visits if v.id != vid)), day)

    monkeypatch.setattr(decompose, "solve_region", refuse_the_visit)
    monkeypatch.setattr(decompose, "REPAIR_AGAIN_AFTER", again_after)
    caplog.set_level(logging.DEBUG, logger="homecare.decompose")
    outcome = decompose.improve_by_regions(model, *read_routes(model, start), start.ObjectiveValue(),
                                           budget_s=3.0, region_workers=3, region_time_s=0.1)
    after = [int(m[1]) for m in re.finditer(rf"repair region for visit {vid} left out \(after (\d+) regions\)",
                                            caplog.text)]
    assert outcome.regions > again_after if again_after < 100 else outcome.regions < again_after
    assert after[0] == 0
    if again_after < 100:
        assert len(after) >= 2 and all(b - a >= again_after for a, b in zip(after, after[1:]))
    else:
        assert after == [0]
    assert out in decompose._Day(model, outcome.routes, {}, 0).left_out()
    assert restore(model, outcome.routes).ObjectiveValue() == outcome.objective
    checked_roster(plan, model, outcome.routes, travel)


def _pair_plan(**pair: str) -> Plan:
    """Return a plan whose one visit needs two of three workers; ``w2`` and ``w3`` start at the client."""
    return plan_from_dict(plan_dict(
        providers=[provider()],
        workers=[worker("w1", start_location="marylebone"), worker("w2", start_location="fitzroy_sq"),
                 worker("w3", start_location="fitzroy_sq")],
        clients=[client("c1", location="fitzroy_sq")],
        visits=[visit("pair", "c1", window=("09:00", "10:00"), workers_required=2, **pair)],
    ))


def _pair_day(plan: Plan, travel: PlanTravel, params: SolveParams) -> tuple[RoutingModel, decompose._Day]:
    """Return the model and the day where ``w1`` and ``w3`` serve the pair (``w1`` its first node)."""
    model = build_model(plan, travel, params)
    model.routing.CloseModelWithParameters(search_parameters(params))
    first, second = (n for n, v in enumerate(model.node_visit) if v.id == "pair")
    start = restore(model, [[first], [], [second]])
    assert start is not None
    return model, decompose._Day(model, *read_routes(model, start), start.ObjectiveValue())


def test_region_moves_half_a_double_handed_visit_to_a_nearer_worker_at_the_same_start(london_network):
    """The region's half of a double-handed visit may change worker, never start, and is never left out.

    ``w1`` (Marylebone) and ``w3`` (outside the region) serve the pair at Fitzroy Square;
    ``w2`` starts there and has nothing to do, so the region of ``w1`` and ``w2`` gives ``w2`` that half.
    """
    plan = _pair_plan()
    travel = travel_for(plan, london_network)
    params = SolveParams(time_limit_s=1)
    model, day = _pair_day(plan, travel, params)
    (first,), _, (second,) = day.routes
    starts = dict(day.starts)
    cut = day.region([0, 1], 0.5, set())
    assert cut.task.required == {"pair"} and cut.task.locks == ()

    result = decompose.solve_region(cut.task, decompose.DayContext(plan, travel, params, model.node_visit))
    assert result is not None and result.after < result.before
    day.replace(cut.task.workers, result, cut.halves)
    assert day.routes == [[], [first], [second]] and day.starts[first] == starts[first]
    again = restore(model, day.routes)
    assert again is not None and again.ObjectiveValue() == day.objective
    roster = checked_roster(plan, model, day.routes, travel)
    assert {r.worker_id for r in roster.routes if r.stops} == {"w2", "w3"}


def test_region_keeps_the_pinned_workers_half_of_a_double_handed_visit(london_network):
    """Pinned to ``w1``, the region's half of the pair stays ``w1``'s, at its start."""
    plan = _pair_plan(pinned_worker_id="w1")
    _, day = _pair_day(plan, travel_for(plan, london_network), SolveParams(time_limit_s=1))
    (first,), _, _ = day.routes
    task = day.region([0, 1], 0.5, set()).task
    assert task.required == set()
    assert [(lk.visit_id, lk.worker_id, lk.start) for lk in task.locks] == [("pair", "w1", day.starts[first] * 60)]


def test_regions_change_the_objective_exactly_as_the_day(london_day, caplog):
    """With continuity and fair-share costs on, the regions' running objective is the day's, to the unit.

    Run in this process (one process), so the in-process path is covered too.
    """
    plan, travel = london_day
    assert plan.history, "the generated day should carry continuity history"
    params = SolveParams(time_limit_s=5, balance_weight_s=30, seed=1)
    model, routes, starts, objective = _first_roster(plan, travel, params)
    seen: list[int] = []
    caplog.set_level(logging.INFO, logger="homecare.decompose")
    outcome = decompose.improve_by_regions(model, routes, starts, objective, budget_s=3.0,
                                           record=lambda value, left_out: seen.append(value),
                                           region_workers=3, region_time_s=0.25, processes=1)
    assert outcome.improved >= 1
    assert seen == sorted(seen, reverse=True) and seen[-1] == outcome.objective < objective
    assert restore(model, outcome.routes).ObjectiveValue() == outcome.objective
    assert re.search(r"regions: \d+ searched, \d+ improved", caplog.text)


def test_solve_decomposes_a_big_day_in_two_processes_and_the_roster_is_valid(london_day, london_network,
                                                                                monkeypatch, caplog):
    """A day at the decomposition threshold is improved by regions, then searched whole; the roster is valid."""
    plan, _ = london_day
    monkeypatch.setattr(decompose, "REGION_WORKERS", 4)
    monkeypatch.setattr(decompose, "REGION_TIME_S", 0.3)
    caplog.set_level(logging.INFO, logger="homecare")
    params = SolveParams(time_limit_s=6, seed=1, decompose_from_visits=len(plan.visits), processes=2)
    _, roster, _ = solve_checked(plan, london_network, params)
    found = re.search(r"regions: (\d+) searched, (\d+) improved, objective (\d+)", caplog.text)
    assert found and int(found[2]) >= 1
    assert "differs" not in caplog.text and "rejected" not in caplog.text
    assert roster.meta["objective"] <= int(found[3])


def test_solve_does_not_decompose_below_the_threshold(london_day, london_network, caplog):
    """Below ``decompose_from_visits`` the day is searched whole, as before."""
    plan, _ = london_day
    caplog.set_level(logging.INFO, logger="homecare")
    solve_checked(plan, london_network, SolveParams(time_limit_s=1, decompose_from_visits=10_000))
    assert "regions:" not in caplog.text


@pytest.mark.parametrize(("field", "value"), [("decompose_share", 1.5), ("processes", 0),
                                              ("decompose_from_visits", -1)])
def test_decomposition_params_are_checked(field, value):
    """Out-of-range decomposition settings are refused, naming the field."""
    with pytest.raises(ConfigError, match=field):
        SolveParams(**{field: value})


def test_region_share_grows_with_the_day_unless_set():
    """By default the biggest days give regions more of the time; a share that is set is used as it is."""
    auto = SolveParams()
    assert auto.region_share(1137) == 0.5 < auto.region_share(2274) == 0.75
    assert SolveParams(decompose_share=0.3).region_share(2274) == 0.3
    assert SolveParams(decompose_share=0).region_share(1137) == 0
