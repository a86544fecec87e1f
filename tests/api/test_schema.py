"""Schemathesis against the live OpenAPI schema: no request, valid or not, makes the server answer 5xx.

Bounded: a few examples per operation and generation mode, no deadline per
example, on a server of its own whose solves are capped at 1 s.
"""

from __future__ import annotations

import time
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from tests.api.support import LiveServer, create_keys, solve, submit, two_provider_plan

MAX_EXAMPLES = 8
BUDGET_S = 90.0


@pytest.fixture(scope="module")
def fuzzed(server_factory) -> tuple[LiveServer, str, dict[str, str]]:
    """A server of its own, a coordinator key, and real ids to reach deeper than 404."""
    server = server_factory("schemathesis", HOMECARE_MAX_TIME_LIMIT_S="1", HOMECARE_DEFAULT_TIME_LIMIT_S="0.5",
                            HOMECARE_MAX_VISITS="30")
    key = create_keys(server.db_url, ["coordinator"])["coordinator"]
    server.start()
    with server.client(key) as api:
        data = two_provider_plan("2026-12-10")
        plan_id = submit(api, data)
        job = solve(api, plan_id, time_limit_s=0.5)
        scenario = api.post(f"/plans/{plan_id}/scenarios", json={"changes": {}, "time_limit_s": 0.5}).json()
    ids = {"plan_id": plan_id, "job_id": job["id"], "roster_id": job["roster_id"], "scenario_id": scenario["id"],
           "provider_id": "care-1", "worker_id": "w1"}
    yield server, key, ids
    with server.client(key) as api:  # leave no solve running
        for queued in api.get("/jobs", params={"state": "queued"}).json()["data"]:
            api.post(f"/jobs/{queued['id']}/cancel")
        for running in api.get("/jobs", params={"state": "running"}).json()["data"]:
            api.post(f"/jobs/{running['id']}/cancel")


def test_schema_no_server_errors(fuzzed):
    """Every operation, with generated valid and invalid requests, random and real ids: never a 5xx."""
    server, key, ids = fuzzed
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    deadline = time.monotonic() + BUDGET_S
    failures: list[str] = []
    unsatisfiable: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        real = {name: ids[name] for name in ids if f"{{{name}}}" in operation.path}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in ({}, real) if real else ({},):
                if time.monotonic() > deadline:
                    break
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None)

                @given(case=strategy)
                @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                          suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])
                def run(case: Any) -> None:
                    response = case.call(base_url=server.url, headers={"X-API-Key": key}, timeout=30)
                    if response.status_code >= 500:
                        failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                        f"{response.text[:200]}")

                try:
                    run()
                except hypothesis.errors.Unsatisfiable:
                    # No invalid request exists for an operation without inputs (GET /health).
                    assert mode == GenerationMode.NEGATIVE, operation.path
                    unsatisfiable.append(f"{operation.method.upper()} {operation.path}")
    assert failures == [], "\n".join(failures[:20])
    assert time.monotonic() <= deadline + 30
    assert len(unsatisfiable) <= 3, unsatisfiable  # only operations that take no input
    with server.client(key) as api:
        assert api.get("/health").status_code == 200
        for job in api.get("/jobs", params={"state": "failed"}).json()["data"]:
            assert "unexpected error" not in job["error"]["message"], job


def test_schema_docs_are_served(server):
    """OpenAPI docs at /docs; the schema documents the plan body and both key headers."""
    import httpx

    assert httpx.get(f"{server.url}/docs").status_code == 200
    schema = httpx.get(f"{server.url}/openapi.json").json()
    body = schema["paths"]["/plans"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"] == "#/components/schemas/PlanIn"
    assert {"PlanIn", "VisitIn", "WorkerIn"} <= set(schema["components"]["schemas"])
    assert {"APIKeyHeader", "HTTPBearer"} <= set(schema["components"]["securitySchemes"])
