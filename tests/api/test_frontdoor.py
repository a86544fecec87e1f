"""The front door in the service: offers, bookings (idempotent, re-checked, raced), cancelling, and its roles.

A server of its own (bookings publish new rosters, which the shared server's
other tests must not see): plan A of ``support.two_provider_plan`` for
tomorrow, solved and published. Every roster a booking or a cancellation
publishes is checked with ``check_roster`` (``support.assert_valid_roster``).
Runs on PostgreSQL too (``HOMECARE_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.support import (
    LiveServer,
    assert_valid_roster,
    create_keys,
    solve,
    submit,
    two_provider_plan,
)

FD, RES, OTHER, C = "frontdoor", "resident:c2", "resident:c4", "coordinator"
PROV, W = "provider:care-1", "worker:care-1:w1"
ROLES = [C, FD, RES, OTHER, PROV, W, "planner"]
DATE = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
ASK = {"client_id": "c2", "kind": "care", "duration_min": 30, "preferred_times": [{"start": "13:30", "end": "15:30"}]}


@pytest.fixture(scope="module")
def front(server_factory) -> tuple[LiveServer, dict[str, str]]:
    """Start a server with plan A published for tomorrow, and a key per role of :data:`ROLES`."""
    server = server_factory("frontdoor")
    keys = create_keys(server.db_url, ROLES)
    server.start()
    with server.client(keys[C]) as api:
        solve(api, submit(api, two_provider_plan(DATE)), time_limit_s=0.5, publish=True)
    return server, keys


@pytest.fixture
def as_(front):
    """Return an HTTP client of the front-door server for a role; closed after the test."""
    server, keys = front
    clients: list[httpx.Client] = []

    def make(role: str) -> httpx.Client:
        clients.append(server.client(keys[role]))
        return clients[-1]

    yield make
    for c in clients:
        c.close()


def _offers(api: httpx.Client, ask: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    response = api.post("/offers", json=ask or ASK)
    assert response.status_code == 200, response.text
    offers = response.json()["offers"]
    assert offers, response.json()
    return offers


def _book(api: httpx.Client, offer_id: str, key: str) -> httpx.Response:
    return api.post("/bookings", json={"offer_id": offer_id}, headers={"Idempotency-Key": key})


def _check_published(coordinator: httpx.Client, roster_id: str, network: Any) -> dict[str, Any]:
    """Check a roster the service published with check_roster; return it."""
    answer = coordinator.get(f"/rosters/{roster_id}")
    assert answer.status_code == 200, answer.text
    roster = answer.json()
    plan = coordinator.get(f"/plans/{roster['plan_id']}").json()["plan"]
    assert_valid_roster(plan, roster["roster"], network)
    return roster


def _provider_visit_ids(api: httpx.Client, provider: str) -> set[str]:
    response = api.get(f"/providers/{provider}/visits", params={"date": DATE})
    assert response.status_code == 200, response.text
    return {v["visit_id"] for v in response.json()["data"]}


def test_frontdoor_offers_are_ranked_stored_and_a_resident_sees_no_workers(as_):
    """The contact centre sees providers and workers; a resident sees neither, and only asks for themselves."""
    offers = _offers(as_(FD))
    assert [o["n"] for o in offers] == list(range(1, len(offers) + 1))
    assert all(o["id"].startswith("of_") and o["slots"][0]["worker_ids"] and o["provider_id"] for o in offers)
    assert all(o["slots"][0]["date"] == DATE for o in offers)
    assert all("13:30" <= o["window"]["start"] < "15:30" for o in offers)
    mine = as_(RES).post("/offers", json={k: v for k, v in ASK.items() if k != "client_id"})
    assert mine.status_code == 200, mine.text
    assert mine.json()["offers"] and "worker_ids" not in mine.text and "provider_" not in mine.text
    other = as_(OTHER).post("/offers", json=ASK)  # c4 asking for c2
    assert other.status_code == 404 and "not found" in other.json()["detail"]
    bad = as_(FD).post("/offers", json={**ASK, "workers_required": 3, "kind": "gardening"})
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["detail"]}
    assert {"workers_required", "kind"} <= fields, bad.json()
    assert as_(PROV).post("/offers", json=ASK).status_code == 403


def test_frontdoor_booking_lands_in_the_live_roster_once_per_key_and_cancels(as_, london_network):
    """A booking shows at once in the provider's list, the worker's day and calendar; the same key books
    once; cancelling takes it out again; every roster published passes check_roster.
    """
    fd, coordinator = as_(FD), as_(C)
    offer = _offers(fd)[0]
    provider, worker = offer["provider_id"], offer["slots"][0]["worker_ids"][0]
    first = _book(fd, offer["id"], "key-1")
    assert first.status_code == 201, first.text
    booking = first.json()
    visit_id = booking["visits"][0]["visit_id"]
    assert booking["state"] == "booked" and booking["visits"][0]["window"] == offer["window"]
    again = _book(fd, offer["id"], "key-1")
    assert again.status_code == 200 and again.json()["id"] == booking["id"]
    assert visit_id in _provider_visit_ids(coordinator, provider)
    day = coordinator.get(f"/workers/{worker}/day", params={"date": DATE, "provider_id": provider}).json()
    stop = next(s for s in day["stops"] if s["visit_id"] == visit_id)
    assert stop["start"] == offer["slots"][0]["start"]
    ics = coordinator.get(f"/workers/{worker}/day.ics", params={"date": DATE, "provider_id": provider})
    assert visit_id in ics.text
    roster = _check_published(coordinator, day["roster_id"], london_network)
    assert roster["state"] == "published"
    assert len([b for b in fd.get("/bookings").json()["data"] if b["offer_id"] == offer["id"]]) == 1
    assert fd.post("/bookings", json={"offer_id": offer["id"]},
                   headers={"Idempotency-Key": "key-2"}).status_code == 409  # booked already
    gone = fd.delete(f"/bookings/{booking['id']}")
    assert gone.status_code == 200 and gone.json()["state"] == "cancelled"
    assert visit_id not in _provider_visit_ids(coordinator, provider)
    after = coordinator.get(f"/workers/{worker}/day", params={"date": DATE, "provider_id": provider}).json()
    assert after["roster_id"] != day["roster_id"]
    _check_published(coordinator, after["roster_id"], london_network)


def test_frontdoor_a_quote_is_one_row_and_an_offer_gets_its_own_when_booked(as_, front, london_network):
    """A quote stores the request once with every offer (one ``quotes`` row, no ``offers`` rows); booking
    offer n adds that offer's row only; ids no quote has, or past its offers, answer 404."""
    import sqlalchemy

    from api.models import OfferRecord, QuoteRecord

    server, _ = front
    engine = sqlalchemy.create_engine(server.db_url)

    def count(table: Any) -> int:
        with engine.connect() as conn:
            return conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(table)).scalar_one()

    fd = as_(FD)
    quotes, rows = count(QuoteRecord.__table__), count(OfferRecord.__table__)
    offers = _offers(fd)
    assert len(offers) > 1 and count(QuoteRecord.__table__) == quotes + 1 and count(OfferRecord.__table__) == rows
    quote_id = offers[0]["id"].rpartition("_")[0]
    assert [o["id"] for o in offers] == [f"{quote_id}_{n}" for n in range(1, len(offers) + 1)]
    for wrong in (f"{quote_id}_{len(offers) + 1}", f"{quote_id}_0", f"{quote_id}_x", "of_0000000000000000_1", "of"):
        answer = _book(fd, wrong, f"key-{wrong}")
        assert answer.status_code == 404 and "not found" in answer.json()["detail"], (wrong, answer.text)
    nul = _book(fd, f"{quote_id}\x00_1", "nul-key")  # 500 on PostgreSQL before: text cannot hold U+0000
    assert nul.status_code == 422 and nul.json()["detail"][0]["field"] == "offer_id", nul.text
    booked = _book(fd, offers[1]["id"], "one-row-key")
    assert booked.status_code == 201, booked.text
    assert count(OfferRecord.__table__) == rows + 1
    assert _book(fd, offers[1]["id"], "one-row-key").json()["id"] == booked.json()["id"]  # the same key: the same
    assert _book(fd, offers[1]["id"], "another-key").status_code == 409  # booked already, from its row
    assert count(OfferRecord.__table__) == rows + 1
    assert fd.delete(f"/bookings/{booked.json()['id']}").status_code == 200
    _check_day(as_(C), london_network)


def _check_day(coordinator: httpx.Client, network: Any) -> None:
    """Check every roster published for tomorrow with check_roster (the bookings' and cancellations')."""
    rosters = coordinator.get("/rosters", params={"date": DATE}).json()["data"]
    made = [r for r in rosters if r["purpose"] == "frontdoor"]
    assert made
    for r in made:
        _check_published(coordinator, r["id"], network)


def test_frontdoor_a_stale_offer_is_refused_with_fresh_offers(as_, london_network):
    """An offer quoted before its place was taken is re-checked, not booked: 409 with fresh, bookable offers."""
    fd = as_(FD)
    ask = {**ASK, "preferred_times": [{"start": "14:00", "end": "15:00"}]}
    one, two = _offers(fd, ask)[0], _offers(fd, ask)[0]
    assert one["slots"] == two["slots"]  # the same place, quoted twice
    assert _book(fd, one["id"], "stale-1").status_code == 201
    refused = _book(fd, two["id"], "stale-2")
    assert refused.status_code == 409, refused.text
    fresh = refused.json()["offers"]
    assert fresh and all(o["id"] != two["id"] for o in fresh)
    assert _book(fd, fresh[0]["id"], "stale-3").status_code == 201  # a fresh offer is bookable at once
    _check_day(as_(C), london_network)


def test_frontdoor_two_bookings_racing_for_one_place_one_wins(as_, front, london_network):
    """Two bookings of the same place at the same moment: exactly one is booked, the other gets 409."""
    fd = as_(FD)
    ask = {**ASK, "client_id": "c3", "preferred_times": [{"start": "10:00", "end": "11:00"}]}
    one, two = _offers(fd, ask)[0], _offers(fd, ask)[0]
    assert one["slots"] == two["slots"]
    server, keys = front
    answers: list[int] = []
    barrier = threading.Barrier(2)

    def go(offer_id: str, key: str) -> None:
        with server.client(keys[FD]) as api:
            barrier.wait()
            answers.append(_book(api, offer_id, key).status_code)

    threads = [threading.Thread(target=go, args=(o["id"], f"race-{i}")) for i, o in enumerate((one, two))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [201, 409]
    coordinator = as_(C)
    provider = one["provider_id"]
    visits = coordinator.get(f"/providers/{provider}/visits", params={"date": DATE}).json()
    _check_published(coordinator, visits["roster_id"], london_network)


def test_frontdoor_a_resident_sees_and_cancels_only_their_own(as_, london_network):
    """A resident lists their own bookings, never another client's, and another's booking looks missing."""
    fd, res, other = as_(FD), as_(RES), as_(OTHER)
    offer = _offers(res, {k: v for k, v in ASK.items() if k != "client_id"} | {
        "preferred_times": [{"start": "08:00", "end": "16:00"}]})[-1]
    made = _book(res, offer["id"], "own-1")
    assert made.status_code == 201, made.text
    assert "worker_ids" not in made.text and made.json()["provider_id"] is None
    mine = res.get("/bookings").json()["data"]
    assert mine and {b["client_id"] for b in mine} == {"c2"}
    assert other.get("/bookings").json()["data"] == [] or {b["client_id"] for b in other.get(
        "/bookings").json()["data"]} == {"c4"}
    assert other.get("/bookings", params={"client_id": "c2"}).status_code == 404
    assert other.delete(f"/bookings/{made.json()['id']}").status_code == 404
    assert _book(other, offer["id"], "steal").status_code == 404
    assert {b["client_id"] for b in fd.get("/bookings", params={"client_id": "c2"}).json()["data"]} == {"c2"}
    assert res.delete(f"/bookings/{made.json()['id']}").json()["state"] == "cancelled"
    for role in (PROV, W, "planner"):
        assert as_(role).get("/bookings").status_code == 403
    assert res.get(f"/board/day?date={DATE}").status_code == 403
    assert res.get(f"/providers/care-1/visits?date={DATE}").status_code == 403
    _check_day(as_(C), london_network)


def _readme_block() -> str:
    """Return the bash block of the README's front-door walkthrough."""
    from tests.helpers import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### The front door: offers and bookings"):]
    return section[section.index("```bash\n") + len("```bash\n"):section.index("\n```", section.index("```bash"))]


def test_frontdoor_readme_walkthrough_works_as_written(server_factory, tmp_path, london_network):
    """The README's curl walkthrough (offers, booking, provider list and calendar, resident, cancel; then the
    bundled week solved, published, booked into and rescheduled) runs as written against a server with the
    Cambridge day published (as the walkthrough before it leaves it); only the week's rosters go to a
    temporary folder instead of out/week.
    """
    import json
    import os
    import subprocess

    from tests.helpers import ROOT

    server = server_factory("readme")
    keys = create_keys(server.db_url, [C])
    server.start()
    plan = json.loads((ROOT / "fixtures/plans/cambridge_weekday.json").read_text())
    with server.client(keys[C]) as api:
        solve(api, submit(api, plan), time_limit_s=3.0, publish=True)
    script = ("set -euo pipefail\njson() { python3 -c \"import json,sys; print(json.load(sys.stdin)$1)\"; }\n"
              + _readme_block().replace("localhost:8000", server.url.removeprefix("http://"))
              .replace(" out/week", f" {tmp_path / 'week'}"))
    env = {**os.environ, "KEY": keys[C], "HOMECARE_DATABASE_URL": server.db_url,
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    run = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.strip().splitlines()
    offer, visit, calendar, resident, state = lines[:5]
    assert any(line.startswith("7 dates solved into") for line in lines), run.stdout
    assert "7 dates: 7 published, 0 unchanged" in lines, run.stdout + run.stderr
    assert lines[-2].startswith("{'start': ") and lines[-1] == "rescheduled", run.stdout
    assert "'green'" in offer and "'slots'" in offer
    assert visit.startswith("booked-")  # the provider's visit list named the booked visit
    assert visit in calendar and calendar != visit  # a line of the worker's calendar
    assert visit in resident and "worker_ids" not in resident and "provider_id" not in resident
    assert state == "cancelled"
    with server.client(keys[C]) as api:
        rosters = [r for r in api.get("/rosters", params={"date": plan["date"]}).json()["data"]
                   if r["purpose"] == "frontdoor"]
        assert len(rosters) == 2  # the booking's and the cancellation's
        for r in rosters:
            _check_published(api, r["id"], network_for_plan(plan))
        week = json.loads((ROOT / "fixtures/plans/week/plan-2026-12-09.json").read_text())
        made = api.get("/rosters", params={"date": "2026-12-09"}).json()["data"]
        assert sorted(r["purpose"] for r in made) == ["frontdoor", "frontdoor", "import"]  # booked, rescheduled
        for r in made:
            _check_published(api, r["id"], network_for_plan(week))
        again = subprocess.run(["homecare", "publish-week", "fixtures/plans/week", str(tmp_path / "week"), "--url",
                                server.url, "--key", keys[C]], cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=300)
        assert again.returncode == 0 and "7 dates: 0 published, 7 unchanged" in again.stdout, again.stdout


def network_for_plan(plan: dict[str, Any]) -> Any:
    """Return the road network a bundled plan names."""
    from scheduler.io import plan_from_dict
    from solver import network_for

    return network_for(plan_from_dict(plan))


def _solved_week(api: httpx.Client, folder: Path, dates: list[str]) -> tuple[Path, Path]:
    """Write plan-D.json and roster-D.json per date into folder/plans and folder/rosters: two_provider_plan
    solved by the service as a draft (a roster solved elsewhere, as far as publishing is concerned).
    """
    import json

    plans, rosters = folder / "plans", folder / "rosters"
    plans.mkdir(parents=True)
    rosters.mkdir(parents=True)
    for d in dates:
        data = two_provider_plan(d)
        job = solve(api, submit(api, data), time_limit_s=0.5)
        (plans / f"plan-{d}.json").write_text(json.dumps(data))
        roster = api.get(f"/rosters/{job['roster_id']}").json()["roster"]
        (rosters / f"roster-{d}.json").write_text(json.dumps(roster))
    return plans, rosters


def test_frontdoor_publish_week_publishes_each_date_once_and_keeps_bookings(server_factory, tmp_path,
                                                                           london_network):
    """publish_week stores and publishes each date's roster; bookings land on it; a re-run changes nothing."""
    from homecare_cli.publish import publish_week

    server = server_factory("publish")
    keys = create_keys(server.db_url, [C, FD])
    server.start()
    day1, day2 = DATE, (dt.date.fromisoformat(DATE) + dt.timedelta(days=1)).isoformat()
    with server.client(keys[C]) as api, server.client(keys[FD]) as fd:
        plans, rosters = _solved_week(api, tmp_path, [day1, day2])
        assert fd.post("/offers", json={**ASK, "dates": [day2]}).json()["offers"] == []  # nothing published yet
        done = publish_week(api, plans, rosters)
        assert [(d.date.isoformat(), d.state) for d in done] == [(day1, "published"), (day2, "published")]
        for d in done:
            roster = _check_published(api, d.roster_id, london_network)
            assert roster["purpose"] == "import" and sorted(roster["published_for"]) == ["care-1", "care-2"]
            assert d.providers == ("care-1", "care-2")
        offer = _offers(fd, {**ASK, "dates": [day2]})[0]
        booked = _book(fd, offer["id"], "week-1")
        assert booked.status_code == 201, booked.text
        again = publish_week(api, plans, rosters)
        assert [d.state for d in again] == ["unchanged", "unchanged"], again
        assert "bookings since" in again[1].message and "bookings since" not in again[0].message
        visits = api.get(f"/providers/{offer['provider_id']}/visits", params={"date": day2}).json()
        assert booked.json()["visits"][0]["visit_id"] in {v["visit_id"] for v in visits["data"]}  # kept
        imported = [r for r in api.get("/rosters", params={"date": day2}).json()["data"] if r["purpose"] == "import"]
        assert len(imported) == 1  # nothing stored twice


def test_frontdoor_publish_week_says_what_is_wrong_without_a_traceback(server_factory, tmp_path):
    """A bad key (401), a key of another role (403), no service, a roster breaking a rule (the file and the
    rule named), another roster published already (refused without --replace): clear answers, exit 1 or 2.
    """
    import json

    from typer.testing import CliRunner

    from homecare_cli.main import app
    from homecare_cli.publish import PublishError, publish_week
    from tests.api.support import free_port

    server = server_factory("publish-bad")
    keys = create_keys(server.db_url, [C, FD])
    server.start()
    with server.client(keys[C]) as api:
        plans, rosters = _solved_week(api, tmp_path, [DATE])
        solve(api, submit(api, two_provider_plan(DATE)), time_limit_s=0.5, publish=True)  # a coordinator's own
        refused = publish_week(api, plans, rosters)
        assert refused[0].state == "refused" and "--replace" in refused[0].message
        file = rosters / f"roster-{DATE}.json"
        roster = json.loads(file.read_text())
        stop = roster["routes"][0]["stops"][0]
        stop["start"], stop["end"] = "03:00", "03:30"  # before its window (and its worker's shift)
        file.write_text(json.dumps(roster))
        broken = publish_week(api, plans, rosters, replace=True)
        assert broken[0].state == "invalid" and str(file) in broken[0].message, broken
        assert any(f"visit {stop['visit_id']!r}" in p and "[window]" in p for p in broken[0].problems), broken
    with server.client("hc_000000000000_" + "A" * 43) as api, pytest.raises(PublishError, match="refused the key"):
        publish_week(api, plans, rosters)
    with server.client(keys[FD]) as api, pytest.raises(PublishError, match="needs a coordinator"):
        publish_week(api, plans, rosters)
    with httpx.Client(base_url=f"http://127.0.0.1:{free_port()}") as api, pytest.raises(
            PublishError, match="cannot reach the roster service"):
        publish_week(api, plans, rosters)
    cli = CliRunner()
    run = cli.invoke(app, ["publish-week", str(plans), str(rosters), "--url", server.url, "--key", keys[FD]])
    assert run.exit_code == 2 and "needs a coordinator" in run.output and "Traceback" not in run.output
    run = cli.invoke(app, ["publish-week", str(plans), str(rosters), "--url", server.url, "--key", keys[C],
                           "--replace"])
    assert run.exit_code == 1 and "invalid" in run.output and "[window]" in run.output, run.output


def _kit_plan(date: str) -> dict[str, Any]:
    """A carer with the hoist skill (care-1's w1) and a hoist technician (kit-1's t1); c1 has no hoist yet."""
    from tests.api.support import LONDON_NETWORK
    from tests.helpers import client, plan_dict, provider, visit, worker

    return plan_dict(
        date=date, network=LONDON_NETWORK,
        providers=[provider("care-1"), provider("kit-1", "equipment", name="County Equipment Service")],
        workers=[worker("w1", skills=["hoist"]), worker("t1", "kit-1", start_location="goodge_st", skills=["hoist"])],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="gordon_sq", postcode="WC1H 0AA")],
        visits=[visit("v2", "c2", provider_id="care-1", window=("09:00", "09:30"))])


def test_frontdoor_an_installation_puts_the_hoist_in_place_on_later_dates(server_factory, london_network):
    """Booking a hoist installation publishes the later dates' plans with the hoist: a transfer there is offered
    only after it. Cancelling the installation is refused (409) while a booked transfer needs it; once the
    transfer is cancelled, the installation cancels and the later date's transfer is no longer offered.
    """
    server = server_factory("kit")
    keys = create_keys(server.db_url, [C, FD])
    server.start()
    day1, day2 = DATE, (dt.date.fromisoformat(DATE) + dt.timedelta(days=1)).isoformat()
    transfer = {"client_id": "c1", "kind": "care", "duration_min": 30, "required_skills": ["hoist"],
                "needs_equipment": ["hoist"], "dates": [day2]}
    with server.client(keys[C]) as api, server.client(keys[FD]) as fd:
        for d in (day1, day2):
            solve(api, submit(api, _kit_plan(d)), time_limit_s=0.5, publish=True)
        before = fd.post("/offers", json=transfer).json()
        assert before["offers"] == [] and before["codes"] == {day2: "equipment"}, before
        installs = _offers(fd, {"client_id": "c1", "kind": "equipment", "duration_min": 60, "installs": "hoist",
                                "required_skills": ["hoist"], "dates": [day1]})
        assert {o["provider_id"] for o in installs} == {"kit-1"}  # never care-1's w1, who has the hoist skill
        assert {o["provider_name"] for o in installs} == {"County Equipment Service"}  # the contact centre's
        install = installs[0]
        installed = _book(fd, install["id"], "hoist-1")
        assert installed.status_code == 201, installed.text
        later = api.get("/providers/care-1/visits", params={"date": day2}).json()["roster_id"]
        roster = _check_published(api, later, london_network)
        assert roster["purpose"] == "frontdoor"
        plan = api.get(f"/plans/{roster['plan_id']}").json()["plan"]
        assert next(c for c in plan["clients"] if c["id"] == "c1")["equipment"] == [
            {"item": "hoist"}]  # installed on an earlier day: all day
        offers = _offers(fd, transfer)
        moved = _book(fd, offers[0]["id"], "transfer-1")
        assert moved.status_code == 201, moved.text
        _check_published(api, api.get("/providers/care-1/visits", params={"date": day2}).json()["roster_id"],
                         london_network)
        refused = fd.delete(f"/bookings/{installed.json()['id']}")
        assert refused.status_code == 409, refused.text
        assert moved.json()["visits"][0]["visit_id"] in refused.json()["detail"] and day2 in refused.json()["detail"]
        assert fd.delete(f"/bookings/{moved.json()['id']}").json()["state"] == "cancelled"
        assert fd.delete(f"/bookings/{installed.json()['id']}").json()["state"] == "cancelled"
        after = fd.post("/offers", json=transfer).json()
        assert after["offers"] == [] and after["codes"] == {day2: "equipment"}, after
        for d in (day1, day2):
            _check_day_of(api, d, london_network)


def _check_day_of(coordinator: httpx.Client, date: str, network: Any) -> None:
    """Check every roster the front door published on a date with check_roster."""
    for r in coordinator.get("/rosters", params={"date": date}).json()["data"]:
        if r["purpose"] == "frontdoor":
            _check_published(coordinator, r["id"], network)


def test_frontdoor_reschedule_moves_a_booking_in_one_step_or_not_at_all(server_factory, london_network):
    """Rescheduling books the new offer and cancels the old booking together (the old one points to the new);
    the same key answers the same booking; a stale offer is 409 with fresh offers and the booking stays; a
    resident reschedules only their own; the audit log records it.
    """
    server = server_factory("reschedule")
    keys = create_keys(server.db_url, [C, FD, RES, OTHER])
    server.start()
    with server.client(keys[C]) as api:
        solve(api, submit(api, two_provider_plan(DATE)), time_limit_s=0.5, publish=True)
    with server.client(keys[C]) as api, server.client(keys[FD]) as fd, server.client(keys[RES]) as res, \
            server.client(keys[OTHER]) as other:
        first = _book(fd, _offers(fd)[0]["id"], "r-1").json()  # c2, 13:30-15:30
        morning = {**ASK, "preferred_times": [{"start": "10:00", "end": "12:00"}]}
        move, twin = _offers(fd, morning)[0], _offers(fd, morning)[0]
        assert move["slots"] == twin["slots"]
        taken = _book(fd, twin["id"], "r-2")  # c2's second booking takes the place first
        assert taken.status_code == 201, taken.text
        stale = fd.post(f"/bookings/{first['id']}/reschedule", json={"offer_id": move["id"]},
                        headers={"Idempotency-Key": "r-3"})
        assert stale.status_code == 409 and stale.json()["offers"], stale.text
        still = {b["id"]: b for b in fd.get("/bookings").json()["data"]}[first["id"]]
        assert still["state"] == "booked" and still["replaced_by"] is None  # neither happened
        old_visit = first["visits"][0]["visit_id"]
        assert old_visit in _provider_visit_ids(api, first["provider_id"])
        assert other.post(f"/bookings/{first['id']}/reschedule", json={"offer_id": stale.json()["offers"][0]["id"]},
                          headers={"Idempotency-Key": "steal"}).status_code == 404  # c4's key, c2's booking
        fresh = _offers(res, {k: v for k, v in morning.items() if k != "client_id"})[0]
        moved = res.post(f"/bookings/{first['id']}/reschedule", json={"offer_id": fresh["id"]},
                         headers={"Idempotency-Key": "r-4"})
        assert moved.status_code == 201, moved.text
        new = moved.json()
        assert new["replaces"] == first["id"] and "worker_ids" not in moved.text
        assert new["visits"][0]["window"] == fresh["window"]
        again = res.post(f"/bookings/{first['id']}/reschedule", json={"offer_id": fresh["id"]},
                         headers={"Idempotency-Key": "r-4"})
        assert again.status_code == 200 and again.json()["id"] == new["id"]
        listed = {b["id"]: b for b in fd.get("/bookings").json()["data"]}
        assert listed[first["id"]]["state"] == "rescheduled" and listed[first["id"]]["replaced_by"] == new["id"]
        visits = _provider_visit_ids(api, listed[new["id"]]["provider_id"])
        assert old_visit not in visits and new["visits"][0]["visit_id"] in visits
        twice = fd.post(f"/bookings/{first['id']}/reschedule", json={"offer_id": _offers(fd, morning)[0]["id"]},
                        headers={"Idempotency-Key": "r-5"})
        assert twice.status_code == 409 and "rescheduled" in twice.json()["detail"]
        audit = api.get("/audit", params={"client_id": "c2"}).json()["data"]
        assert any(a["action"] == "reschedule_booking" and first["id"] in a["resource"] for a in audit)
        for r in api.get("/rosters", params={"date": DATE}).json()["data"]:
            if r["purpose"] == "frontdoor":
                _check_published(api, r["id"], london_network)


def test_frontdoor_reschedule_on_the_same_workers_day_is_not_blocked_by_the_old_visit(server_factory,
                                                                                     london_network):
    """An offer quoted with the old visit in its worker's day (right after it) is booked as quoted and the old
    visit taken out: the move does not come back stale because of the visit it replaces.
    """
    server = server_factory("reschedule-same")
    keys = create_keys(server.db_url, [C, FD])
    server.start()
    with server.client(keys[C]) as api:
        solve(api, submit(api, two_provider_plan(DATE)), time_limit_s=0.5, publish=True)
    with server.client(keys[C]) as api, server.client(keys[FD]) as fd:
        ask = {**ASK, "preferred_times": [{"start": "14:00", "end": "16:00"}], "slot_min": 30}
        first = _offers(fd, ask)[0]
        booked = _book(fd, first["id"], "s-1").json()
        worker, start = first["slots"][0]["worker_ids"][0], first["slots"][0]["start"]
        later = [o for o in _offers(fd, ask) if o["slots"][0]["worker_ids"] == [worker]
                 and o["slots"][0]["start"] > start]
        assert later, "the worker who took the first visit offers a later slot too"
        moved = fd.post(f"/bookings/{booked['id']}/reschedule", json={"offer_id": later[0]["id"]},
                        headers={"Idempotency-Key": "s-2"})
        assert moved.status_code == 201, moved.text
        day = api.get(f"/workers/{worker}/day", params={"date": DATE, "provider_id": first["provider_id"]}).json()
        stops = {s["visit_id"]: s["start"] for s in day["stops"]}
        assert booked["visits"][0]["visit_id"] not in stops
        assert stops[moved.json()["visits"][0]["visit_id"]] == later[0]["slots"][0]["start"]  # as quoted
        _check_published(api, day["roster_id"], london_network)
