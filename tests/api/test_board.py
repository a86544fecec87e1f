"""The coordinator board's endpoints: the page, a roster cut to the caller, its GeoJSON map, what changed.

The browser tests (``tests/board/``) drive the page itself; these check the
server's side: who sees which rows, the map's layers, and 401/403/404.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from api.board import Scope, board_view
from api.changes import diff_rosters
from tests.api.support import (
    LiveServer,
    assert_valid_roster,
    publish_roster,
    solve,
    submit,
    two_provider_plan,
    wait_job,
)
from tests.helpers import client, make_plan, make_roster, provider, stop, visit, worker

DATE = "2026-12-09"
OTHER_DATE = "2026-12-10"


@pytest.fixture(scope="module")
def day(server: LiveServer, keys: dict[str, str], london_network) -> dict[str, Any]:
    """Solve and publish a two-provider day (care-1: w1, w2; care-2: w3), and a what-if of it; both pass
    check_roster."""
    with server.client(keys["coordinator"]) as api:
        data = two_provider_plan(DATE)
        plan_id = submit(api, data)
        job = solve(api, plan_id, publish=True)
        roster = api.get(f"/rosters/{job['roster_id']}").json()
        scenario = api.post(f"/plans/{plan_id}/scenarios", json={
            "changes": {"demand_scale": 0.6}, "time_limit_s": 0.5, "base_roster_id": job["roster_id"]})
        assert scenario.status_code == 202, scenario.text
        what_if = wait_job(api, scenario.json()["scenario"]["job_id"])
        assert_valid_roster(data, roster["roster"], london_network)
        what_if_roster = api.get(f"/rosters/{what_if['roster_id']}").json()
        assert_valid_roster(api.get(f"/plans/{what_if['plan_id']}").json()["plan"], what_if_roster["roster"],
                            london_network)
    return {"data": data, "plan_id": plan_id, "roster_id": job["roster_id"], "roster": roster["roster"],
            "what_if_roster_id": what_if["roster_id"]}


def _visit_blocks(board: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((r["worker_id"], s["visit_id"]) for r in board["rows"] for s in r["stops"] if s["kind"] == "visit")


def _roster_stops(roster: dict[str, Any], workers: set[str] | None = None) -> list[tuple[str, str]]:
    return sorted((r["worker_id"], s["visit_id"]) for r in roster["routes"] for s in r["stops"]
                  if s.get("kind", "visit") == "visit" and (workers is None or r["worker_id"] in workers))


def test_board_page_and_its_files_are_served_without_a_key(server):
    """GET /board is the HTML page (strict CSP); its script, map module and style are static files."""
    with server.client(None) as api:
        page = api.get("/board")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert '/board/static/board.js' in page.text and '/board/static/board.css' in page.text
        for name, kind in (("board.js", "javascript"), ("map.js", "javascript"), ("board.css", "text/css")):
            response = api.get(f"/board/static/{name}")
            assert response.status_code == 200 and kind in response.headers["content-type"], name
        assert api.get("/board/static/nothing.js").status_code == 404


def test_board_coordinator_sees_every_route_and_may_reoptimise(as_role, day):
    """A coordinator's board has a row per route, a block per stop, the roster's unassigned visits and KPIs."""
    board = as_role("coordinator").get(f"/board/rosters/{day['roster_id']}").json()
    roster = day["roster"]
    assert board["scope"] == "all" and board["can_reoptimise"] is True
    assert [r["worker_id"] for r in board["rows"]] == sorted(r["worker_id"] for r in roster["routes"])
    assert _visit_blocks(board) == _roster_stops(roster)
    assert [u["visit_id"] for u in board["unassigned"]] == [u["visit_id"] for u in roster["unassigned"]]
    assert board["kpis"]["assigned"] == roster["kpis"]["assigned"] and board["changes"] == []
    assert {p["id"] for p in board["providers"]} == {"care-1", "care-2"}
    v5 = [s for r in board["rows"] for s in r["stops"] if s["visit_id"] == "v5"]
    assert len(v5) == 2 and all(s["workers_required"] == 2 and len(s["partners"]) == 1 for s in v5)
    assert {v5[0]["partners"][0], v5[1]["partners"][0]} == {r["worker_id"] for r in board["rows"]
                                                            if any(s["visit_id"] == "v5" for s in r["stops"])}
    first = board["rows"][0]["stops"][0]
    assert first["visit_kind"] == "care" and first["late"] is False and first["slack_min"] >= 0
    # The day's board is the same roster; a planner sees it too, without the actions.
    today = as_role("planner").get("/board/day", params={"date": DATE}).json()
    assert today["roster_id"] == day["roster_id"] and today["can_reoptimise"] is False
    assert _visit_blocks(today) == _visit_blocks(board)


def test_board_provider_sees_only_its_own_workers_and_visits(as_role, day):
    """care-1's board holds w1's and w2's rows only; nothing of care-2's worker, visits or clients."""
    board = as_role("provider:care-1").get(f"/board/rosters/{day['roster_id']}").json()
    assert board["scope"] == "provider:care-1" and board["can_reoptimise"] is False
    assert {r["worker_id"] for r in board["rows"]} <= {"w1", "w2"}
    assert _visit_blocks(board) == _roster_stops(day["roster"], {"w1", "w2"})
    assert [p["id"] for p in board["providers"]] == ["care-1"]
    text = str({k: v for k, v in board.items() if k not in ("roster_id", "plan_id")})
    for secret in ("w3", "v3", "v4", "care-2", "WC1B 3AA", "WC1H 9AA"):
        assert secret not in text, secret
    other = as_role("provider:care-2").get("/board/day", params={"date": DATE}).json()
    assert {r["worker_id"] for r in other["rows"]} == {"w3"}
    assert {v for _, v in _visit_blocks(other)} <= {"v3", "v4"}


def test_board_worker_sees_only_their_own_day(as_role, day):
    """worker:care-1:w1's board is their own row, with no unassigned visits and KPIs of their own route."""
    board = as_role("worker:care-1:w1").get("/board/day", params={"date": DATE}).json()
    assert board["scope"] == "worker:care-1:w1"
    assert [r["worker_id"] for r in board["rows"]] == ["w1"]
    assert _visit_blocks(board) == _roster_stops(day["roster"], {"w1"})
    assert board["unassigned"] == [] and board["violations"] == []
    assert board["kpis"]["workers"] == 1


@pytest.mark.parametrize(("role", "path", "status"), [
    ("provider:care-1", "/board/rosters/{what_if}", 404),   # what-if rosters are not the day's
    ("worker:care-1:w1", "/board/rosters/{what_if}/map", 404),
    ("worker:care-1:w1", "/board/day?date=" + OTHER_DATE, 404),    # no roster of that day lists w1
    ("coordinator", "/board/rosters/ro_none", 404),
    ("coordinator", "/board/rosters/ro_none/map", 404),
    ("coordinator", "/board/rosters/{what_if}", 200),
    (None, "/board/rosters/{roster}", 401),
    (None, "/board/rosters/{roster}/map", 401),
    (None, "/board/day?date=" + DATE, 401),
    ("planner", "/rosters/{roster}/reoptimise", 403),        # the board's action, refused to a planner
    ("provider:care-1", "/rosters/{roster}/reoptimise", 403),
])
def test_board_access_is_enforced_by_the_server(as_role, day, role, path, status):
    """Board endpoints answer 401 without a key, 404 for rosters the key may not see; actions stay 403."""
    url = path.format(roster=day["roster_id"], what_if=day["what_if_roster_id"])
    api = as_role(role)
    if url.endswith("/reoptimise"):
        response = api.post(url, json={"changes": {"remove_workers": ["w1"]}, "time_limit_s": 0.2})
    else:
        response = api.get(url)
    assert response.status_code == status, response.text


def _near(a: list[float], b: list[float], metres: float) -> bool:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    dy = (a[1] - b[1]) * 110_540
    return math.hypot(dx, dy) <= metres


def test_board_map_is_geojson_of_routes_over_the_roads(as_role, day):
    """The map has the roads in the bbox, one route per worker with stops along the roads, and the attribution."""
    response = as_role("coordinator").get(f"/board/rosters/{day['roster_id']}/map")
    assert response.status_code == 200 and response.headers["content-type"] == "application/geo+json"
    geo = response.json()
    assert geo["type"] == "FeatureCollection" and geo["attribution"] == "© OpenStreetMap contributors (ODbL)"
    assert geo["routes_follow_roads"] is True
    west, south, east, north = geo["bbox"]
    layers: dict[str, list[dict[str, Any]]] = {}
    for feature in geo["features"]:
        layers.setdefault(feature["properties"]["layer"], []).append(feature)
    roads = layers["road"][0]["geometry"]["coordinates"]
    assert len(roads) > 100
    assert all(west - 0.01 <= lon <= east + 0.01 and south - 0.01 <= lat <= north + 0.01
               for line in roads for lon, lat in line)
    routes = {f["properties"]["worker_id"]: f["geometry"]["coordinates"] for f in layers["route"]}
    working = {r["worker_id"]: r for r in day["roster"]["routes"] if r["stops"]}
    assert set(routes) == set(working)
    workers = {w["id"]: w for w in day["data"]["workers"]}
    clients = {c["id"]: c["location"] for c in day["data"]["clients"]}
    visits = {v["id"]: v for v in day["data"]["visits"]}
    for worker_id, legs in routes.items():
        stops = [s for s in working[worker_id]["stops"] if s.get("kind", "visit") == "visit"]
        assert len(legs) == len(stops) + 1
        home = workers[worker_id]["start_location"]
        assert _near(legs[0][0], [home["lon"], home["lat"]], 150)  # snapped to the nearest road node
        for leg, here in zip(legs, stops, strict=False):
            place = clients[visits[here["visit_id"]]["client_id"]]
            assert _near(leg[-1], [place["lon"], place["lat"]], 150)
        assert any(len(leg) > 2 for leg in legs)  # bends along the roads, not straight lines
    assert sorted((f["properties"]["worker_id"], f["properties"]["visit_id"]) for f in layers["stop"]) == \
        _roster_stops(day["roster"])


def test_board_map_of_a_provider_or_worker_has_only_their_routes(as_role, day):
    """care-2's map draws w3's route and stops only; worker:care-1:w1's only w1's."""
    for role, mine in (("provider:care-2", {"w3"}), ("worker:care-1:w1", {"w1"})):
        geo = as_role(role).get(f"/board/rosters/{day['roster_id']}/map").json()
        shown = {f["properties"].get("worker_id") for f in geo["features"] if f["properties"]["layer"] != "road"}
        assert shown == mine & {r["worker_id"] for r in day["roster"]["routes"] if r["stops"]}, role


def test_board_shows_what_a_reoptimise_changed(as_role, day, london_network):
    """After w2 goes off sick, the new roster's board marks w2's row off and lists their visits as changed."""
    coordinator = as_role("coordinator")
    response = coordinator.post(f"/rosters/{day['roster_id']}/reoptimise", json={
        "changes": {"remove_workers": ["w2"]}, "time_limit_s": 1})
    assert response.status_code == 202, response.text
    job = wait_job(coordinator, response.json()["id"])
    assert job["state"] == "succeeded", job
    new = coordinator.get(f"/rosters/{job['roster_id']}").json()
    assert_valid_roster(coordinator.get(f"/plans/{job['plan_id']}").json()["plan"], new["roster"], london_network)
    # A draft until the coordinator publishes it from the board; then it is the day's.
    draft = coordinator.get(f"/board/rosters/{job['roster_id']}").json()
    assert (draft["state"], draft["published_for"], draft["can_publish"]) == ("draft", [], True)
    assert coordinator.get("/board/day", params={"date": DATE}).json()["roster_id"] == day["roster_id"]
    assert as_role("provider:care-2").get(f"/board/rosters/{job['roster_id']}").status_code == 404
    publish_roster(coordinator, job["roster_id"])
    board = coordinator.get("/board/day", params={"date": DATE}).json()
    assert board["roster_id"] == job["roster_id"] and board["previous_roster_id"] == day["roster_id"]
    assert (board["state"], board["published_for"]) == ("published", ["care-1", "care-2"])
    off = [r for r in board["rows"] if r["off"]]
    assert [r["worker_id"] for r in off] == ["w2"] and off[0]["stops"] == []
    assert _visit_blocks({"rows": [r for r in board["rows"] if not r["off"]]}) == _roster_stops(new["roster"])
    was_w2 = {v for w, v in _roster_stops(day["roster"], {"w2"})}
    changed = {c["visit_id"]: c for c in board["changes"]}
    assert was_w2 and was_w2 <= set(changed)
    for visit_id in was_w2:
        assert changed[visit_id]["change"] in {"reassigned", "dropped"}
        assert any(p["worker_id"] == "w2" for p in changed[visit_id]["before"])
        assert all(p["worker_id"] != "w2" for p in changed[visit_id]["after"])
    marked = {s["visit_id"]: s["change"] for r in board["rows"] for s in r["stops"] if s["change"]}
    assert all(changed[v]["change"] == kind for v, kind in marked.items())
    # care-2 sees only the changes that touch its own worker or visits.
    care2 = as_role("provider:care-2").get(f"/board/rosters/{job['roster_id']}").json()
    assert not any(r["worker_id"] == "w2" for r in care2["rows"])
    assert "w2" not in str(care2["changes"])
    assert all(p["worker_id"] == "w3" for c in care2["changes"] for p in [*c["before"], *c["after"]])


def _small_day(visit_ids: list[str]):
    return make_plan(providers=[provider("care-1"), provider("care-2")],
                     workers=[worker("w1"), worker("w2"), worker("w3", "care-2")],
                     clients=[client("c1")], visits=[visit(v, "c1", window=("08:00", "18:00")) for v in visit_ids])


def test_board_diff_names_every_kind_of_change():
    """Moved, reassigned, dropped, assigned, cancelled and added visits are told apart; unchanged ones left out."""
    before_plan = _small_day(["v1", "v2", "v3", "v4", "v5", "v6"])
    after_plan = _small_day(["v1", "v2", "v3", "v4", "v6", "v7"])  # v5 cancelled, v7 added
    before = make_roster(before_plan, {"w1": [stop("v1", "09:00"), stop("v2", "10:00"), stop("v5", "12:00")],
                                       "w2": [stop("v3", "09:00"), stop("v6", "11:00")]}, [("v4", "nobody free")])
    after = make_roster(after_plan, {"w1": [stop("v1", "09:00"), stop("v2", "10:30"), stop("v4", "13:00")],
                                     "w3": [stop("v3", "09:00"), stop("v7", "14:00")]}, [("v6", "nobody free")])
    changes = {c.visit_id: (c.change, [(p.worker_id, p.start) for p in c.before],
                            [(p.worker_id, p.start) for p in c.after]) for c in diff_rosters(before, after, after_plan)}
    assert changes == {
        "v2": ("moved", [("w1", "10:00")], [("w1", "10:30")]),
        "v3": ("reassigned", [("w2", "09:00")], [("w3", "09:00")]),
        "v4": ("assigned", [], [("w1", "13:00")]),
        "v5": ("cancelled", [("w1", "12:00")], []),
        "v6": ("dropped", [("w2", "11:00")], []),
        "v7": ("added", [], [("w3", "14:00")]),
    }


def test_board_view_cuts_changes_to_the_provider():
    """A provider's board lists changes touching its workers, without other providers' workers in them."""
    import datetime as dt

    before_plan = _small_day(["v1", "v3"])
    after_plan = _small_day(["v1", "v3"])
    before = make_roster(before_plan, {"w1": [stop("v1", "09:00")], "w2": [stop("v3", "09:00")]})
    after = make_roster(after_plan, {"w1": [stop("v1", "09:00")], "w3": [stop("v3", "09:00")]})
    common = {"roster_id": "ro_new", "plan_id": "pl_new", "purpose": "reoptimise",
              "created_at": dt.datetime(2026, 12, 9, tzinfo=dt.UTC), "kpis": after.kpis.to_dict(), "violations": [],
              "can_reoptimise": False, "previous_roster_id": "ro_old", "previous": (before_plan, before)}
    care2 = board_view(after_plan, after, scope=Scope(provider_id="care-2"), **common)
    assert [(c.visit_id, c.change, [p.worker_id for p in c.after]) for c in care2.changes] == [
        ("v3", "reassigned", ["w3"])]
    assert care2.changes[0].before == [] and [r.worker_id for r in care2.rows] == ["w3"]
    everybody = board_view(after_plan, after, scope=Scope(), **common)
    assert [p.worker_id for p in everybody.changes[0].before] == ["w2"]
    assert [r.worker_id for r in everybody.rows] == ["w1", "w3"]
