"""End to end on the bundled Cambridge weekday: plan file -> solve -> roster validator."""

from __future__ import annotations

import networkx as nx
import pytest

from scheduler.bundled import default_plan
from scheduler.io import load_plan, roster_from_dict, roster_to_dict
from scheduler.validate import check_roster
from solver import SolveParams, network_for, solve, travel_for
from scheduler.shifts import free_time, gaps
from tests.contract import _seconds, timing_breaches
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


def test_cambridge_weekday_roster_keeps_the_contract_timing_rule_as_listed(weekday):
    """An outside checker of the contract, reading the roster JSON alone, finds no entry arriving before the
    previous listed entry (visit or break) ends plus travel; visits arrive just in time; every break listed is
    taken between two visits (none after the day's last visit)."""
    plan, *_, result = weekday
    data = roster_to_dict(result.roster)
    assert timing_breaches(data) == []
    for route in data["routes"]:
        kinds = [s["kind"] for s in route["stops"]]
        if "break" in kinds:
            assert kinds[0] == kinds[-1] == "visit", route["worker_id"]
        visits = [s for s in route["stops"] if s["kind"] == "visit"]
        # Just in time, save a visit at the start of a stint: travel may not use the gap before
        # it, so the worker arrives before the gap and the gap is not waiting.
        off = [(g.start, g.end) for g in gaps(plan.worker(route["worker_id"]))]
        for s in visits:
            arrival, start = _seconds(s["arrival"]), _seconds(s["start"])
            assert arrival == start or free_time(arrival, start, off) == 0, (route["worker_id"], s["visit_id"])
        assert sum(s["idle_s"] + s["off_s"] for s in visits) == route["idle_s"]
    assert sum(r["idle_s"] for r in data["routes"]) == data["kpis"]["idle_s"]


def test_cambridge_weekday_replan_after_w01_off_sick_starts_nothing_in_the_past(weekday, tmp_path,
                                                                               network_cache_dir):
    """The README's scenario: w01 removed from the plan, ``solve --keep roster.json --lock-before 09:00``.

    Every stop that started before 09:00 stays exactly; nothing else starts before 09:00; nobody without a kept
    stop leaves home before 09:00; w01's started visits are listed as ``past`` (not given to someone else); the
    roster passes the validator and the outside timing checker.
    """
    import json

    from typer.testing import CliRunner

    from homecare_cli.main import app
    from scheduler.io import load_roster, plan_to_dict

    plan, _, _, result = weekday
    data = plan_to_dict(plan)
    data["workers"] = [w for w in data["workers"] if w["id"] != "w01"]
    for client in data["clients"]:
        for field in ("preferred_worker_ids", "excluded_worker_ids"):
            client[field] = [w for w in client.get(field) or [] if w != "w01"]
    data["history"] = [h for h in data.get("history", []) if h["worker_id"] != "w01"]
    for visit in data["visits"]:
        if visit.get("pinned_worker_id") == "w01":
            visit["pinned_worker_id"] = None
    (tmp_path / "plan.json").write_text(json.dumps(data))
    (tmp_path / "roster.json").write_text(json.dumps(roster_to_dict(result.roster)))
    outcome = CliRunner().invoke(app, [
        "solve", str(tmp_path / "plan.json"), "--keep", str(tmp_path / "roster.json"), "--lock-before", "09:00",
        "--time-limit", "5", "-q", "--cache-dir", str(network_cache_dir), "--out", str(tmp_path / "out")])
    # A 5 s re-plan may leave a mandatory evening visit out that a longer search would place (as on main,
    # which drops two in 5 s): the validator then says so and the CLI exits 1. Any other violation fails here.
    problems = [line.strip() for line in outcome.output.splitlines() if line.strip().startswith("- [")]
    assert outcome.exit_code == (1 if problems else 0), outcome.output
    assert all(line.startswith("- [mandatory]") for line in problems), outcome.output
    at = 9 * 3600
    before = {(r.worker_id, s.visit_id, s.start) for r in result.roster.routes for s in r.stops if s.start < at}
    again = load_roster(tmp_path / "out" / "roster.json")
    after = {(r.worker_id, s.visit_id, s.start) for r in again.routes for s in r.stops}
    started_by_w01 = {v for w, v, _ in before if w == "w01"}
    # Kept exactly, but for w01's visits (double-handed ones included): they cannot be shown as done.
    assert {b for b in before if b[1] not in started_by_w01} <= after
    assert all(stop in before or stop[2] >= at for stop in after)
    for route in again.routes:
        if route.stops and not any(s.start < at for s in route.stops):
            assert route.departure >= at, route.worker_id
    codes = {u.visit_id: u for u in again.unassigned}
    assert started_by_w01 and all(codes[v].code == "past" and "'w01'" in codes[v].reason for v in started_by_w01)
    assert again.locked_before == at
    assert timing_breaches(json.loads((tmp_path / "out" / "roster.json").read_text())) == []
