"""Road geometry of a solved central-London roster: legs follow the roads the solver costed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from scheduler.errors import NetworkError, UnknownReferenceError
from scheduler.roster import Roster
from solver import SolveParams, geometry
from solver.geometry import network_lines, route_legs, route_paths
from tests.helpers import LONDON, client, plan_dict, provider, visit, worker
from tests.helpers import solve_checked as helpers_solve_checked


@pytest.fixture(scope="module")
def solved(london_network):
    """Solve a small day in central London.

    Two drivers and a walker; a double-handed visit, a visit at the walker's own door
    (a leg that snaps to one node), one only the walker may serve, one nobody can serve.
    """
    data = plan_dict(
        providers=[provider("care-1")],
        workers=[worker("w1", start_location="great_portland_st"),
                 worker("w2", start_location="queen_sq", end_location="russell_sq"),
                 worker("w3", start_location="tavistock_sq", travel_mode="walk",
                        skills=["keyholder"])],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq"),
                 client("c3", location="marylebone"), client("c4", location="bedford_sq"),
                 client("c5", location="tavistock_sq"), client("c6", location="harley_st"),
                 client("c7", location="gordon_sq")],
        visits=[visit("v1", "c1", window=("08:00", "09:00")),
                visit("v2", "c2", window=("08:30", "10:00")),
                visit("v3", "c3", window=("09:30", "11:00")),
                visit("v4", "c4", window=("11:00", "12:00"), workers_required=2,
                      priority="mandatory"),
                visit("v5", "c5", window=("08:00", "08:30")),
                visit("v6", "c6", window=("13:00", "14:00"), required_skills=["hoist"]),
                visit("v7", "c7", window=("09:00", "10:00"), required_skills=["keyholder"])],
    )
    plan, roster, _ = helpers_solve_checked(data, london_network, SolveParams(time_limit_s=1))
    assert [s.visit_id for s in roster.route("w3").stops] == ["v5", "v7"]
    assert [u.visit_id for u in roster.unassigned] == ["v6"]
    return plan, roster


def _places(plan, route):
    w = plan.worker(route.worker_id)
    stops = [plan.visit_location(plan.visit(s.visit_id)) for s in route.stops]
    return [w.start_location, *stops, w.end_location]


def test_geometry_legs_run_between_the_snapped_stops(solved, london_network):
    """Each leg runs from its origin's snapped node to its destination's, in the worker's mode."""
    plan, roster = solved
    legs = route_legs(plan, roster, network=london_network)
    assert set(legs) == {r.worker_id for r in roster.routes}
    for route in roster.routes:
        places = _places(plan, route)
        mode = plan.worker(route.worker_id).travel_mode
        nodes = london_network.snap([p.lat for p in places], [p.lon for p in places], mode).node
        day = legs[route.worker_id]
        assert len(day) == (len(route.stops) + 1 if route.stops else 0)
        for i, leg in enumerate(day):
            assert (leg.nodes[0], leg.nodes[-1]) == (nodes[i], nodes[i + 1])
        assert [leg.destination for leg in day[:-1]] == [s.visit_id for s in route.stops]


def test_geometry_consecutive_points_are_joined_by_a_road(solved, london_network):
    """Every step of a leg is a road of the network open to the worker's travel mode."""
    plan, roster = solved
    for wid, day in route_legs(plan, roster, network=london_network).items():
        mode = plan.worker(wid).travel_mode
        open_to = {"drive": london_network.car_ok, "walk": london_network.foot_ok}[mode]
        u, v = london_network.u[open_to], london_network.v[open_to]
        roads = set(zip(u.tolist(), v.tolist(), strict=True))
        if mode == "walk":  # walkers use one-way streets both ways
            roads |= set(zip(v.tolist(), u.tolist(), strict=True))
        for leg in day:
            if leg.nodes[0] == leg.nodes[-1]:
                assert len(leg.nodes) == 2
                continue
            steps = set(zip(leg.nodes[:-1].tolist(), leg.nodes[1:].tolist(), strict=True))
            assert steps <= roads, f"{wid} {leg.origin}->{leg.destination}: {steps - roads}"


def test_geometry_leg_lengths_match_the_roster(solved, london_network):
    """A leg's length along the roads is the roster's travel_m (within 1 m), its time travel_s."""
    plan, roster = solved
    legs = route_legs(plan, roster, network=london_network)
    for route in roster.routes:
        want = [(s.travel_m, s.travel_s) for s in route.stops]
        want.append((route.end_travel_m, route.end_travel_s))
        got = [(leg.length_m, leg.time_s) for leg in legs[route.worker_id]]
        assert len(got) == len(want)
        for (metres, seconds), (want_m, want_s) in zip(got, want, strict=True):
            assert abs(metres - want_m) <= 1.0
            assert abs(seconds - want_s) <= 1.0
    # The walker's first visit is at her own door: a leg of no length, drawn as a 2-point line.
    (first, *_) = legs["w3"]
    assert first.destination == "v5" and first.length_m == 0 and len(first.nodes) == 2


def test_geometry_route_paths_are_lon_lat_of_the_nodes(solved, london_network):
    """route_paths gives, per worker and leg, the (lon, lat) of the leg's road junctions."""
    plan, roster = solved
    paths = route_paths(plan, roster, network=london_network)
    legs = route_legs(plan, roster, network=london_network)
    assert paths.keys() == legs.keys()
    for wid, day in legs.items():
        assert len(paths[wid]) == len(day)
        for line, leg in zip(paths[wid], day, strict=True):
            assert len(line) >= 2
            assert all(isinstance(x, float) and isinstance(y, float) for x, y in line)
            np.testing.assert_array_equal(np.array(line), np.column_stack(
                [london_network.lon[leg.nodes], london_network.lat[leg.nodes]]))
    # Near the stops: a leg's first point is the snapped start, within ~150 m of the worker's home.
    home = LONDON["great_portland_st"]
    lon, lat = paths["w1"][0][0]
    assert abs(lat - home[0]) < 0.0015 and abs(lon - home[1]) < 0.0025


def test_geometry_one_dijkstra_call_per_travel_mode(solved, london_network, monkeypatch):
    """Paths come from one compiled Dijkstra call per mode, from the distinct origins only."""
    plan, roster = solved
    calls = []
    real = geometry.csgraph.dijkstra

    def spy(graph, **kw):
        calls.append(np.asarray(kw["indices"]))
        return real(graph, **kw)

    monkeypatch.setattr(geometry.csgraph, "dijkstra", spy)
    route_legs(plan, roster, network=london_network)
    assert len(calls) == 2  # drive and walk
    origins = sum(len(r.stops) + 1 for r in roster.routes if r.stops)
    assert sum(len(c) for c in calls) <= origins
    assert all(len(np.unique(c)) == len(c) for c in calls)


def test_geometry_unknown_worker_or_visit_is_named(solved, london_network):
    """A roster that names a worker or visit the plan lacks raises one error listing both."""
    plan, roster = solved
    route = roster.routes[0]
    stranger = dataclasses.replace(route, worker_id="w99")
    ghost = dataclasses.replace(route, stops=(dataclasses.replace(route.stops[0], visit_id="v99"),))
    bad = Roster(roster.date, (stranger, ghost), (), roster.kpis)
    with pytest.raises(UnknownReferenceError) as err:
        route_paths(plan, bad, network=london_network)
    assert {p.record_id for p in err.value.problems} == {"w99", "v99"}


def test_geometry_route_with_no_stops_has_no_legs(solved, london_network):
    """A worker routed with no stops gets an empty list of legs."""
    plan, roster = solved
    idle = dataclasses.replace(roster.routes[0], stops=())
    paths = route_paths(plan, Roster(roster.date, (idle,), (), roster.kpis), network=london_network)
    assert paths == {idle.worker_id: []}


def test_geometry_network_lines_are_each_road_once(london_network):
    """network_lines gives every road between two junctions once, as (lon, lat) segments."""
    lines = network_lines(london_network)
    assert lines.ndim == 3 and lines.shape[1:] == (2, 2)
    ends = zip(london_network.u.tolist(), london_network.v.tolist(), strict=True)
    roads = {(min(u, v), max(u, v)) for u, v in ends if u != v}
    assert len(lines) == len(roads)
    lon = lines[..., 0]
    assert np.all((lon >= london_network.lon.min()) & (lon <= london_network.lon.max()))
    drive = network_lines(london_network, mode="drive")
    assert 0 < len(drive) <= len(lines)


def test_geometry_network_lines_bbox_keeps_roads_that_meet_it(london_network):
    """With a bbox, only segments whose extent meets it are kept, and every one of those is."""
    bbox = (-0.1420, 51.5210, -0.1360, 51.5240)
    lines = network_lines(london_network, bbox=bbox)
    every = network_lines(london_network)
    lon, lat = every[..., 0], every[..., 1]
    meets = ((lon.min(1) <= bbox[2]) & (lon.max(1) >= bbox[0])
             & (lat.min(1) <= bbox[3]) & (lat.max(1) >= bbox[1]))
    assert 0 < len(lines) == int(meets.sum()) < len(every)
    np.testing.assert_array_equal(lines, every[meets])


def test_geometry_network_lines_rejects_bad_arguments(london_network):
    """A bbox with west east of east, or an unknown mode, is refused with a message naming it."""
    with pytest.raises(ValueError, match="`bbox`"):
        network_lines(london_network, bbox=(0.2, 52.0, 0.1, 52.3))
    with pytest.raises(NetworkError, match="unknown travel mode 'boat'"):
        network_lines(london_network, mode="boat")


def test_geometry_network_lines_from_a_plan(solved, london_network, network_cache_dir):
    """Given a plan, network_lines loads the plan's network (through the cache)."""
    plan, _ = solved
    from tests.helpers import LONDON_OSM

    plan = dataclasses.replace(plan, network=str(LONDON_OSM))
    lines = network_lines(plan, cache_dir=network_cache_dir)
    np.testing.assert_array_equal(lines, network_lines(london_network))
