"""Schemathesis against the live OpenAPI schema: no request, valid or not, makes the server answer 5xx.

Real generation: Hypothesis draws new requests on every run (valid and invalid
ones, random and real ids, and plan bodies naming a real network half of the
time so that they reach the loader's deeper checks), for every operation and
every kind of key (coordinator, planner, a provider's and a worker's). The run
is bounded by time, not by a fixed list of examples: :data:`BUDGET_S` is shared
out between the operations, each getting at most :data:`MAX_EXAMPLES` requests
per role and generation mode. A 5xx is collected with the request that caused
it (as a curl command), so one run reports every failing operation.
"""

from __future__ import annotations

import json
import time
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from tests.api.support import (
    LONDON_NETWORK,
    LiveServer,
    create_keys,
    csv_plan_files,
    solve,
    submit,
    two_provider_plan,
)
from tests.strategies import plan_dicts

#: Key roles the fuzzer uses; between them they may call every operation.
ROLES = ("coordinator", "planner", "provider:care-1", "worker:care-1:w1")
#: Seconds of generation and requests for all operations together (CI has 2 cores).
BUDGET_S = 40.0
#: Operations given more than an equal share of the budget: their bodies are the largest to draw.
WEIGHTS = {"POST /plans": 3.0, "POST /plans/csv": 2.0}
#: Most requests per operation, role and generation mode.
MAX_EXAMPLES = 30


@pytest.fixture(scope="module")
def fuzzed(server_factory) -> tuple[LiveServer, dict[str, str], dict[str, str]]:
    """A server of its own, a key per role, and real ids to reach deeper than 404."""
    server = server_factory("schemathesis", HOMECARE_MAX_TIME_LIMIT_S="1", HOMECARE_DEFAULT_TIME_LIMIT_S="0.5",
                            HOMECARE_MAX_VISITS="30", HOMECARE_MAX_WORKERS="20", HOMECARE_MAX_CLIENTS="30",
                            HOMECARE_MAX_PROVIDERS="5", HOMECARE_MAX_LIST_ITEMS="10")
    keys = create_keys(server.db_url, list(ROLES))
    server.start()
    with server.client(keys["coordinator"]) as api:
        plan_id = submit(api, two_provider_plan("2026-12-10"))
        job = solve(api, plan_id, time_limit_s=0.5)
        scenario = api.post(f"/plans/{plan_id}/scenarios", json={"changes": {}, "time_limit_s": 0.5}).json()
    ids = {"plan_id": plan_id, "job_id": job["id"], "roster_id": job["roster_id"], "scenario_id": scenario["id"],
           "provider_id": "care-1", "worker_id": "w1"}
    yield server, keys, ids
    with server.client(keys["coordinator"]) as api:  # leave no solve running
        for state in ("queued", "running"):
            for unfinished in api.get("/jobs", params={"state": state, "limit": 1000}).json()["data"]:
                api.post(f"/jobs/{unfinished['id']}/cancel")


class BudgetSpent(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a run whose share of the time budget is spent: Hypothesis then stops drawing cases."""


def _with_real_network(case: Any) -> None:
    """Let a generated plan body name the server's network, so that it reaches the record checks."""
    if isinstance(case.body, dict):
        case.body["network"] = LONDON_NETWORK


def _fuzzer(cases: st.SearchStrategy[Any], call: Any) -> Any:
    """Return a Hypothesis test that draws cases (and whether a plan names a real network) and calls them."""

    @given(case=cases, real_network=st.booleans())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate], verbosity=hypothesis.Verbosity.quiet,
              print_blob=False)
    def run(case: Any, real_network: bool) -> None:
        if real_network and case.operation.path == "/plans" and case.method.upper() == "POST":
            _with_real_network(case)
        call(case)

    return run


def test_schema_no_server_errors(fuzzed):
    """Every operation, every role, generated valid and invalid requests, random and real ids: never a 5xx."""
    server, keys, ids = fuzzed
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    started = time.monotonic()
    failures: list[str] = []
    unsatisfiable: list[str] = []
    calls: dict[str, int] = {}
    sessions = {role: requests.Session() for role in ROLES}
    for role, session in sessions.items():
        session.headers["X-API-Key"] = keys[role]

    run_deadline = [0.0]

    def _call(case: Any, role: str) -> None:
        if time.monotonic() > run_deadline[0]:
            raise BudgetSpent  # this run's share of the budget is spent: stop drawing cases
        name = f"{case.method.upper()} {case.operation.path}"
        response = case.call(base_url=server.url, session=sessions[role], timeout=30)
        calls[name] = calls.get(name, 0) + 1
        if response.status_code >= 500:
            failures.append(f"{role}: {name} -> {response.status_code}: {response.text[:200]}\n"
                            f"    {case.as_curl_command()[:600]}")

    for n, operation in enumerate(operations):
        name = f"{operation.method.upper()} {operation.path}"
        op_started = time.monotonic()
        weights = [WEIGHTS.get(f"{op.method.upper()} {op.path}", 1.0) for op in operations[n:]]
        share = (BUDGET_S - (time.monotonic() - started)) * weights[0] / sum(weights)
        op_deadline = time.monotonic() + max(share, 0.5)
        real = {key: ids[key] for key in ids if f"{{{key}}}" in operation.path}
        runs = [(mode, role) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) for role in ROLES]
        for k, (mode, role) in enumerate(runs):
            cases = operation.as_strategy(generation_mode=mode)
            if real:
                cases = cases | operation.as_strategy(generation_mode=mode, path_parameters=real)
            now = time.monotonic()
            run_deadline[0] = now + max(op_deadline - now, 0.0) / (len(runs) - k)
            run = _fuzzer(cases, lambda case, role=role: _call(case, role))
            try:
                run()
            except BudgetSpent:
                pass
            except hypothesis.errors.Unsatisfiable:
                # No invalid request exists for an operation without inputs (GET /health).
                assert mode == GenerationMode.NEGATIVE, name
                unsatisfiable.append(name)
        print(f"{name}: {time.monotonic() - op_started:.1f} s, {calls.get(name, 0)} calls")
    for session in sessions.values():
        session.close()
    assert failures == [], f"{len(failures)} server errors:\n" + "\n".join(failures[:20])
    assert time.monotonic() - started <= BUDGET_S + 30
    assert len(set(unsatisfiable)) <= 3, unsatisfiable  # only operations that take no input
    assert set(calls) == {f"{op.method.upper()} {op.path}" for op in operations}, "some operations were never called"
    assert sum(calls.values()) >= 5 * len(operations)
    with server.client(keys["coordinator"]) as api:
        assert api.get("/health").status_code == 200
        for job in api.get("/jobs", params={"state": "failed", "limit": 1000}).json()["data"]:
            assert "unexpected error" not in job["error"]["message"], job


#: Text as a hostile client may send it: any code point, lone surrogates and NUL included.
hostile_text = st.text(st.characters(), max_size=6) | st.sampled_from(["\ud800", "w\udfff", "a\x00b", "", " "])
hostile_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=5)
PLAN_LISTS = ("providers", "workers", "clients", "visits")
#: Seconds for drawing and sending hostile plans.
PLAN_BUDGET_S = 12.0


@st.composite
def hostile_plans(draw: st.DrawFn) -> dict[str, Any]:
    """A valid plan (naming the server's network) spoilt in one to three places: emptied lists, odd values."""
    plan = draw(plan_dicts(max_workers=3, max_visits=4))
    plan["network"] = LONDON_NETWORK
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(PLAN_LISTS))
        action = draw(st.sampled_from(["empty", "field", "field", "new field", "plan field"]))
        if action == "empty":
            plan[name] = []
        elif action == "plan field":
            plan[draw(hostile_text | st.sampled_from(["date", "network", "history"]))] = draw(hostile_values)
        elif plan[name]:
            record = draw(st.sampled_from(plan[name]))
            key = draw(st.sampled_from(sorted(record))) if action == "field" else draw(hostile_text)
            record[key] = draw(hostile_values)
    return plan


def test_schema_hostile_plans_are_stored_readable_or_refused(fuzzed):
    """Plans with emptied lists, lone surrogates, NULs, NaN, wrong types: 201 or 422, and what is stored reads back.

    Sent as JSON text (lone surrogates escaped as ``\\ud800``, NaN as Python writes it)
    and, when it can be written as CSV, as the CSV upload, by a coordinator and a planner.
    """
    server, keys, _ = fuzzed
    deadline = time.monotonic() + PLAN_BUDGET_S
    failures: list[str] = []
    answers: dict[int, int] = {}
    clients = {role: server.client(keys[role]) for role in ("coordinator", "planner")}

    @given(plan=hostile_plans(), role=st.sampled_from(sorted(clients)), as_csv=st.booleans())
    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[hypothesis.Phase.generate], verbosity=hypothesis.Verbosity.quiet, print_blob=False)
    def run(plan: dict[str, Any], role: str, as_csv: bool) -> None:
        if time.monotonic() > deadline:
            raise BudgetSpent
        api = clients[role]
        if as_csv:
            try:
                files = csv_plan_files(plan)
                files = {k: (f, body, kind) for k, (f, body, kind) in files.items()}
            except (KeyError, IndexError, TypeError, ValueError, UnicodeEncodeError):
                return  # not writable as CSV (a list emptied or holding non-text)
            response = api.post("/plans/csv", files=files, data={"date": str(plan.get("date")),
                                                                  "network": LONDON_NETWORK})
        else:
            response = api.post("/plans", content=json.dumps(plan).encode(),
                                headers={"Content-Type": "application/json"})
        answers[response.status_code] = answers.get(response.status_code, 0) + 1
        what = f"{role} {'CSV' if as_csv else 'JSON'} {json.dumps(plan)[:400]}"
        if response.status_code not in (201, 422):
            failures.append(f"POST -> {response.status_code}: {response.text[:200]}\n    {what}")
            return
        if response.status_code == 201:
            stored = api.get(f"/plans/{response.json()['id']}")
            if stored.status_code != 200:
                failures.append(f"GET stored plan -> {stored.status_code}: {stored.text[:200]}\n    {what}")
        else:
            problems = response.json()["detail"]
            if not problems or not all({"record_kind", "record_id", "field", "message"} <= set(p) for p in problems):
                failures.append(f"422 without problems naming record and field: {response.text[:300]}")

    try:
        run()
    except BudgetSpent:
        pass
    finally:
        for api in clients.values():
            api.close()
    assert failures == [], f"{len(failures)} failures:\n" + "\n".join(failures[:10])
    assert answers.get(422, 0) >= 10, answers
    with server.client(keys["coordinator"]) as api:
        listed = api.get("/plans", params={"limit": 1000})
        assert listed.status_code == 200
        for summary in listed.json()["data"]:
            assert api.get(f"/plans/{summary['id']}").status_code == 200, summary


def test_schema_docs_are_served(server):
    """OpenAPI docs at /docs; the schema documents the plan body and both key headers."""
    import httpx

    assert httpx.get(f"{server.url}/docs").status_code == 200
    schema = httpx.get(f"{server.url}/openapi.json").json()
    body = schema["paths"]["/plans"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"] == "#/components/schemas/PlanIn"
    assert {"PlanIn", "VisitIn", "WorkerIn"} <= set(schema["components"]["schemas"])
    assert {"APIKeyHeader", "HTTPBearer"} <= set(schema["components"]["securitySchemes"])
