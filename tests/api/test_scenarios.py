"""What-if scenarios: a changed copy of a plan, solved and compared with its base on the roster KPIs."""

from __future__ import annotations

import pytest

from api.changes import COMPARED_KPIS
from tests.api.support import assert_valid_roster, solve, submit, two_provider_plan, wait_job
from tests.helpers import worker

DATE = "2026-12-08"


def _finish(api, scenario: dict) -> dict:
    for side in ("base", "scenario"):
        if scenario[side]["job_id"]:
            assert wait_job(api, scenario[side]["job_id"])["state"] == "succeeded"
    return api.get(f"/scenarios/{scenario['id']}").json()


def test_scenarios_compare_side_by_side_with_the_base_roster(coordinator, london_network):
    """Remove w2, add w4, everybody walks, 40% more visits: solved and compared KPI by KPI with the base."""
    data = two_provider_plan(DATE)
    plan_id = submit(coordinator, data)
    base_job = solve(coordinator, plan_id, publish=True)
    response = coordinator.post(f"/plans/{plan_id}/scenarios", json={
        "name": "walking week", "time_limit_s": 1, "seed": 3,
        "changes": {"remove_workers": ["w2"], "add_workers": [worker("w4", "care-1", start_location="warren_st")],
                    "travel_mode": "walk", "demand_scale": 1.4}})
    assert response.status_code == 202, response.text
    created = response.json()
    assert created["base"]["roster_id"] == base_job["roster_id"] and created["base"]["job_id"] is None
    assert created["comparison"] == []
    scenario = _finish(coordinator, created)
    assert scenario["name"] == "walking week"
    assert [row["kpi"] for row in scenario["comparison"]] == list(COMPARED_KPIS)
    rows = {row["kpi"]: row for row in scenario["comparison"]}
    assert rows["visits"]["base"] == 5 and rows["visits"]["scenario"] == 7 and rows["visits"]["change"] == 2
    assert rows["workers"]["scenario"] == 3
    base_kpis = coordinator.get(f"/rosters/{base_job['roster_id']}").json()["kpis"]
    assert all(rows[k]["base"] == base_kpis[k] for k in COMPARED_KPIS)
    plan = coordinator.get(f"/plans/{scenario['scenario']['plan_id']}").json()
    assert plan["purpose"] == "scenario" and plan["base_plan_id"] == plan_id
    assert {w["travel_mode"] for w in plan["plan"]["workers"]} == {"walk"}
    assert sorted(w["id"] for w in plan["plan"]["workers"]) == ["w1", "w3", "w4"]
    assert len([v for v in plan["plan"]["visits"] if "~" in v["id"]]) == 2
    roster = coordinator.get(f"/rosters/{scenario['scenario']['roster_id']}").json()
    assert roster["purpose"] == "scenario"
    assert_valid_roster(plan["plan"], roster["roster"], london_network)
    # A what-if never becomes the day's roster: the published base stays.
    day = coordinator.get("/workers/w1/day", params={"date": DATE}).json()
    assert day["roster_id"] == base_job["roster_id"]


def test_scenarios_solve_the_base_when_it_has_no_roster(coordinator, london_network):
    """A base plan never solved is solved with the same settings, then compared."""
    data = two_provider_plan(DATE)
    plan_id = submit(coordinator, data)
    created = coordinator.post(f"/plans/{plan_id}/scenarios", json={
        "time_limit_s": 1, "changes": {"demand_scale": 0.6, "worker_travel_modes": {"w3": "cycle"}}}).json()
    assert created["base"]["job_id"] is not None and created["base"]["roster_id"] is None
    scenario = _finish(coordinator, created)
    rows = {row["kpi"]: row for row in scenario["comparison"]}
    assert (rows["visits"]["base"], rows["visits"]["scenario"]) == (5, 3)
    base = coordinator.get(f"/rosters/{scenario['base']['roster_id']}").json()
    assert_valid_roster(data, base["roster"], london_network)
    plan = coordinator.get(f"/plans/{scenario['scenario']['plan_id']}").json()["plan"]
    roster = coordinator.get(f"/rosters/{scenario['scenario']['roster_id']}").json()["roster"]
    assert_valid_roster(plan, roster, london_network)


@pytest.mark.parametrize(("changes", "field"), [
    ({"remove_workers": ["nobody"]}, "changes.remove_workers"),
    ({"worker_travel_modes": {"nobody": "walk"}}, "changes.worker_travel_modes"),
    ({"demand_scale": 0}, "changes.demand_scale"),
    ({"travel_mode": "fly"}, "changes.travel_mode"),
    ({"add_workers": [{"id": "w9", "provider_id": "care-9"}]}, None),
])
def test_scenarios_refuse_bad_changes(coordinator, changes, field):
    """Changes naming unknown workers, out-of-range values or invalid new records answer 422."""
    plan_id = submit(coordinator, two_provider_plan(DATE))
    response = coordinator.post(f"/plans/{plan_id}/scenarios", json={"changes": changes})
    assert response.status_code == 422, response.text
    problems = response.json()["detail"]
    if field is not None:
        assert field in {p["field"] for p in problems}
    else:
        assert any(p["record_id"] == "w9" for p in problems)


def test_scenarios_unknown_base_roster_is_404(coordinator):
    """A base roster of another plan is not found."""
    plan_id = submit(coordinator, two_provider_plan(DATE))
    response = coordinator.post(f"/plans/{plan_id}/scenarios", json={"changes": {}, "base_roster_id": "ro_other"})
    assert response.status_code == 404
    assert coordinator.get("/scenarios/sc_none").status_code == 404
