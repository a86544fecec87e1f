"""Every role against every endpoint: allowed, forbidden (403), or not theirs (404); no key (401).

Roles: coordinator, planner, provider:care-1 and worker:w1 (plus provider:care-2
and worker:w3 for ownership). care-1 employs w1 and w2; care-2 employs w3.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.support import LiveServer, csv_plan_files, solve, submit, two_provider_plan, wait_job

DATE = "2026-12-03"
C, P, PROV, W = "coordinator", "planner", "provider:care-1", "worker:w1"


@pytest.fixture(scope="module")
def world(server: LiveServer, keys: dict[str, str]) -> dict[str, Any]:
    """A solved plan, a finished job, its roster and a finished scenario, made by a coordinator."""
    with server.client(keys[C]) as api:
        data = two_provider_plan(DATE)
        plan_id = submit(api, data)
        job = solve(api, plan_id, time_limit_s=0.5)
        scenario = api.post(f"/plans/{plan_id}/scenarios", json={
            "changes": {"remove_workers": ["w2"]}, "time_limit_s": 0.5, "base_roster_id": job["roster_id"]})
        assert scenario.status_code == 202, scenario.text
        wait_job(api, scenario.json()["scenario"]["job_id"])
    return {"plan": plan_id, "job": job["id"], "roster": job["roster_id"], "scenario": scenario.json()["id"],
            "data": data}


# (name, method, path, request options, expected status per role C, P, PROV, W)
ENDPOINTS: list[tuple[str, str, str, dict[str, Any], tuple[int, int, int, int]]] = [
    ("health", "GET", "/health", {}, (200, 200, 200, 200)),
    ("me", "GET", "/me", {}, (200, 200, 200, 200)),
    ("list plans", "GET", "/plans", {}, (200, 200, 403, 403)),
    ("submit plan", "POST", "/plans", {"json": "plan"}, (201, 201, 403, 403)),
    ("submit csv", "POST", "/plans/csv", {"files": "csv"}, (201, 201, 403, 403)),
    ("read plan", "GET", "/plans/{plan}", {}, (200, 200, 403, 403)),
    ("start job", "POST", "/plans/{plan}/jobs", {"json": {"time_limit_s": 0.2}}, (202, 202, 403, 403)),
    ("list jobs", "GET", "/jobs", {}, (200, 200, 403, 403)),
    ("read job", "GET", "/jobs/{job}", {}, (200, 200, 403, 403)),
    ("cancel finished job", "POST", "/jobs/{job}/cancel", {}, (409, 409, 403, 403)),
    ("rerun finished job", "POST", "/jobs/{job}/rerun", {}, (409, 409, 403, 403)),
    ("list rosters", "GET", "/rosters", {}, (200, 200, 403, 403)),
    ("read roster", "GET", "/rosters/{roster}", {}, (200, 200, 403, 403)),
    ("read roster csv", "GET", "/rosters/{roster}/csv", {}, (200, 200, 403, 403)),
    ("reoptimise", "POST", "/rosters/{roster}/reoptimise",
     {"json": {"changes": {"cancel_visits": ["v4"]}, "time_limit_s": 0.2}}, (202, 403, 403, 403)),
    ("start scenario", "POST", "/plans/{plan}/scenarios",
     {"json": {"changes": {"demand_scale": 0.6}, "time_limit_s": 0.2, "base_roster_id": "{roster}"}},
     (202, 202, 403, 403)),
    ("read scenario", "GET", "/scenarios/{scenario}", {}, (200, 200, 403, 403)),
    ("own provider visits", "GET", "/providers/care-1/visits?date=" + DATE + "&roster_id={roster}", {},
     (200, 403, 200, 403)),
    ("other provider visits", "GET", "/providers/care-2/visits?date=" + DATE + "&roster_id={roster}", {},
     (200, 403, 404, 403)),
    ("own worker day", "GET", "/workers/w1/day?date=" + DATE + "&roster_id={roster}", {}, (200, 403, 200, 200)),
    ("own worker ics", "GET", "/workers/w1/day.ics?date=" + DATE + "&roster_id={roster}", {},
     (200, 403, 200, 200)),
    ("colleague's day", "GET", "/workers/w2/day?date=" + DATE + "&roster_id={roster}", {}, (200, 403, 200, 404)),
    ("other provider's worker day", "GET", "/workers/w3/day?date=" + DATE + "&roster_id={roster}", {},
     (200, 403, 404, 404)),
    ("other provider's worker ics", "GET", "/workers/w3/day.ics?date=" + DATE + "&roster_id={roster}", {},
     (200, 403, 404, 404)),
    ("audit log", "GET", "/audit", {}, (200, 403, 403, 403)),
]


def _request(api: httpx.Client, world: dict[str, Any], method: str, path: str,
             options: dict[str, Any]) -> httpx.Response:
    ids = {k: v for k, v in world.items() if isinstance(v, str)}
    kwargs: dict[str, Any] = {}
    if options.get("json") == "plan":
        kwargs["json"] = two_provider_plan(DATE)
    elif isinstance(options.get("json"), dict):
        import json

        kwargs["json"] = json.loads(json.dumps(options["json"]).replace("{roster}", ids["roster"]))
    if options.get("files") == "csv":
        kwargs["files"] = csv_plan_files(world["data"])
        kwargs["data"] = {"date": DATE, "network": world["data"]["network"]}
    return api.request(method, path.format(**ids), **kwargs)


@pytest.mark.parametrize("role", [C, P, PROV, W])
@pytest.mark.parametrize(("name", "method", "path", "options", "expected"), ENDPOINTS,
                         ids=[e[0] for e in ENDPOINTS])
def test_access_role_by_endpoint(as_role, world, role, name, method, path, options, expected):
    """Each role gets exactly the expected status from each endpoint."""
    api = as_role(role)
    response = _request(api, world, method, path, options)
    want = expected[[C, P, PROV, W].index(role)]
    assert response.status_code == want, f"{role} {method} {path}: {response.status_code} {response.text[:300]}"
    if want == 404:
        assert "not found" in response.json()["detail"]
    if want == 403:
        assert "may not use this endpoint" in response.json()["detail"]


@pytest.mark.parametrize(("name", "method", "path", "options", "expected"),
                         [e for e in ENDPOINTS if e[0] != "health"], ids=[e[0] for e in ENDPOINTS if e[0] != "health"])
def test_access_without_a_valid_key_is_401(server, world, name, method, path, options, expected):
    """Every endpoint but /health answers 401 without a key, or with a malformed, unknown or forged one."""
    bad_keys = [None, "nonsense", "hc_000000000000_" + "A" * 43]
    with server.client(None) as api:
        for key in bad_keys:
            headers = {"X-API-Key": key} if key else {}
            response = api.request(method, path.format(**{k: v for k, v in world.items() if isinstance(v, str)}),
                                   headers=headers)
            assert response.status_code == 401, (key, response.text)
            assert response.headers["www-authenticate"] == "Bearer"


def test_access_bearer_header_works_like_x_api_key(server, keys):
    """``Authorization: Bearer <key>`` authenticates as ``X-API-Key`` does."""
    response = httpx.get(f"{server.url}/me", headers={"Authorization": f"Bearer {keys[P]}"})
    assert response.status_code == 200 and response.json()["role"] == P


def test_access_another_providers_data_looks_missing(as_role, world):
    """A provider asking for another provider's list gets the same 404 as for a provider that does not exist."""
    care1 = as_role(PROV)
    other = care1.get(f"/providers/care-2/visits?date={DATE}")
    nobody = as_role(C).get(f"/providers/nobody/visits?date={DATE}")
    assert other.status_code == nobody.status_code == 404
    assert "care-2" not in str(care1.get(f"/providers/care-1/visits?date={DATE}&roster_id={world['roster']}").json())


def test_access_revoked_key_is_refused(server):
    """A revoked key answers 401 from then on."""
    from api import crud
    from api.db import Database

    db = Database(server.db_url)
    record, key = crud.create_key(db=db, role=C, name="leaver")
    with server.client(key) as api:
        assert api.get("/me").status_code == 200
        assert crud.revoke_key(db=db, key_id=record.id)
        assert api.get("/me").status_code == 401
    db.dispose()
