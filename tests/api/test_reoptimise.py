"""Re-optimising a roster after a change on the day, keeping the locked stops exactly."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.timeutil import parse_hhmm
from tests.api.support import (
    LiveServer,
    assert_valid_roster,
    publish_roster,
    solve,
    submit,
    two_provider_plan,
    wait_job,
)
from tests.helpers import client, visit

DATE = "2026-12-07"


@pytest.fixture(scope="module")
def base(server: LiveServer, keys: dict[str, str]) -> dict[str, Any]:
    """A solved two-provider day to change."""
    with server.client(keys["coordinator"]) as api:
        data = two_provider_plan(DATE)
        plan_id = submit(api, data)
        job = solve(api, plan_id)
        roster = api.get(f"/rosters/{job['roster_id']}").json()
    return {"plan_id": plan_id, "roster_id": job["roster_id"], "roster": roster["roster"]}


def _reoptimise(api, roster_id: str, body: dict[str, Any]) -> tuple[dict, dict, dict]:
    response = api.post(f"/rosters/{roster_id}/reoptimise", json={"time_limit_s": 1, **body})
    assert response.status_code == 202, response.text
    job = wait_job(api, response.json()["id"])
    assert job["state"] == "succeeded", job
    roster = api.get(f"/rosters/{job['roster_id']}").json()
    plan = api.get(f"/plans/{job['plan_id']}").json()
    return job, roster, plan


def _stops(roster: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(s["visit_id"], r["worker_id"], s["start"]) for r in roster["routes"] for s in r["stops"]}


def test_reoptimise_worker_off_sick_keeps_stops_already_started(coordinator, base, london_network):
    """A carer goes off sick at 10:00: every stop started before then stays exactly, theirs as done by them
    (they stay in the plan, off from 10:00); nothing else starts before 10:00; their later visits go to others."""
    kept = {(v, w, s) for v, w, s in _stops(base["roster"]) if parse_hhmm(s) < parse_hhmm("10:00")}
    sick = "w2" if any(w == "w2" for _, w, _ in kept) else "w1"
    job, roster, plan = _reoptimise(coordinator, base["roster_id"], {
        "changes": {"remove_workers": [sick]}, "lock_before": "10:00"})
    done_by_sick = {stop for stop in kept if stop[1] == sick}
    assert kept and done_by_sick, "the base roster should give w1 or w2 a stop before 10:00"
    assert job["kind"] == "reoptimise" and job["locked_stops"] == len(kept)
    assert job["previous_roster_id"] == base["roster_id"]
    assert roster["previous_roster_id"] == base["roster_id"] and roster["purpose"] == "reoptimise"
    new = _stops(roster["roster"])
    assert kept <= new
    assert {stop for stop in new if stop[1] == sick} == done_by_sick
    assert all(parse_hhmm(s) >= parse_hhmm("10:00") for stop in new - kept for s in [stop[2]])
    assert roster["roster"]["locked_before"] == "10:00"
    assert plan["purpose"] == "reoptimise" and plan["base_plan_id"] == base["plan_id"]
    assert plan["plan"]["locked_before"] == "10:00"
    assert {w["id"]: w.get("off_from") for w in plan["plan"]["workers"]} == {
        "w1": None, "w2": None, "w3": None, sick: "10:00"}
    assert_valid_roster(plan["plan"], roster["roster"], london_network)
    # Once published, the re-optimised roster is the day's: the sick carer sees only what they did,
    # w3 the new day.
    publish_roster(coordinator, roster["id"])
    day = coordinator.get(f"/workers/{sick}/day", params={"date": DATE}).json()
    assert day["roster_id"] == roster["id"] and day["provider_id"] == "care-1"
    assert {s["visit_id"] for s in day["stops"]} == {v for v, _, _ in done_by_sick}
    assert coordinator.get("/workers/w3/day", params={"date": DATE}).json()["roster_id"] == roster["id"]


def test_reoptimise_cancel_and_add_visits_keeping_untouched_workers(coordinator, base, london_network):
    """Cancel v4, add v6: every stop of workers the change does not touch stays exactly as it was."""
    new_client = client("c6", location="euston_sq", postcode="NW1 2AA")
    new_visit = visit("v6", "c6", provider_id="care-1", window=("14:00", "15:00"), tasks=["shopping"])
    job, roster, plan = _reoptimise(coordinator, base["roster_id"], {
        "changes": {"cancel_visits": ["v4"], "add_visits": [new_visit], "add_clients": [new_client]},
        "keep_untouched_workers": True})
    touched = {r["worker_id"] for r in base["roster"]["routes"] if any(s["visit_id"] == "v4" for s in r["stops"])}
    kept = {stop for stop in _stops(base["roster"]) if stop[1] not in touched and stop[0] != "v4"}
    assert job["locked_stops"] == len(kept) > 0
    assert kept <= _stops(roster["roster"])
    served = {v for v, _, _ in _stops(roster["roster"])} | {u["visit_id"] for u in roster["roster"]["unassigned"]}
    assert served == {"v1", "v2", "v3", "v5", "v6"}
    assert_valid_roster(plan["plan"], roster["roster"], london_network)


def test_reoptimise_rejects_unknown_ids_and_bad_times(coordinator, base):
    """Removing an unknown worker or cancelling an unknown visit answers 422 naming them; so does a bad time."""
    response = coordinator.post(f"/rosters/{base['roster_id']}/reoptimise", json={
        "changes": {"remove_workers": ["w9"], "cancel_visits": ["v9"]}})
    assert response.status_code == 422
    assert {(p["record_kind"], p["record_id"]) for p in response.json()["detail"]} == {("worker", "w9"),
                                                                                        ("visit", "v9")}
    late = coordinator.post(f"/rosters/{base['roster_id']}/reoptimise", json={"changes": {}, "lock_before": "25:00"})
    assert late.status_code == 422 and late.json()["detail"][0]["field"] == "lock_before"
    clash = coordinator.post(f"/rosters/{base['roster_id']}/reoptimise", json={
        "changes": {"add_visits": [visit("v1", "c1")]}})
    assert clash.status_code == 422 and "v1" in str(clash.json())
    assert coordinator.post("/rosters/ro_none/reoptimise", json={"changes": {}}).status_code == 404
