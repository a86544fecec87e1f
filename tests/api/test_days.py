"""The day's readers: a provider's visit list, a worker's day as JSON and iCalendar, and the audit trail."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tests.api.support import (
    LiveServer,
    agency_plan,
    assert_valid_roster,
    publish_roster,
    solve,
    submit,
    two_provider_plan,
)

DATE = "2026-12-04"


@pytest.fixture(scope="module")
def day(server: LiveServer, keys: dict[str, str], london_network) -> dict[str, Any]:
    """A solved and published two-provider day: the plan and its roster."""
    with server.client(keys["coordinator"]) as api:
        data = two_provider_plan(DATE)
        job = solve(api, submit(api, data), publish=True)
        roster = api.get(f"/rosters/{job['roster_id']}").json()["roster"]
    assert_valid_roster(data, roster, london_network)
    return {"data": data, "roster_id": job["roster_id"], "roster": roster}


def _stops(roster: dict[str, Any], workers: set[str]) -> list[tuple[str, str, str]]:
    return sorted((s["start"], r["worker_id"], s["visit_id"]) for r in roster["routes"] if r["worker_id"] in workers
                  for s in r["stops"])


def test_days_provider_sees_only_its_own_workers_stops(as_role, day):
    """care-1's list holds exactly w1's and w2's stops, with time, duration, postcode and tasks only."""
    response = as_role("provider:care-1").get("/providers/care-1/visits", params={"date": DATE})
    assert response.status_code == 200
    body = response.json()
    assert body["roster_id"] == day["roster_id"] and body["provider_id"] == "care-1"
    rows = body["data"]
    assert sorted((r["start"], r["worker_id"], r["visit_id"]) for r in rows) == _stops(day["roster"], {"w1", "w2"})
    assert {r["visit_id"] for r in rows} == {"v1", "v2", "v5"}
    assert set(rows[0]) == {"visit_id", "worker_id", "start", "end", "duration_min", "postcode", "tasks",
                            "workers_required"}
    v1 = next(r for r in rows if r["visit_id"] == "v1")
    assert (v1["postcode"], v1["tasks"], v1["duration_min"]) == ("W1T 1AA", ["medication"], 30)
    # Look in every value but the random roster id (which may contain "c1" by chance).
    values = [str(v) for v in _scalars({k: v for k, v in body.items() if k != "roster_id"})]
    for secret in ("c1", "c3", "fitzroy", "51.5", "WC1B 3AA", "care-2", "w3"):
        assert not any(secret in v for v in values), secret
    other = as_role("provider:care-2").get("/providers/care-2/visits", params={"date": DATE}).json()
    assert {r["visit_id"] for r in other["data"]} == {"v3", "v4"}
    assert "W1T 1AA" not in str(other)


def test_days_worker_day_json(as_role, day):
    """A worker's day lists their stops in order with arrival and travel, and their shift."""
    response = as_role("worker:care-2:w3").get("/workers/w3/day", params={"date": DATE})
    assert response.status_code == 200
    body = response.json()
    route = next(r for r in day["roster"]["routes"] if r["worker_id"] == "w3")
    assert [s["visit_id"] for s in body["stops"]] == [s["visit_id"] for s in route["stops"]]
    assert [(s["arrival"], s["start"], s["end"], s["travel_s"]) for s in body["stops"]] == \
        [(s["arrival"], s["start"], s["end"], s["travel_s"]) for s in route["stops"]]
    assert (body["provider_id"], body["shift_start"], body["shift_end"]) == ("care-2", "08:00", "16:00")
    assert body["stops"][0]["postcode"] in {"WC1B 3AA", "WC1H 9AA"}
    values = [str(v) for v in _scalars({k: v for k, v in body.items() if k != "roster_id"})]
    assert not any("c3" in v or "51.5" in v for v in values)


def test_days_worker_day_icalendar(as_role, day):
    """The .ics has one VEVENT per stop, UTC times of the London wall clock, CRLF lines of at most 75 octets."""
    response = as_role("worker:care-1:w1").get("/workers/w1/day.ics", params={"date": DATE})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    text = response.text
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith("END:VCALENDAR\r\n")
    lines = text.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in lines)
    route = next(r for r in day["roster"]["routes"] if r["worker_id"] == "w1")
    assert text.count("BEGIN:VEVENT") == len(route["stops"]) == text.count("END:VEVENT")
    starts = [line.removeprefix("DTSTART:") for line in lines if line.startswith("DTSTART:")]
    # In December London is on GMT, so UTC equals the wall clock.
    assert starts == [f"20261204T{s['start'].replace(':', '')}00Z" for s in route["stops"]]
    assert all(re.fullmatch(r"UID:.+@homecare", line) for line in lines if line.startswith("UID:"))
    assert "LOCATION:W1T 1AA" in text or "LOCATION:WC1H 0AA" in text or "LOCATION:W1G 6AA" in text


def test_days_icalendar_uses_summer_time(as_role, coordinator):
    """In British Summer Time a 09:00 visit starts at 08:00 UTC."""
    data = two_provider_plan("2026-07-01")
    job = solve(coordinator, submit(coordinator, data), time_limit_s=0.5, publish=True)
    roster = coordinator.get(f"/rosters/{job['roster_id']}").json()["roster"]
    route = next(r for r in roster["routes"] if r["worker_id"] == "w3" and r["stops"])
    first = route["stops"][0]["start"]
    text = coordinator.get("/workers/w3/day.ics", params={"date": "2026-07-01"}).text
    hour, minute = map(int, first.split(":"))
    assert f"DTSTART:20260701T{hour - 1:02d}{minute:02d}00Z" in text


def test_days_current_roster_is_the_published_one_and_dates_are_separate(as_role, coordinator, day):
    """Without roster_id the day's published roster is shown; another date has none (404)."""
    assert as_role("worker:care-1:w1").get("/workers/w1/day", params={"date": "2026-12-25"}).status_code == 404
    body = as_role("provider:care-1").get("/providers/care-1/visits", params={"date": DATE}).json()
    assert body["roster_id"] == day["roster_id"]
    wrong_date = coordinator.get("/providers/care-1/visits",
                                 params={"date": "2026-12-05", "roster_id": day["roster_id"]})
    assert wrong_date.status_code == 404


def test_days_reads_are_audited_per_client(as_role, coordinator, day, keys):
    """Reading a worker's day logs who read which clients; the coordinator can query by client."""
    day_response = as_role("worker:care-2:w3").get("/workers/w3/day", params={"date": DATE, "roster_id": day["roster_id"]})
    visits = {s["visit_id"] for s in day_response.json()["stops"]}
    clients = {v["client_id"] for v in day["data"]["visits"] if v["id"] in visits}
    key_id = keys["worker:care-2:w3"].split("_")[1]
    rows = coordinator.get("/audit", params={"key_id": key_id, "limit": 1000}).json()["data"]
    read = [r for r in rows if r["action"] == "read_worker_day" and r["resource"] == f"roster {day['roster_id']}"]
    assert clients and clients <= {r["client_id"] for r in read}
    assert all(r["role"] == "worker:care-2:w3" and r["key_name"] == "test worker:care-2:w3" for r in read)
    client = sorted(clients)[0]
    by_client = coordinator.get("/audit", params={"client_id": client, "limit": 1000}).json()
    assert by_client["count"] >= 1 and all(r["client_id"] == client for r in by_client["data"])
    roster_read = coordinator.get(f"/rosters/{day['roster_id']}")
    assert roster_read.status_code == 200
    coordinator_key = keys["coordinator"].split("_")[1]
    rows = coordinator.get("/audit", params={"key_id": coordinator_key, "limit": 50}).json()["data"]
    assert {r["client_id"] for r in rows if r["action"] == "read_roster"
            and r["resource"] == f"roster {day['roster_id']}"} == {"c1", "c2", "c3", "c4", "c5"}


SHARED_DATE = "2026-12-14"
AGENCY_POSTCODES = ("WC1B 9XX", "NW1 9XX")


@pytest.fixture(scope="module")
def shared_ids(server: LiveServer, keys: dict[str, str], london_network) -> dict[str, Any]:
    """Two plans of one date that share worker ids (w1, w2) and client and visit ids: care-1/care-2's and
    agency-x's, each solved and published; both rosters pass check_roster."""
    with server.client(keys["coordinator"]) as api:
        ours, theirs = two_provider_plan(SHARED_DATE), agency_plan(SHARED_DATE)
        a = solve(api, submit(api, ours), publish=True)
        b = solve(api, submit(api, theirs), publish=True)  # published second: the newest of the date
        rosters = {name: api.get(f"/rosters/{job['roster_id']}").json()["roster"] for name, job in (("a", a),
                                                                                                  ("b", b))}
    assert_valid_roster(ours, rosters["a"], london_network)
    assert_valid_roster(theirs, rosters["b"], london_network)
    assert any(r["worker_id"] == "w1" and r["stops"] for r in rosters["b"]["routes"])
    return {"a": a["roster_id"], "b": b["roster_id"], "rosters": rosters}


def test_days_a_worker_id_reused_by_another_agency_never_crosses(as_role, shared_ids):
    """care-1's w1 and agency-x's w1 each get their own day, calendar, board and map; neither sees the other's."""
    for role, roster, provider in (("worker:care-1:w1", "a", "care-1"), ("worker:agency-x:w1", "b", "agency-x")):
        api = as_role(role)
        day = api.get("/workers/w1/day", params={"date": SHARED_DATE})
        assert day.status_code == 200, (role, day.text)
        body = day.json()
        assert (body["roster_id"], body["provider_id"]) == (shared_ids[roster], provider), role
        route = next(r for r in shared_ids["rosters"][roster]["routes"] if r["worker_id"] == "w1")
        assert [s["visit_id"] for s in body["stops"]] == [s["visit_id"] for s in route["stops"]]
        postcodes = {s["postcode"] for s in body["stops"]}
        assert (postcodes & set(AGENCY_POSTCODES)) if provider == "agency-x" else not (
            postcodes & set(AGENCY_POSTCODES)), (role, postcodes)
        ics = api.get("/workers/w1/day.ics", params={"date": SHARED_DATE}).text
        assert all((f"LOCATION:{p}" in ics) == (p in postcodes) for p in (*AGENCY_POSTCODES, "W1T 1AA"))
        board = api.get("/board/day", params={"date": SHARED_DATE}).json()
        assert board["roster_id"] == shared_ids[roster] and board["scope"] == f"worker:{provider}:w1"
        assert [(r["worker_id"], r["provider_id"]) for r in board["rows"]] == [("w1", provider)]
        geo = api.get(f"/board/rosters/{shared_ids[roster]}/map").json()
        assert {f["properties"]["provider_id"] for f in geo["features"] if f["properties"]["layer"] != "road"} \
            == {provider}
        other = shared_ids["b" if roster == "a" else "a"]
        for path in (f"/board/rosters/{other}", f"/board/rosters/{other}/map"):
            assert api.get(path).status_code == 404, (role, path)
        assert api.get("/workers/w1/day", params={"date": SHARED_DATE, "roster_id": other}).status_code == 404


def test_days_a_provider_finds_its_own_worker_when_another_plan_reuses_the_id(as_role, shared_ids):
    """Each provider key reading w1's day gets its own w1 (care-1's key got 404 before); another's w2 is 404."""
    care1 = as_role("provider:care-1").get("/workers/w1/day", params={"date": SHARED_DATE})
    assert care1.status_code == 200, care1.text
    assert (care1.json()["roster_id"], care1.json()["provider_id"]) == (shared_ids["a"], "care-1")
    agency = as_role("provider:agency-x").get("/workers/w2/day", params={"date": SHARED_DATE})
    assert (agency.json()["roster_id"], agency.json()["provider_id"]) == (shared_ids["b"], "agency-x")
    visits = as_role("provider:agency-x").get("/providers/agency-x/visits", params={"date": SHARED_DATE}).json()
    assert {r["postcode"] for r in visits["data"]} <= set(AGENCY_POSTCODES)
    # Naming a provider that is not the key's is another's data: 404.
    assert as_role("provider:care-1").get("/workers/w1/day", params={
        "date": SHARED_DATE, "provider_id": "agency-x"}).status_code == 404
    assert as_role("worker:care-1:w1").get("/workers/w1/day", params={
        "date": SHARED_DATE, "provider_id": "agency-x"}).status_code == 404


def test_days_a_coordinator_names_the_provider_when_a_worker_id_is_shared(coordinator, shared_ids):
    """Two providers have a w1 that day: without provider_id the answer is 422 naming the field and both."""
    response = coordinator.get("/workers/w1/day", params={"date": SHARED_DATE})
    assert response.status_code == 422
    problem = response.json()["detail"][0]
    assert problem["field"] == "provider_id" and "agency-x" in problem["message"] and "care-1" in problem["message"]
    for provider, roster in (("care-1", "a"), ("agency-x", "b")):
        body = coordinator.get("/workers/w1/day", params={"date": SHARED_DATE, "provider_id": provider}).json()
        assert (body["roster_id"], body["provider_id"]) == (shared_ids[roster], provider)
    # w3 works for one provider only: no need to name it.
    assert coordinator.get("/workers/w3/day", params={"date": SHARED_DATE}).json()["provider_id"] == "care-2"


def test_days_keys_of_the_old_worker_form_are_refused_with_how_to_reissue(server):
    """A stored key with the role worker:<id> (made before roles named the provider) answers 401 saying what to do;
    such a key cannot be made any more."""
    from api import crud
    from api.db import Database
    from api.models import ApiKey
    from api.security import new_key

    db = Database(server.db_url)
    key_id, key, secret_hash = new_key()
    with db.write() as session:
        session.add(ApiKey(id=key_id, name="old carer key", role="worker:w1", secret_hash=secret_hash))
    with pytest.raises(ValueError, match=r"worker:<provider id>:w1"):
        crud.create_key(db=db, role="worker:w1")
    db.dispose()
    with server.client(key) as api:
        for path in ("/me", f"/workers/w1/day?date={SHARED_DATE}"):
            response = api.get(path)
            assert response.status_code == 401, response.text
            assert "worker:<provider id>:w1" in response.json()["detail"]
            assert "homecare keys create" in response.json()["detail"]


PUBLISH_DATE = "2026-12-15"


def test_days_only_the_published_roster_is_the_day(as_role, coordinator, london_network):
    """A planner's solved copy of the plan and a coordinator's one-visit test plan stay drafts: providers, workers
    and the board keep the published roster until a coordinator publishes another."""
    live = solve(coordinator, submit(coordinator, two_provider_plan(PUBLISH_DATE)), time_limit_s=0.5, publish=True)
    planner = as_role("planner")
    copy_data = two_provider_plan(PUBLISH_DATE)
    what_if = solve(planner, submit(planner, copy_data), time_limit_s=0.5)
    test_data = two_provider_plan(PUBLISH_DATE)
    test_data["visits"] = test_data["visits"][:1]
    test = solve(coordinator, submit(coordinator, test_data), time_limit_s=0.5)
    assert_valid_roster(copy_data, coordinator.get(f"/rosters/{what_if['roster_id']}").json()["roster"],
                        london_network)
    assert_valid_roster(test_data, coordinator.get(f"/rosters/{test['roster_id']}").json()["roster"], london_network)

    def shown() -> dict[str, str]:
        date = {"date": PUBLISH_DATE}
        return {
            "care-1 visits": as_role("provider:care-1").get("/providers/care-1/visits", params=date).json()["roster_id"],
            "care-2 visits": as_role("provider:care-2").get("/providers/care-2/visits", params=date).json()["roster_id"],
            "w1 day": as_role("worker:care-1:w1").get("/workers/w1/day", params=date).json()["roster_id"],
            "w1 board": as_role("worker:care-1:w1").get("/board/day", params=date).json()["roster_id"],
            "care-1 board": as_role("provider:care-1").get("/board/day", params=date).json()["roster_id"],
            "staff board": coordinator.get("/board/day", params=date).json()["roster_id"],
        }

    assert set(shown().values()) == {live["roster_id"]}
    # A provider or worker may not name a draft; a coordinator may preview one.
    assert as_role("provider:care-1").get("/providers/care-1/visits", params={
        "date": PUBLISH_DATE, "roster_id": what_if["roster_id"]}).status_code == 404
    assert as_role("worker:care-1:w1").get(f"/board/rosters/{what_if['roster_id']}").status_code == 404
    assert coordinator.get("/providers/care-1/visits", params={
        "date": PUBLISH_DATE, "roster_id": what_if["roster_id"]}).json()["roster_id"] == what_if["roster_id"]
    # Planners, providers and workers may not publish.
    for role in ("planner", "provider:care-1", "worker:care-1:w1"):
        assert as_role(role).post(f"/rosters/{what_if['roster_id']}/publish").status_code == 403, role
    # The coordinator publishes the planner's roster for care-1 only: care-2 keeps the live one.
    summary = publish_roster(coordinator, what_if["roster_id"], ["care-1"])
    assert summary["published_for"] == ["care-1"]
    now = shown()
    assert now["care-1 visits"] == now["w1 day"] == now["w1 board"] == now["care-1 board"] == what_if["roster_id"]
    assert now["care-2 visits"] == live["roster_id"] and now["staff board"] == what_if["roster_id"]
    states = {r["id"]: (r["state"], r["published_for"]) for r in
              coordinator.get("/rosters", params={"date": PUBLISH_DATE}).json()["data"]}
    assert states == {live["roster_id"]: ("published", ["care-2"]), what_if["roster_id"]: ("published", ["care-1"]),
                      test["roster_id"]: ("draft", [])}
    # Publishing the live roster again goes back to it; the planner's is then superseded.
    publish_roster(coordinator, live["roster_id"])
    assert set(shown().values()) == {live["roster_id"]}
    assert coordinator.get(f"/rosters/{what_if['roster_id']}").json()["state"] == "superseded"


def test_days_publish_refuses_what_ifs_and_unknown_providers(coordinator, shared_ids):
    """A scenario roster cannot be published (409); a provider not in the plan is a 422 naming it; no roster: 404."""
    roster = coordinator.get(f"/rosters/{shared_ids['a']}").json()
    scenario = coordinator.post(f"/plans/{roster['plan_id']}/scenarios", json={
        "changes": {"demand_scale": 0.6}, "time_limit_s": 0.5, "base_roster_id": shared_ids["a"]}).json()
    from tests.api.support import wait_job

    job = wait_job(coordinator, scenario["scenario"]["job_id"])
    refused = coordinator.post(f"/rosters/{job['roster_id']}/publish")
    assert refused.status_code == 409 and "what-if" in refused.json()["detail"]
    unknown = coordinator.post(f"/rosters/{shared_ids['a']}/publish", json={"provider_ids": ["agency-x", "care-1"]})
    assert unknown.status_code == 422
    assert [(p["record_kind"], p["record_id"], p["field"]) for p in unknown.json()["detail"]] == [
        ("provider", "agency-x", "provider_ids")]
    empty = coordinator.post(f"/rosters/{shared_ids['a']}/publish", json={"provider_ids": []})
    assert empty.status_code == 422 and empty.json()["detail"][0]["field"] == "provider_ids"
    assert coordinator.post("/rosters/ro_none/publish").status_code == 404
    # Nothing changed: agency-x still has its own roster.
    assert coordinator.get("/providers/agency-x/visits", params={"date": SHARED_DATE}).json()["roster_id"] == \
        shared_ids["b"]


def test_days_upgrade_publishes_what_coordinators_made_and_nothing_of_planners(tmp_path):
    """Migration 0002 publishes, per provider and date, the newest day roster of a coordinator's job; a planner's
    newer roster stays a draft, and so does a what-if."""
    import sqlalchemy as sa

    from api import crud
    from api.db import Database, migrate

    from tests.api.support import fresh_database_url

    db = Database(fresh_database_url(tmp_path / "old.db"))
    migrate(db, "0001")
    at = "2026-12-01 0{}:00:00"
    rows = {
        "api_keys": [{"id": "kc", "name": "", "role": "coordinator", "secret_hash": "x", "created_at": at.format(1)},
                     {"id": "kp", "name": "", "role": "planner", "secret_hash": "x", "created_at": at.format(1)}],
        "plans": [{"id": p, "created_at": at.format(1), "date": "2026-12-02", "visits": 1, "workers": 1,
                   "purpose": "submitted", "data": "{}"} for p in ("pa", "pb")],
        "plan_members": [{"plan_id": p, "kind": "provider", "member_id": "care-1", "provider_id": "care-1"}
                         for p in ("pa", "pb")],
        "jobs": [{"id": j, "kind": "solve", "plan_id": p, "state": "succeeded", "created_at": at.format(n),
                  "created_by": k, "time_limit_s": 1.0, "seed": 0, "locks": "[]", "attempts": 1}
                 for j, p, k, n in (("j1", "pa", "kc", 2), ("j2", "pb", "kp", 3), ("j3", "pa", "kc", 4))],
        "rosters": [{"id": r, "plan_id": p, "job_id": j, "purpose": purpose, "date": "2026-12-02",
                     "created_at": at.format(n), "kpis": "{}", "violations": "[]", "data": "{}"}
                    for r, p, j, purpose, n in (("ro_old", "pa", "j1", "solve", 2), ("ro_live", "pa", "j1", "solve", 3),
                                                ("ro_planner", "pb", "j2", "solve", 4),
                                                ("ro_what_if", "pa", "j3", "scenario", 5))],
    }
    with db.engine.begin() as conn:
        for table, values in rows.items():
            columns = list(values[0])
            conn.execute(sa.text(f"INSERT INTO {table} ({', '.join(columns)}) "
                                 f"VALUES ({', '.join(':' + c for c in columns)})"), values)
    migrate(db, "0002")
    with db.session() as session:
        live = crud.published_roster(session=session, date=dt.date(2026, 12, 2), provider_id="care-1")
        records = [crud.get_roster(session=session, roster_id=r) for r in ("ro_old", "ro_live", "ro_planner",
                                                                           "ro_what_if")]
        states = crud.roster_states(session=session, rosters=records)
    db.dispose()
    assert live is not None and live.id == "ro_live"
    assert states == {"ro_old": ("draft", []), "ro_live": ("published", ["care-1"]), "ro_planner": ("draft", []),
                      "ro_what_if": ("draft", [])}


def _scalars(value):
    """Yield every scalar inside a JSON value, keys of objects included."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _scalars(v)
    elif isinstance(value, list):
        for v in value:
            yield from _scalars(v)
    else:
        yield value
