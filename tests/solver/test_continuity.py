"""Continuity of care: familiar workers are rewarded, and the KPIs measure it."""

from __future__ import annotations

import pytest

from scheduler.io import plan_from_dict
from solver import SolveParams, construct, travel_for
from solver.improve import search_parameters
from solver.model import build_model, restore
from tests.helpers import checked_roster, client, plan_dict, solve_checked, visit, worker


def _plan(**client_kw) -> dict:
    """Two carers; the client lives next to w_near but has been seen by w_known."""
    return plan_dict(
        workers=[worker("w_near", start_location="fitzroy_sq"), worker("w_known", start_location="queen_sq")],
        clients=[client("c1", location="fitzroy_sq", **client_kw)],
        visits=[visit("v1", window=("09:00", "10:00")), visit("v2", window=("17:00", "18:00"))],
        history=[{"client_id": "c1", "worker_id": "w_known", "visits": 12}],
    )


def _solve(data, london_network, weight):
    return solve_checked(data, london_network, SolveParams(time_limit_s=0.5, continuity_weight_s=weight))[1]


def _servers(roster):
    return {s.visit_id: r.worker_id for r in roster.routes for s in r.stops}


def test_continuity_weight_sends_the_familiar_carer(london_network):
    """With no weight the nearest carer goes; with a weight worth the detour, the familiar one."""
    plain = _solve(_plan(), london_network, 0)
    assert set(_servers(plain).values()) == {"w_near"}
    assert plain.kpis.continuity == 0.0
    familiar = _solve(_plan(), london_network, 3600)
    assert set(_servers(familiar).values()) == {"w_known"}
    assert familiar.kpis.continuity == 1.0
    assert familiar.kpis.travel_s > plain.kpis.travel_s


def test_continuity_preferred_worker_counts_as_familiar(london_network):
    """A preferred worker gets the visits too, though the KPI counts only history."""
    data = _plan(preferred_worker_ids=["w_known"])
    data["history"] = []
    roster = _solve(data, london_network, 3600)
    assert set(_servers(roster).values()) == {"w_known"}
    assert roster.kpis.continuity is None  # no history: continuity is not measured


def test_continuity_kpis_count_places_and_distinct_workers(london_network):
    """Two visits by two workers: one client sees 2 distinct workers."""
    data = _plan()
    data["workers"][0]["shift"] = {"start": "08:00", "end": "12:00"}
    data["workers"][1]["shift"] = {"start": "12:00", "end": "20:00"}
    roster = _solve(data, london_network, 0)
    assert _servers(roster) == {"v1": "w_near", "v2": "w_known"}
    assert roster.kpis.continuity == 0.5
    assert roster.kpis.distinct_workers_per_client == 2.0


def test_continuity_with_a_visit_left_out(london_network):
    """Workers with different continuity costs, and one visit nobody can fit: the roster still comes back.

    Three 50-minute visits must start by 09:10 and two carers work 09:00-10:00, so one
    visit stays unassigned while the continuity dimension (one cost vector per worker) is active.
    """
    data = plan_dict(
        workers=[worker("w_near", start_location="fitzroy_sq", shift=("09:00", "10:00")),
                 worker("w_known", start_location="queen_sq", shift=("09:00", "10:00"))],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="fitzroy_sq"),
                 client("c3", location="fitzroy_sq")],
        visits=[visit(f"v{i}", client_id=f"c{i}", window=("09:00", "09:10"), duration_min=50) for i in (1, 2, 3)],
        history=[{"client_id": "c1", "worker_id": "w_known", "visits": 12},
                 {"client_id": "c2", "worker_id": "w_near", "visits": 12}],
    )
    roster = _solve(data, london_network, 3600)
    assert len(roster.unassigned) == 1
    assert _servers(roster) == {"v1": "w_known", "v2": "w_near"}


@pytest.mark.parametrize("factor", [1, 4])
def test_first_roster_leans_towards_the_familiar_carer(london_network, monkeypatch, factor):
    """The first roster weighs continuity ``CONTINUITY_FACTOR`` times; a detour worth half.

    The familiar carer lives a trip away from the client, the other next door. With
    the weight set to half what the round trip costs, the search itself would send the
    neighbour; the first roster sends the familiar carer once the factor is above two,
    and its routes are ones the model accepts.
    """
    monkeypatch.setattr(construct, "CONTINUITY_FACTOR", factor)
    plan = plan_from_dict(_plan())
    travel = travel_for(plan, london_network)
    seconds = travel.matrix(plan.workers[1].travel_mode).time_s
    home, near = plan.workers[1].start_location, plan.client("c1").location
    trip = int(seconds[travel.index(home), travel.index(near)] + seconds[travel.index(near), travel.index(home)])
    weight = trip // 2
    model = build_model(plan, travel, SolveParams(continuity_weight_s=weight))
    routes = construct.construct_routes(model, model.node_allowed)
    model.routing.CloseModelWithParameters(search_parameters(model.params))
    assert restore(model, routes) is not None
    checked_roster(plan, model, routes, travel)
    served_by = {plan.workers[k].id for k, route in enumerate(routes) if route}
    assert served_by == ({"w_known"} if factor * weight > trip else {"w_near"})
