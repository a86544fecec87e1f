"""Every role against every operation of the OpenAPI schema: allowed, forbidden (403), not theirs (404).

The operations are read from the schema itself (``/openapi.json``), not listed
by hand: an operation added to the service without an expected answer for every
role in :data:`CASES` fails :func:`test_access_role_by_operation` for it (and
:func:`test_access_every_operation_has_an_expected_answer_per_role`), the day it
is added.

The world holds two plans on one date that share ids, both solved and published:
plan A (care-1 employs w1 and w2, care-2 employs w3) and plan B of agency-x
(workers w1 and w2 again, clients and visits of the same ids). A planner's solved
copy of plan A (a draft) and a what-if of it must never reach a provider or a
worker. Roles: coordinator, planner, provider:care-1, worker:care-1:w1,
provider:agency-x, worker:agency-x:w1, and the front door's frontdoor and
resident:c1 (offers and bookings only: every other operation is 403 for them,
but /health and /me; a resident asking about another client gets 404).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.api.support import (
    LiveServer,
    agency_plan,
    assert_valid_roster,
    csv_plan_files,
    solve,
    submit,
    two_provider_plan,
    wait_job,
)

DATE = "2026-12-03"
C, P, PROV, W, XPROV, XW = ("coordinator", "planner", "provider:care-1", "worker:care-1:w1", "provider:agency-x",
                            "worker:agency-x:w1")
FD, RES = "frontdoor", "resident:c1"
ROLES = (C, P, PROV, W, XPROV, XW, FD, RES)
STAFF = (200, 200, 403, 403, 403, 403)
#: What the front door's roles (frontdoor, resident:c1) get from an operation whose case lists the first six
#: roles only: 403, but for these.
FRONT_DOOR = {"GET /health": (200, 200), "GET /me": (200, 200)}
#: A request for client c1 (plan A's, and another person of agency-x's plan B) on the world's date.
ASK = {"client_id": "c1", "kind": "care", "duration_min": 30, "dates": [DATE]}


def _schema_operations(schema: dict[str, Any]) -> list[str]:
    """Return ``METHOD /path`` of every operation of an OpenAPI schema."""
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return sorted(f"{m.upper()} {path}" for path, item in schema["paths"].items() for m in item if m in methods)


def _app_operations() -> list[str]:
    """The operations of the app as built here (the live server's schema is compared with these)."""
    from api.config import Settings
    from api.main import create_app

    return _schema_operations(create_app(Settings(migrate_on_start=False)).openapi())


OPERATIONS = _app_operations()


@dataclass(frozen=True)
class Case:
    """One request to an operation and the status each role gets (in :data:`ROLES` order).

    ``roster`` names, per role, the world's roster the answer must show (``a``,
    ``b``, ``draft``), or ``None`` where it is not checked. Paths, parameters and
    bodies may name world ids as ``{a}``, ``{b}``, ``{draft}``, ``{what_if}``,
    ``{plan}``, ``{job}``, ``{scenario}``.
    """

    name: str
    path: str
    expect: tuple[int, ...]
    roster: tuple[str | None, ...] | None = None
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    files: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    def status(self, operation: str, index: int) -> int:
        """The status role ``ROLES[index]`` gets (the front door's roles: :data:`FRONT_DOOR` when not listed)."""
        if len(self.expect) == len(ROLES):
            return self.expect[index]
        assert len(self.expect) == len(ROLES) - 2, f"{operation} / {self.name}: one status per role"
        return (*self.expect, *FRONT_DOOR.get(operation, (403, 403)))[index]


def _day(who: str) -> dict[str, str]:
    return {"date": DATE, **({"provider_id": who} if who else {})}


#: Expected answers, by operation of the schema. Every operation needs at least one case.
CASES: dict[str, list[Case]] = {
    "GET /health": [Case("liveness", "/health", (200,) * 6)],
    "GET /me": [Case("who am I", "/me", (200,) * 6)],
    "POST /plans": [Case("submit a plan", "/plans", (201, 201, 403, 403, 403, 403), json="plan")],
    "GET /plans": [Case("list plans", "/plans", STAFF)],
    "POST /plans/csv": [Case("submit csv", "/plans/csv", (201, 201, 403, 403, 403, 403), files=True)],
    "GET /plans/{plan_id}": [Case("read plan", "/plans/{plan}", STAFF)],
    "POST /plans/{plan_id}/jobs": [
        Case("start a solve (a draft)", "/plans/{plan}/jobs", (202, 202, 403, 403, 403, 403),
             json={"time_limit_s": 0.2})],
    "POST /plans/{plan_id}/rosters": [
        Case("import a malformed roster", "/plans/{plan}/rosters", (422, 403, 403, 403, 403, 403),
             json={"date": DATE, "routes": "none"}),
        Case("import into a missing plan", "/plans/pl_none/rosters", (404, 403, 403, 403, 403, 403),
             json={"date": DATE, "routes": []})],
    "GET /jobs": [Case("list jobs", "/jobs", STAFF)],
    "GET /jobs/{job_id}": [Case("read job", "/jobs/{job}", STAFF)],
    "POST /jobs/{job_id}/cancel": [Case("cancel a finished job", "/jobs/{job}/cancel",
                                        (409, 409, 403, 403, 403, 403))],
    "POST /jobs/{job_id}/rerun": [Case("rerun a finished job", "/jobs/{job}/rerun", (409, 409, 403, 403, 403, 403))],
    "GET /rosters": [Case("list rosters", "/rosters", STAFF, params={"date": DATE})],
    "GET /rosters/{roster_id}": [Case("read roster", "/rosters/{a}", STAFF)],
    "GET /rosters/{roster_id}/csv": [Case("read roster csv", "/rosters/{a}/csv", STAFF)],
    "POST /rosters/{roster_id}/publish": [
        # b was published last: publishing it again changes nothing anybody sees.
        Case("publish the live roster again", "/rosters/{b}/publish", (200, 403, 403, 403, 403, 403)),
        Case("publish a what-if", "/rosters/{what_if}/publish", (409, 403, 403, 403, 403, 403)),
        Case("publish for another plan's provider", "/rosters/{a}/publish", (422, 403, 403, 403, 403, 403),
             json={"provider_ids": ["agency-x"]}),
        Case("publish a missing roster", "/rosters/ro_none/publish", (404, 403, 403, 403, 403, 403))],
    "POST /rosters/{roster_id}/reoptimise": [
        Case("reoptimise (a draft)", "/rosters/{a}/reoptimise", (202, 403, 403, 403, 403, 403),
             json={"changes": {"cancel_visits": ["v4"]}, "time_limit_s": 0.2})],
    "POST /plans/{plan_id}/scenarios": [
        Case("start a scenario", "/plans/{plan}/scenarios", (202, 202, 403, 403, 403, 403),
             json={"changes": {"demand_scale": 0.6}, "time_limit_s": 0.2, "base_roster_id": "{a}"})],
    "GET /scenarios/{scenario_id}": [Case("read scenario", "/scenarios/{scenario}", STAFF)],
    "GET /audit": [Case("audit log", "/audit", (200, 403, 403, 403, 403, 403))],
    "GET /providers/{provider_id}/visits": [
        Case("care-1's list", "/providers/care-1/visits", (200, 403, 200, 403, 404, 403),
             roster=("a", None, "a", None, None, None), params={"date": DATE}),
        Case("care-2's list", "/providers/care-2/visits", (200, 403, 404, 403, 404, 403),
             roster=("a", None, None, None, None, None), params={"date": DATE}),
        Case("agency-x's list", "/providers/agency-x/visits", (200, 403, 404, 403, 200, 403),
             roster=("b", None, None, None, "b", None), params={"date": DATE}),
        Case("care-1's list in the planner's draft", "/providers/care-1/visits", (200, 403, 404, 403, 404, 403),
             roster=("draft", None, None, None, None, None), params={"date": DATE, "roster_id": "{draft}"}),
        Case("a provider with no roster", "/providers/nobody/visits", (404, 403, 404, 403, 404, 403),
             params={"date": DATE})],
    "GET /workers/{worker_id}/day": [
        Case("w1, two providers have one", "/workers/w1/day", (422, 403, 200, 200, 200, 200),
             roster=(None, None, "a", "a", "b", "b"), params=_day("")),
        Case("care-1's w1", "/workers/w1/day", (200, 403, 200, 200, 404, 404),
             roster=("a", None, "a", "a", None, None), params=_day("care-1")),
        Case("agency-x's w1", "/workers/w1/day", (200, 403, 404, 404, 200, 200),
             roster=("b", None, None, None, "b", "b"), params=_day("agency-x")),
        Case("w2, a colleague", "/workers/w2/day", (422, 403, 200, 404, 200, 404),
             roster=(None, None, "a", None, "b", None), params=_day("")),
        Case("w3, care-2's", "/workers/w3/day", (200, 403, 404, 404, 404, 404),
             roster=("a", None, None, None, None, None), params=_day("")),
        Case("w1 in the planner's draft", "/workers/w1/day", (200, 403, 404, 404, 404, 404),
             roster=("draft", None, None, None, None, None), params={"date": DATE, "roster_id": "{draft}"})],
    "GET /workers/{worker_id}/day.ics": [
        Case("w1's calendar", "/workers/w1/day.ics", (422, 403, 200, 200, 200, 200), params=_day("")),
        Case("agency-x's w1's calendar", "/workers/w1/day.ics", (200, 403, 404, 404, 200, 200),
             params=_day("agency-x")),
        Case("w3's calendar", "/workers/w3/day.ics", (200, 403, 404, 404, 404, 404), params=_day(""))],
    "GET /board/day": [
        Case("the day on the board", "/board/day", (200, 200, 200, 200, 200, 200),
             roster=("b", "b", "a", "a", "b", "b"), params={"date": DATE}),
        Case("a day with nothing published", "/board/day", (404,) * 6, params={"date": "2026-12-02"}),
        Case("care-1's roster of the day on the board", "/board/day", (200, 200, 200, 200, 404, 404),
             roster=("a", "a", "a", "a", None, None), params=_day("care-1"))],
    "GET /board/rosters/{roster_id}": [
        Case("plan A's roster", "/board/rosters/{a}", (200, 200, 200, 200, 404, 404), roster=("a",) * 4 + (None,) * 2),
        Case("agency-x's roster", "/board/rosters/{b}", (200, 200, 404, 404, 200, 200),
             roster=("b", "b", None, None, "b", "b")),
        Case("the planner's draft", "/board/rosters/{draft}", (200, 200, 404, 404, 404, 404)),
        Case("a what-if", "/board/rosters/{what_if}", (200, 200, 404, 404, 404, 404))],
    "GET /board/rosters/{roster_id}/map": [
        Case("plan A's map", "/board/rosters/{a}/map", (200, 200, 200, 200, 404, 404)),
        Case("agency-x's map", "/board/rosters/{b}/map", (200, 200, 404, 404, 200, 200)),
        Case("the planner's draft's map", "/board/rosters/{draft}/map", (200, 200, 404, 404, 404, 404))],
    "POST /offers": [
        Case("offers for c1", "/offers", (200, 403, 403, 403, 403, 403, 200, 200), json=ASK),
        Case("offers for c2", "/offers", (200, 403, 403, 403, 403, 403, 200, 404), json={**ASK, "client_id": "c2"})],
    "POST /bookings": [
        Case("book a missing offer", "/bookings", (404, 403, 403, 403, 403, 403, 404, 404),
             json={"offer_id": "of_none"}, headers={"Idempotency-Key": "k"}),
        Case("book c2's offer", "/bookings", (409, 403, 403, 403, 403, 403, 409, 404),
             json={"offer_id": "{booked_offer}"}, headers={"Idempotency-Key": "k2"})],
    "POST /bookings/{booking_id}/reschedule": [
        Case("reschedule a missing booking", "/bookings/bk_none/reschedule", (404, 403, 403, 403, 403, 403, 404, 404),
             json={"offer_id": "of_none"}, headers={"Idempotency-Key": "k3"}),
        Case("reschedule c2's cancelled booking", "/bookings/{booking}/reschedule",
             (409, 403, 403, 403, 403, 403, 409, 404), json={"offer_id": "{booked_offer}"},
             headers={"Idempotency-Key": "k4"})],
    "GET /bookings": [
        Case("list bookings", "/bookings", (200, 403, 403, 403, 403, 403, 200, 200)),
        Case("c2's bookings", "/bookings", (200, 403, 403, 403, 403, 403, 200, 404), params={"client_id": "c2"})],
    "GET /upcoming": [
        Case("c1's upcoming visits", "/upcoming", (200, 403, 403, 403, 403, 403, 200, 200), params={"client_id": "c1"}),
        Case("c2's upcoming visits", "/upcoming", (200, 403, 403, 403, 403, 403, 200, 404), params={"client_id": "c2"}),
        Case("no client named", "/upcoming", (422, 403, 403, 403, 403, 403, 422, 200))],
    "DELETE /bookings/{booking_id}": [
        Case("cancel a missing booking", "/bookings/bk_none", (404, 403, 403, 403, 403, 403, 404, 404)),
        Case("cancel c2's cancelled booking", "/bookings/{booking}", (200, 403, 403, 403, 403, 403, 200, 404))],
}


@pytest.fixture(scope="module")
def world(server: LiveServer, keys: dict[str, str], london_network) -> dict[str, Any]:
    """Plans A and B solved and published by a coordinator; a finished job and scenario; a planner's draft."""
    with server.client(keys[C]) as api:
        data = two_provider_plan(DATE)
        plan_id = submit(api, data)
        job = solve(api, plan_id, time_limit_s=0.5, publish=True)
        agency = solve(api, submit(api, agency_plan(DATE)), time_limit_s=0.5, publish=True)
        scenario = api.post(f"/plans/{plan_id}/scenarios", json={
            "changes": {"remove_workers": ["w2"]}, "time_limit_s": 0.5, "base_roster_id": job["roster_id"]})
        assert scenario.status_code == 202, scenario.text
        what_if = wait_job(api, scenario.json()["scenario"]["job_id"])
    with server.client(keys[P]) as api:
        draft = solve(api, submit(api, two_provider_plan(DATE)), time_limit_s=0.5)
    booked_offer, booking = _booked_and_cancelled(server, keys)
    with server.client(keys[C]) as api:  # a and b are the published rosters again, b published last
        for made in api.get("/rosters", params={"date": DATE}).json()["data"]:
            if made["purpose"] == "frontdoor":  # the booking's and the cancellation's
                roster = api.get(f"/rosters/{made['id']}").json()
                assert_valid_roster(api.get(f"/plans/{made['plan_id']}").json()["plan"], roster["roster"],
                                    london_network)
        for roster_id in (job["roster_id"], agency["roster_id"]):
            assert api.post(f"/rosters/{roster_id}/publish", json={}).status_code == 200
    return {"booked_offer": booked_offer, "booking": booking, "plan": plan_id, "job": job["id"], "a": job["roster_id"], "b": agency["roster_id"],
            "draft": draft["roster_id"], "what_if": what_if["roster_id"], "scenario": scenario.json()["id"],
            "data": data}


def _booked_and_cancelled(server: LiveServer, keys: dict[str, str]) -> tuple[str, str]:
    """Book an offer for c2 and cancel it again (plan A's roster is published anew, as it was); return both ids.

    Cases that would book or cancel something themselves would change what the other cases see.
    """
    with server.client(keys[FD]) as api:
        offers = api.post("/offers", json={**ASK, "client_id": "c2"}).json()["offers"]
        booked = api.post("/bookings", json={"offer_id": offers[0]["id"]}, headers={"Idempotency-Key": "world"})
        assert booked.status_code == 201, booked.text
        assert api.delete(f"/bookings/{booked.json()['id']}").status_code == 200
    return offers[0]["id"], booked.json()["id"]


def _fill(value: Any, world: dict[str, Any]) -> Any:
    ids = {k: v for k, v in world.items() if isinstance(v, str)}
    text = json.dumps(value)
    for name, real in ids.items():
        text = text.replace("{" + name + "}", real)
    return json.loads(text)


def _request(api: httpx.Client, world: dict[str, Any], operation: str, case: Case) -> httpx.Response:
    kwargs: dict[str, Any] = {"params": _fill(case.params, world)}
    if case.json == "plan":
        kwargs["json"] = two_provider_plan(DATE)
    elif case.json is not None:
        kwargs["json"] = _fill(case.json, world)
    if case.headers:
        kwargs["headers"] = case.headers
    if case.files:
        kwargs["files"] = csv_plan_files(world["data"])
        kwargs["data"] = {"date": DATE, "network": world["data"]["network"]}
    return api.request(operation.split(" ", 1)[0], _fill(case.path, world), **kwargs)


def _check_cut(role: str, body: Any) -> None:
    """A provider's or worker's answer holds their own provider's (and worker's) rows only."""
    kind, _, rest = role.partition(":")
    if kind == "resident":
        assert "worker_id" not in json.dumps(body) and "provider_id" not in json.dumps(body), body
    if kind not in ("provider", "worker") or not isinstance(body, dict):
        return
    provider, _, worker = rest.partition(":")
    if "provider_id" in body:
        assert body["provider_id"] == provider, body["provider_id"]
    for row in body.get("rows", ()):
        assert row["provider_id"] == provider and (not worker or row["worker_id"] == worker), row
    if kind == "worker" and "worker_id" in body:
        assert body["worker_id"] == worker


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_access_role_by_operation(as_role, world, operation, role):
    """Each role gets exactly the expected status (and roster, and cut) from every case of every operation."""
    cases = CASES.get(operation)
    assert cases, f"{operation} has no expected answer per role: add it to CASES in {__name__}"
    api = as_role(role)
    index = ROLES.index(role)
    for case in cases:
        response = _request(api, world, operation, case)
        want = case.status(operation, index)
        where = f"{role} {operation} ({case.name})"
        assert response.status_code == want, f"{where}: {response.status_code} {response.text[:300]}"
        if want == 404:
            assert "not found" in response.json()["detail"], where
        if want == 403:
            assert "may not use this endpoint" in response.json()["detail"], where
        if want == 200 and response.headers["content-type"].startswith("application/json"):
            body = response.json()
            _check_cut(role, body)
            if case.roster is not None and index < len(case.roster) and case.roster[index] is not None:
                assert body["roster_id"] == world[case.roster[index]], where


def test_access_every_operation_has_an_expected_answer_per_role(server):
    """The live /openapi.json lists exactly the operations covered here, each with a status for every role."""
    served = _schema_operations(httpx.get(f"{server.url}/openapi.json").json())
    assert served == OPERATIONS
    assert sorted(CASES) == served, f"not covered: {set(served) - set(CASES)}; stale: {set(CASES) - set(served)}"
    assert all(len(case.expect) in (len(ROLES), len(ROLES) - 2) for cases in CASES.values() for case in cases)


@pytest.mark.parametrize("operation", [o for o in OPERATIONS if o != "GET /health"])
def test_access_without_a_valid_key_is_401(server, world, operation):
    """Every operation but /health answers 401 without a key, or with a malformed, unknown or forged one."""
    bad_keys = [None, "nonsense", "hc_000000000000_" + "A" * 43]
    case = CASES[operation][0]
    with server.client(None) as api:
        for key in bad_keys:
            headers = {"X-API-Key": key} if key else {}
            response = api.request(operation.split(" ", 1)[0], _fill(case.path, world),
                                   params=_fill(case.params, world), headers=headers)
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
    assert "care-2" not in str(care1.get(f"/providers/care-1/visits?date={DATE}&roster_id={world['a']}").json())


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
