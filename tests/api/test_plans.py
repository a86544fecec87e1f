"""Submitting plans: JSON and CSV, every problem listed, size limits."""

from __future__ import annotations

import json

import pytest

from tests.api.support import csv_bytes, csv_plan_files, two_provider_plan
from tests.helpers import LONDON_OSM, client, plan_dict, visit

DATE = "2026-12-01"


def test_plans_submit_json_returns_id_and_stored_plan(coordinator):
    """A valid JSON plan answers 201 with its id; reading it back gives the same records."""
    data = two_provider_plan(DATE)
    response = coordinator.post("/plans", json=data)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"].startswith("pl_")
    assert (created["visits"], created["workers"], created["purpose"]) == (5, 3, "submitted")
    stored = coordinator.get(f"/plans/{created['id']}").json()
    assert stored["plan"]["date"] == DATE
    assert [v["id"] for v in stored["plan"]["visits"]] == ["v1", "v2", "v3", "v4", "v5"]
    assert stored["plan"]["visits"][0]["tasks"] == ["medication"]
    listed = coordinator.get("/plans", params={"date": DATE}).json()
    assert created["id"] in [p["id"] for p in listed["data"]]


def test_plans_invalid_plan_lists_every_problem(coordinator):
    """An invalid plan answers 422 with one entry per problem, each naming record and field."""
    data = plan_dict(network=str(LONDON_OSM),
                     visits=[visit("v1", window=("09:00", "08:00")), visit("v2", "nobody"),
                             visit("v3", duration_min="long")])
    response = coordinator.post("/plans", json=data)
    assert response.status_code == 422
    problems = response.json()["detail"]
    assert {"record_kind", "record_id", "field", "message"} <= set(problems[0])
    found = {(p["record_kind"], p["record_id"], p["field"]) for p in problems}
    assert ("visit", "v1", "window.end") in found
    assert ("visit", "v2", "client_id") in found
    assert ("visit", "v3", "duration_min") in found
    v1 = next(p for p in problems if p["record_id"] == "v1")
    assert v1["message"] == "window end 08:00 is before start 09:00"


def test_plans_network_must_be_a_file_on_the_server(coordinator):
    """A plan naming no network, or one the server lacks, is refused with the bundled names as a hint."""
    missing = coordinator.post("/plans", json=plan_dict())
    assert missing.status_code == 422
    # The expected text is written out here (the README's bundled networks), not read from the answer.
    hint = ("name a bundled network (fixtures/networks/cambridge_drive.osm, "
            "fixtures/networks/london_central_drive.osm) or an absolute path of a file on the server")
    assert missing.json()["detail"] == [{
        "record_kind": "plan", "record_id": None, "field": "network",
        "message": f"network is missing: {hint}"}]
    unknown = coordinator.post("/plans", json=plan_dict(network="/nowhere/city.osm"))
    assert unknown.status_code == 422
    assert "is not a file on this server" in unknown.json()["detail"][0]["message"]
    place = coordinator.post("/plans", json=plan_dict(network="Cambridge, UK"))
    assert place.status_code == 422
    bundled = coordinator.post("/plans", json=plan_dict(network="fixtures/networks/london_central_drive.osm"))
    assert bundled.status_code == 201, bundled.text


def test_plans_visits_per_plan_limit(coordinator):
    """More visits than HOMECARE_MAX_VISITS (50 on the test server) answers 422 saying the limit."""
    data = plan_dict(network=str(LONDON_OSM), visits=[visit(f"v{i}") for i in range(51)])
    response = coordinator.post("/plans", json=data)
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["field"] == "visits"
    assert "51 visits" in problem["message"] and "at most 50" in problem["message"]


def test_plans_body_size_limit(coordinator):
    """A body over HOMECARE_MAX_BODY_BYTES (200 kB on the test server) answers 413 before parsing."""
    data = two_provider_plan(DATE, notes="x" * 250_000)
    response = coordinator.post("/plans", json=data)
    assert response.status_code == 413
    [problem] = response.json()["detail"]
    assert "at most 200000 bytes" in problem["message"]


def test_plans_body_size_limit_without_content_length(coordinator):
    """A chunked body (no Content-Length) over the limit is refused too."""
    def chunks():
        yield b'{"date": "2026-12-01", "notes": "'
        for _ in range(30):
            yield b"x" * 10_000
        yield b'"}'

    response = coordinator.post("/plans", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_plans_malformed_json_is_422_in_the_same_form(coordinator):
    """A body that is not a JSON object answers 422 with problems of kind ``request``."""
    response = coordinator.post("/plans", content=b"[1, 2]", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["record_kind"] == "request"
    broken = coordinator.post("/plans", content=b"{nope", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422


def test_plans_submit_csv_files(coordinator):
    """The CSV form (multipart: one file per list, date and network as form fields) gives the same plan."""
    data = two_provider_plan(DATE)
    files = csv_plan_files(data)
    response = coordinator.post("/plans/csv", files=files, data={"date": DATE, "network": str(LONDON_OSM)})
    assert response.status_code == 201, response.text
    plan = response.json()["plan"]
    assert [v["id"] for v in plan["visits"]] == ["v1", "v2", "v3", "v4", "v5"]
    assert plan["visits"][2]["tasks"] == ["breakfast", "wash"]
    assert plan["workers"][2]["shift"] == {"start": "08:00", "end": "16:00"}


def test_plans_csv_problems_name_file_rows(coordinator):
    """Problems in CSV files name the file and row of each bad record."""
    data = plan_dict(network=str(LONDON_OSM), clients=[client("c1")],
                     visits=[{**visit("v1"), "window": {"start": "10:00", "end": "09:00"}}])
    files = csv_plan_files(data)
    files["plan"] = ("plan.csv", csv_bytes([{"date": data["date"], "network": str(LONDON_OSM)}]), "text/csv")
    response = coordinator.post("/plans/csv", files=files)
    assert response.status_code == 422
    assert any(p["record_id"] == "v1" and p["field"] == "window.end" for p in response.json()["detail"])


def test_plans_unknown_plan_is_404(coordinator):
    """Reading a plan that does not exist answers 404."""
    assert coordinator.get("/plans/pl_nothing").status_code == 404
    assert json.loads(coordinator.post("/plans/pl_nothing/jobs", json={}).text)["detail"] == "plan 'pl_nothing' not found"


@pytest.mark.parametrize("path", ["/plans", "/jobs", "/rosters", "/audit"])
def test_lists_refuse_an_offset_past_what_a_database_can_hold(coordinator, path):
    """An offset over 64 bits answered 500 on PostgreSQL; every list now says 422 and why."""
    response = coordinator.get(path, params={"offset": 2**63})
    assert response.status_code == 422, response.text
    assert "offset" in response.text
    assert coordinator.get(path, params={"offset": 2**31 - 1}).status_code == 200
