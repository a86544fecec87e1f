"""The domain records check their own fields on construction."""

from __future__ import annotations

import math

import pytest

from scheduler.errors import PlanError
from scheduler.model import Client, Location, Provider, TimeWindow, Visit, Worker

HOME = Location(51.5235, -0.1440)


def _fields(error: pytest.ExceptionInfo[PlanError]) -> list[str | None]:
    return [p.field for p in error.value.problems]


@pytest.mark.parametrize(("lat", "lon", "fields"), [
    (95.0, 0.0, ["lat"]), (0.0, -181.0, ["lon"]), (math.nan, math.inf, ["lat", "lon"]),
])
def test_location_rejects_out_of_range_coordinates(lat: float, lon: float, fields: list[str]) -> None:
    """Latitude must lie in [-90, 90] and longitude in [-180, 180]; both are reported."""
    with pytest.raises(PlanError) as info:
        Location(lat, lon)
    assert _fields(info) == fields


def test_time_window_rejects_end_before_start_and_times_outside_the_day() -> None:
    """A window ends no earlier than it starts and lies within 00:00-24:00."""
    with pytest.raises(PlanError, match="end 07:00 is before start 08:00"):
        TimeWindow(8 * 3600, 7 * 3600)
    with pytest.raises(PlanError, match="00:00-24:00"):
        TimeWindow(0, 86_401)
    assert TimeWindow(0, 86_400).length_s == 86_400
    assert str(TimeWindow(27_000, 30_600)) == "07:30-08:30"


def test_visit_reports_every_bad_field_at_once() -> None:
    """A visit with several bad fields lists each one."""
    with pytest.raises(PlanError) as info:
        Visit("v1", "c1", "laundry", TimeWindow(0, 60), duration_min=0, workers_required=3,
              priority="asap", demand=-1)
    assert _fields(info) == ["kind", "duration_min", "workers_required", "priority", "demand"]
    assert all(p.record_kind == "visit" and p.record_id == "v1" for p in info.value.problems)


def test_visit_rejects_duration_longer_than_a_day() -> None:
    """No visit lasts more than 24 hours."""
    with pytest.raises(PlanError, match="longer than a day"):
        Visit("v1", "c1", "care", TimeWindow(0, 60), duration_min=24 * 60 + 1)


def test_worker_reports_every_bad_field_at_once() -> None:
    """A worker with an empty id, bad mode, bad gender, negative capacity and empty shift lists each."""
    with pytest.raises(PlanError) as info:
        Worker("", "p1", TimeWindow(3600, 3600), HOME, HOME, gender="q", travel_mode="boat", capacity=-1)
    assert _fields(info) == ["id", "travel_mode", "gender", "capacity", "shift"]


def test_provider_and_client_check_their_fields() -> None:
    """Providers need a known kind; clients a gender preference of f, m or none."""
    with pytest.raises(PlanError, match="kind 'laundry' is not one of"):
        Provider("p1", "laundry")
    with pytest.raises(PlanError, match="gender_preference 'x'"):
        Client("c1", HOME, gender_preference="x")


def test_records_are_frozen_and_compare_without_extra() -> None:
    """Records are immutable and ``extra`` does not take part in equality."""
    a = Provider("p1", "care", extra={"region": "north"})
    b = Provider("p1", "care", extra={"region": "south"})
    assert a == b
    with pytest.raises(AttributeError):
        a.kind = "delivery"  # type: ignore[misc]


def test_visit_duration_in_seconds() -> None:
    """``duration_s`` converts the contract's minutes to seconds."""
    assert Visit("v1", "c1", "care", TimeWindow(0, 60), duration_min=45).duration_s == 2700


def test_plan_extended_is_the_plan_with_the_records_added() -> None:
    """``Plan.extended`` equals the plan rebuilt with the longer tuples, and finds the new records by id."""
    import dataclasses

    from tests.helpers import client, make_plan, visit

    plan = make_plan(clients=[client("c1"), client("c2", location=(51.52, -0.14))],
                     visits=[visit("v1"), visit("v2", "c2")],
                     history=[{"client_id": "c1", "worker_id": "w1", "visits": 3}])
    extra = make_plan(clients=[client("c9", location=(51.53, -0.13))], visits=[visit("v9", "c9")])
    new_client, new_visit = extra.client("c9"), extra.visit("v9")
    grown = plan.extended(clients=[new_client], visits=[new_visit])
    rebuilt = dataclasses.replace(plan, clients=(*plan.clients, new_client), visits=(*plan.visits, new_visit))
    assert grown == rebuilt and grown is not plan
    assert grown.client("c9") is new_client and grown.visit("v9") is new_visit
    assert grown.visit("v2") is plan.visit("v2") and grown.familiar("c1", "w1")
    assert grown.visit_location(new_visit) == new_client.location
    assert not plan.has_visit("v9")  # the plan itself is as it was
    with pytest.raises(KeyError):
        plan.client("c9")
    only = plan.extended(visits=[dataclasses.replace(new_visit, id="v3", client_id="c2")])
    assert only.clients is plan.clients and only.has_visit("v3") and [v.id for v in only.visits] == ["v1", "v2", "v3"]
