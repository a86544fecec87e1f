"""A server with its own network folder (``HOMECARE_NETWORK_DIR``): plans reach its files only, by name.

The folder holds copies of the London network (``town.osm``, ``moving.osm``), a
file that is not OSM XML (``broken.osm``) and a link to a file outside it
(``escape.osm``). The server must accept the first names, refuse everything else
alike, resolve stored plans inside the folder again when solving and mapping,
and never quote a network file's text.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from api import crud
from api.db import Database
from scheduler.io import plan_from_dict, plan_to_dict
from tests.api.support import (
    LiveServer,
    assert_valid_roster,
    create_keys,
    solve,
    submit,
    two_provider_plan,
    wait_job,
)
from tests.helpers import LONDON_OSM

DATE = "2026-12-05"
SECRET = "secretvalue-7f3a"


@pytest.fixture(scope="module")
def folder_server(server_factory, tmp_path_factory) -> tuple[LiveServer, str, Path, Path]:
    """The server, a coordinator key, its network folder and a folder outside it."""
    nets = tmp_path_factory.mktemp("networks")
    outside = tmp_path_factory.mktemp("outside")
    for name in ("town.osm", "moving.osm"):
        shutil.copy(LONDON_OSM, nets / name)
    shutil.copy(LONDON_OSM, outside / "secret.osm")
    (nets / "escape.osm").symlink_to(outside / "secret.osm")
    (nets / "broken.osm").write_text(
        f'<osm><node id="1" lat="{SECRET}" lon="0"/><node id="2" lat="51.5" lon="-0.1"/>'
        '<way id="3"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way></osm>')
    (nets / "notes.txt").write_text("not a network")
    server = server_factory("network-dir", HOMECARE_NETWORK_DIR=str(nets), HOMECARE_MAX_TIME_LIMIT_S="5",
                            HOMECARE_DEFAULT_TIME_LIMIT_S="1", HOMECARE_MAX_WORKERS="3")
    key = create_keys(server.db_url, ["coordinator"])["coordinator"]
    server.start()
    return server, key, nets, outside


def _plan(network: str) -> dict:
    return {**two_provider_plan(DATE), "network": network}


def test_network_dir_plans_name_its_files_only(folder_server):
    """Names of the folder's networks are accepted; a link out, a bundled name or a path is refused alike."""
    server, key, nets, outside = folder_server
    hint = ("name one of this server's road networks by file name: broken.osm, moving.osm, town.osm "
            "(or as the bundled plans do: fixtures/networks/broken.osm)")
    with server.client(key) as api:
        for network in ("town.osm", "fixtures/networks/town.osm"):
            assert api.post("/plans", json=_plan(network)).status_code == 201, network
        refused = ("escape.osm", "nothere.osm", "london_central_drive.osm", "fixtures/networks/cambridge_drive.osm",
                   str(nets / "town.osm"), str(outside / "secret.osm"), "../" + outside.name + "/secret.osm",
                   "notes.txt", "")
        for network in refused:
            response = api.post("/plans", json=_plan(network))
            assert response.status_code == 422, (network, response.text)
            [problem] = response.json()["detail"]
            assert (problem["record_kind"], problem["record_id"], problem["field"]) == ("plan", None, "network")
            assert problem["message"].endswith(hint), problem["message"]
        csv = api.post("/plans/csv", data={"date": DATE, "network": "escape.osm"}, files={
            name: (f"{name}.csv", b"id\n", "text/csv") for name in ("providers", "workers", "visits")})
        assert csv.status_code == 422
        assert ("plan", "network") in {(p["record_kind"], p["field"]) for p in csv.json()["detail"]}


def test_network_dir_job_solves_on_the_folders_network(folder_server, london_network):
    """A plan naming a file of the folder is solved on that file (it is not among the bundled networks)."""
    server, key, _, _ = folder_server
    with server.client(key) as api:
        data = _plan("town.osm")
        job = solve(api, submit(api, data))
        roster = api.get(f"/rosters/{job['roster_id']}").json()["roster"]
    assert roster["meta"]["network"] == "town.osm"
    assert_valid_roster(data, roster, london_network)


def test_network_dir_stored_path_is_not_opened_when_solving(folder_server):
    """A plan stored with a path (as before this check existed) fails its job naming plan/network; nothing is read."""
    server, key, _, outside = folder_server
    plan = plan_from_dict({**two_provider_plan(DATE), "network": str(outside / "secret.osm")})
    db = Database(server.db_url)
    try:
        record = crud.create_plan(db=db, plan=plan, data=plan_to_dict(plan), created_by=None)
    finally:
        db.dispose()
    with server.client(key) as api:
        started = api.post(f"/plans/{record.id}/jobs", json={"time_limit_s": 1})
        assert started.status_code == 202, started.text
        job = wait_job(api, started.json()["id"])
    assert job["state"] == "failed", job
    assert [(p["record_kind"], p["field"]) for p in job["error"]["problems"]] == [("plan", "network")]
    assert "is not one of this server's road networks" in job["error"]["problems"][0]["message"]


def test_network_dir_read_errors_do_not_quote_the_file(folder_server):
    """A network file the parser rejects fails the job with a message naming the network, not quoting it."""
    server, key, _, _ = folder_server
    with server.client(key) as api:
        plan_id = submit(api, _plan("broken.osm"))
        job = wait_job(api, api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 1}).json()["id"])
    assert job["state"] == "failed", job
    message = job["error"]["message"]
    assert "broken.osm" in message
    assert SECRET not in str(job) and "<osm" not in str(job)


def test_network_dir_map_does_not_follow_a_link_out_of_the_folder(folder_server):
    """After a network is replaced by a link out of the folder, the map draws straight legs and no roads."""
    server, key, nets, outside = folder_server
    with server.client(key) as api:
        job = solve(api, submit(api, _plan("moving.osm")))
        (nets / "moving.osm").unlink()
        (nets / "moving.osm").symlink_to(outside / "secret.osm")
        response = api.get(f"/board/rosters/{job['roster_id']}/map")
    assert response.status_code == 200, response.text
    geo = response.json()
    assert geo["routes_follow_roads"] is False
    roads = [f for f in geo["features"] if f["properties"]["layer"] == "road"]
    assert all(f["geometry"]["coordinates"] == [] for f in roads)


def test_network_dir_workers_limit_is_a_setting(folder_server):
    """HOMECARE_MAX_WORKERS (3 here) bounds workers per plan; the answer says the limit and the setting."""
    server, key, _, _ = folder_server
    data = _plan("town.osm")
    data["workers"] = [*data["workers"], {**data["workers"][0], "id": "w4"}]
    with server.client(key) as api:
        response = api.post("/plans", json=data)
    assert response.status_code == 422
    assert response.json()["detail"] == [{
        "record_kind": "plan", "record_id": None, "field": "workers",
        "message": "the plan has 4 workers; this server accepts at most 3 per plan (setting HOMECARE_MAX_WORKERS)"}]
