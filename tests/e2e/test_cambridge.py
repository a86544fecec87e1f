"""End to end on the bundled Cambridge weekday: plan file -> solve -> roster validator."""

from __future__ import annotations

import networkx as nx
import pytest

from scheduler.bundled import default_plan
from scheduler.io import load_plan, roster_from_dict, roster_to_dict
from scheduler.validate import check_roster
from solver import SolveParams, network_for, solve, travel_for
from tests.helpers import CAMBRIDGE_OSM, osmnx_drive_digraph, osmnx_graph

pytestmark = pytest.mark.slow
TIME_LIMIT_S = 20.0


@pytest.fixture(scope="module")
def weekday(network_cache_dir):
    """The bundled plan, its network, its travel matrices and a 20 s solve."""
    plan = load_plan(default_plan())
    network = network_for(plan, cache_dir=network_cache_dir)
    travel = travel_for(plan, network, cache_dir=network_cache_dir)
    result = solve(plan, params=SolveParams(time_limit_s=TIME_LIMIT_S), travel=travel)
    return plan, network, travel, result


def test_cambridge_weekday_is_the_advertised_day(weekday):
    """The bundled plan has about 300 visits and 30 workers from three kinds of provider."""
    plan, *_ = weekday
    assert 280 <= len(plan.visits) <= 320
    assert 30 <= len(plan.workers) <= 40
    assert {p.kind for p in plan.providers} == {"care", "hairdressing", "delivery"}
    assert plan.network == "fixtures/networks/cambridge_drive.osm"


def test_cambridge_weekday_roster_passes_the_validator(weekday):
    """The roster obeys every contract rule, travel times included, and serves every mandatory visit."""
    plan, _, travel, result = weekday
    assert check_roster(plan, result.roster, travel=travel) == []
    assert result.roster.kpis.mandatory_unassigned == 0
    assert all(u.reason and u.code != "dropped" for u in result.roster.unassigned)


def test_cambridge_weekday_roster_survives_its_json_form(weekday):
    """Written to JSON (HH:MM times) and read back, the roster still passes the validator."""
    plan, _, travel, result = weekday
    again = roster_from_dict(roster_to_dict(result.roster))
    assert check_roster(plan, again, travel=travel) == []


def test_cambridge_weekday_travel_equals_an_independent_router(weekday):
    """Every drive leg's travel_s and travel_m match OSMnx + NetworkX routing within 1 s and 1 m."""
    plan, network, travel, result = weekday
    G = osmnx_drive_digraph(osmnx_graph(CAMBRIDGE_OSM))
    snap = travel.matrix("drive").snap
    osmid = {i: int(network.osmid[snap.node[i]]) for i in range(len(travel.locations))}
    checked = 0
    for route in result.roster.routes:
        worker = plan.worker(route.worker_id)
        if worker.travel_mode != "drive":
            continue
        here = worker.start_location
        for stop in route.stops:
            there = plan.visit_location(plan.visit(stop.visit_id))
            a, b = osmid[travel.index(here)], osmid[travel.index(there)]
            path = nx.shortest_path(G, a, b, weight="time")
            seconds = sum(G[u][v]["time"] for u, v in zip(path, path[1:]))
            metres = sum(G[u][v]["length"] for u, v in zip(path, path[1:]))
            assert abs(stop.travel_s - seconds) <= 1, (route.worker_id, stop.visit_id)
            assert abs(stop.travel_m - metres) <= 1, (route.worker_id, stop.visit_id)
            here, checked = there, checked + 1
    assert checked > 200
