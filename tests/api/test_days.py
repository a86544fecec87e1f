"""The day's readers: a provider's visit list, a worker's day as JSON and iCalendar, and the audit trail."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.support import LiveServer, solve, submit, two_provider_plan

DATE = "2026-12-04"


@pytest.fixture(scope="module")
def day(server: LiveServer, keys: dict[str, str], london_network) -> dict[str, Any]:
    """A solved two-provider day: the plan and its roster."""
    from tests.api.support import assert_valid_roster

    with server.client(keys["coordinator"]) as api:
        data = two_provider_plan(DATE)
        job = solve(api, submit(api, data))
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
    response = as_role("worker:w3").get("/workers/w3/day", params={"date": DATE})
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
    response = as_role("worker:w1").get("/workers/w1/day.ics", params={"date": DATE})
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
    job = solve(coordinator, submit(coordinator, data), time_limit_s=0.5)
    roster = coordinator.get(f"/rosters/{job['roster_id']}").json()["roster"]
    route = next(r for r in roster["routes"] if r["worker_id"] == "w3" and r["stops"])
    first = route["stops"][0]["start"]
    text = coordinator.get("/workers/w3/day.ics", params={"date": "2026-07-01"}).text
    hour, minute = map(int, first.split(":"))
    assert f"DTSTART:20260701T{hour - 1:02d}{minute:02d}00Z" in text


def test_days_current_roster_is_the_newest_and_dates_are_separate(as_role, coordinator, day):
    """Without roster_id the day's newest roster is shown; another date has none (404)."""
    assert as_role("worker:w1").get("/workers/w1/day", params={"date": "2026-12-25"}).status_code == 404
    body = as_role("provider:care-1").get("/providers/care-1/visits", params={"date": DATE}).json()
    assert body["roster_id"] == day["roster_id"]
    wrong_date = coordinator.get("/providers/care-1/visits",
                                 params={"date": "2026-12-05", "roster_id": day["roster_id"]})
    assert wrong_date.status_code == 404


def test_days_reads_are_audited_per_client(as_role, coordinator, day, keys):
    """Reading a worker's day logs who read which clients; the coordinator can query by client."""
    day_response = as_role("worker:w3").get("/workers/w3/day", params={"date": DATE, "roster_id": day["roster_id"]})
    visits = {s["visit_id"] for s in day_response.json()["stops"]}
    clients = {v["client_id"] for v in day["data"]["visits"] if v["id"] in visits}
    key_id = keys["worker:w3"].split("_")[1]
    rows = coordinator.get("/audit", params={"key_id": key_id, "limit": 1000}).json()["data"]
    read = [r for r in rows if r["action"] == "read_worker_day" and r["resource"] == f"roster {day['roster_id']}"]
    assert clients and clients <= {r["client_id"] for r in read}
    assert all(r["role"] == "worker:w3" and r["key_name"] == "test worker:w3" for r in read)
    client = sorted(clients)[0]
    by_client = coordinator.get("/audit", params={"client_id": client, "limit": 1000}).json()
    assert by_client["count"] >= 1 and all(r["client_id"] == client for r in by_client["data"])
    roster_read = coordinator.get(f"/rosters/{day['roster_id']}")
    assert roster_read.status_code == 200
    coordinator_key = keys["coordinator"].split("_")[1]
    rows = coordinator.get("/audit", params={"key_id": coordinator_key, "limit": 50}).json()["data"]
    assert {r["client_id"] for r in rows if r["action"] == "read_roster"
            and r["resource"] == f"roster {day['roster_id']}"} == {"c1", "c2", "c3", "c4", "c5"}


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
