"""The front door asks only the providers of the request's kind (``api.frontdoor.quote_all``).

A day with a care provider and a hairdresser sharing one published roster: a
haircut is offered by the hairdresser only and a care visit by carers only; a
kind no provider of the day has answers ``no_provider`` in the resident's words.
"""

from __future__ import annotations

import datetime as dt

from tests.api.support import LONDON_NETWORK, assert_valid_roster, create_keys, solve, submit
from tests.helpers import client, plan_dict, provider, visit, worker

DATE = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()


def _care_and_hair_plan() -> dict:
    return plan_dict(
        date=DATE, network=LONDON_NETWORK,
        providers=[provider("care-1"), provider("hair-1", "hairdressing")],
        workers=[worker("w1", "care-1", start_location="great_portland_st"),
                 worker("h1", "hair-1", start_location="queen_sq")],
        clients=[client("c1", location="fitzroy_sq", postcode="W1T 1AA"),
                 client("c2", location="gordon_sq", postcode="WC1H 0AA")],
        visits=[visit("v1", "c1", window=("08:00", "09:00")),
                visit("v2", "c2", kind="hairdressing", provider_id="hair-1", window=("10:00", "12:00"))])


def test_frontdoor_offers_come_only_from_providers_of_the_kind(server_factory, london_network):
    """Before: every provider with a published roster was asked with its own id, so carers were offered haircuts."""
    server = server_factory("frontdoor-kinds")
    keys = create_keys(server.db_url, ["coordinator", "frontdoor"])
    server.start()
    with server.client(keys["coordinator"]) as api:
        data = _care_and_hair_plan()
        job = solve(api, submit(api, data), time_limit_s=0.5, publish=True)
        assert_valid_roster(data, api.get(f"/rosters/{job['roster_id']}").json()["roster"], london_network)
    with server.client(keys["frontdoor"]) as fd:
        for kind, only in (("hairdressing", {"hair-1"}), ("care", {"care-1"})):
            answer = fd.post("/offers", json={"client_id": "c1", "kind": kind, "duration_min": 30})
            assert answer.status_code == 200, answer.text
            offers = answer.json()["offers"]
            assert offers, answer.json()
            assert {o["provider_id"] for o in offers} == only
            assert {w for o in offers for s in o["slots"] for w in s["worker_ids"]} == ({"h1"} if kind != "care"
                                                                                       else {"w1"})
        none = fd.post("/offers", json={"client_id": "c1", "kind": "delivery", "duration_min": 15})
        assert none.status_code == 200, none.text
        assert none.json()["offers"] == []
        assert set(none.json()["codes"].values()) == {"no_provider"}, none.json()
        assert none.json()["reason"].startswith("no driver works on"), none.json()
