"""Property tests of plan I/O over random valid plans (strategies in ``tests/strategies.py``)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.errors import PlanError
from scheduler.io import plan_from_dict, plan_to_dict
from scheduler.timeutil import parse_hhmm
from tests.strategies import json_values, plan_dicts

_RECORD_LISTS = ("providers", "workers", "clients", "visits")
_VISIT_FIELDS = {"id", "client_id", "kind", "provider_id", "window", "duration_min", "required_skills",
                 "workers_required", "priority", "demand", "tasks"}
_SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(plan_dicts())
def test_plan_json_round_trip_gives_an_equal_plan(data: dict[str, Any]) -> None:
    """Any valid plan survives plan_to_dict -> JSON text -> plan_from_dict, extra fields included."""
    plan = plan_from_dict(data)

    text = json.dumps(plan_to_dict(plan))
    again = plan_from_dict(json.loads(text))

    assert again == plan
    assert plan_to_dict(again) == plan_to_dict(plan)


@_SETTINGS
@given(plan_dicts())
def test_plan_from_dict_keeps_what_it_was_given(data: dict[str, Any]) -> None:
    """Ids, windows, skills and extra fields read back exactly as drawn."""
    plan = plan_from_dict(data)

    assert [w.id for w in plan.workers] == [w["id"] for w in data["workers"]]
    for raw, worker in zip(data["workers"], plan.workers, strict=True):
        assert worker.shift.start == parse_hhmm(raw["shift"]["start"])
        assert worker.skills == frozenset(raw["skills"])
        assert worker.end_location == (worker.start_location if "end_location" not in raw
                                       else type(worker.start_location)(**raw["end_location"]))
    for raw, visit in zip(data["visits"], plan.visits, strict=True):
        assert (visit.window.start, visit.window.end) == (parse_hhmm(raw["window"]["start"]),
                                                          parse_hhmm(raw["window"]["end"]))
        assert dict(visit.extra) == {k: v for k, v in raw.items() if k not in _VISIT_FIELDS}
    assert dict(plan.extra) == {k: v for k, v in data.items() if k not in ("date", "network", *_RECORD_LISTS)}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_dicts(), st.sampled_from(_RECORD_LISTS), st.integers(0, 10), st.data())
def test_plan_from_dict_only_ever_raises_plan_errors(data: dict[str, Any], name: str, k: int, draw) -> None:
    """Replacing any field of any record with arbitrary JSON yields a plan or a PlanError, never a crash."""
    records = data[name]
    if records:
        record = records[k % len(records)]
        key = draw.draw(st.sampled_from(sorted(record)))
        record[key] = draw.draw(json_values)

    try:
        plan_from_dict(data)
    except PlanError as exc:
        assert exc.problems
        assert all(p.record_kind in {"plan", "provider", "worker", "client", "visit"} for p in exc.problems)
        assert str(exc)
