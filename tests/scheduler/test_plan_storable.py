"""A plan must be storable text and JSON, and must have providers, workers and visits.

The service stores what :func:`scheduler.io.plan_from_dict` accepts; a lone
surrogate, a NUL or a NaN it let through was stored and then could not be read
back (500 for ever on SQLite, 500 at once on PostgreSQL).
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from scheduler.errors import PlanError, SchemaError
from scheduler.io import MAX_NESTING, MAX_WHOLE_NUMBER, plan_from_dict, plan_to_dict
from scheduler.validate import validate_plan
from tests.helpers import client, make_plan, plan_dict, provider, visit, worker


def _where(exc: PlanError) -> set[tuple[str, str | None, str | None]]:
    return {(p.record_kind, p.record_id, p.field) for p in exc.problems}


@pytest.mark.parametrize(("records", "where"), [
    ({"workers": [worker("w\ud800")]}, ("worker", "w\\ud800", "id")),
    ({"clients": [client("c1", postcode="CB1 \udc00")]}, ("client", "c1", "postcode")),
    ({"visits": [visit("v\x001")]}, ("visit", "v\\x001", "id")),
    ({"providers": [provider("care-1", name="A\x00B")]}, ("provider", "care-1", "name")),
    ({"workers": [worker("w1", skills=["hoist", "\ud800"])]}, ("worker", "w1", "skills")),
    ({"visits": [visit("v1", tasks=["wash\x00"])]}, ("visit", "v1", "tasks")),
    ({"visits": [{**visit("v1"), "note": {"a": ["\ud800"]}}]}, ("visit", "v1", "note")),
    ({"clients": [{**client("c1"), "score": float("inf")}]}, ("client", "c1", "score")),
    ({"clients": [{**client("c1"), "k\ud800": 1}]}, ("client", "c1", "k\\ud800")),
    ({"author": "\x00"}, ("plan", None, "author")),
    ({"network": "london\x00.osm"}, ("plan", None, "network")),
])
def test_plan_unstorable_text_is_a_schema_error_naming_record_and_field(records, where) -> None:
    """Lone surrogates, NULs and non-finite numbers anywhere are refused, naming record and (printable) field."""
    with pytest.raises(SchemaError) as info:
        plan_from_dict(plan_dict(**records))
    assert where in _where(info.value)
    for p in info.value.problems:  # every part of every problem is real text, as a JSON answer needs
        json.dumps([p.record_kind, p.record_id, p.field, p.message], ensure_ascii=False).encode("utf-8")


def test_plan_extra_nested_too_deep_is_refused() -> None:
    """An extra field nested deeper than MAX_NESTING is refused (it could not be written back as JSON safely)."""
    deep: object = 1
    for _ in range(MAX_NESTING + 1):
        deep = [deep]
    with pytest.raises(SchemaError) as info:
        plan_from_dict(plan_dict(visits=[{**visit("v1"), "deep": deep}]))
    assert ("visit", "v1", "deep") in _where(info.value)
    shallow: object = 1
    for _ in range(MAX_NESTING - 1):
        shallow = [shallow]
    plan = plan_from_dict(plan_dict(visits=[{**visit("v1"), "deep": shallow}]))
    assert plan_to_dict(plan)["visits"][0]["deep"] == shallow


def test_plan_ordinary_unicode_is_kept() -> None:
    """Accents, CJK, emoji and control characters other than NUL are text and are kept as given."""
    name = "Zoë 王 🙂\t"
    plan = plan_from_dict(plan_dict(workers=[worker("w-é", name=name)],
                                    clients=[client("c1", preferred_worker_ids=["w-é"], postcode="CB1 🙂")]))
    data = plan_to_dict(plan)
    assert data["workers"][0]["id"] == "w-é"
    assert data["clients"][0]["postcode"] == "CB1 🙂"
    assert data["workers"][0]["name"] == name.strip()


@pytest.mark.parametrize("empty", ["providers", "workers", "visits"])
def test_validate_plan_refuses_a_plan_with_no_providers_workers_or_visits(empty) -> None:
    """validate_plan (shared by the loader, the CLI's validate and solve) names record ``plan`` and the empty list."""
    plan = dataclasses.replace(make_plan(), **{empty: ()})
    with pytest.raises(PlanError) as info:
        validate_plan(plan)
    assert ("plan", None, empty) in _where(info.value)
    assert f"the plan has no {empty}" in str(info.value)


def test_plan_from_dict_empty_plan_lists_each_empty_list_once() -> None:
    """An empty plan gives one problem per empty list; a missing list is reported once, as missing."""
    with pytest.raises(PlanError) as info:
        plan_from_dict(plan_dict(providers=[], workers=[], clients=[], visits=[]))
    assert _where(info.value) == {("plan", None, "providers"), ("plan", None, "workers"), ("plan", None, "visits")}
    data = plan_dict()
    del data["workers"]
    with pytest.raises(PlanError) as info:
        plan_from_dict(data)
    assert [p.message for p in info.value.problems if p.field == "workers"] == ["workers is missing"]


def test_plan_with_only_unreadable_workers_is_not_called_empty() -> None:
    """When every worker is unreadable, their own problems are given, not 'the plan has no workers'."""
    with pytest.raises(PlanError) as info:
        plan_from_dict(plan_dict(workers=[{"id": "w1", "provider_id": "care-1"}]))
    assert ("plan", None, "workers") not in _where(info.value)
    assert ("worker", "w1", "shift") in _where(info.value)


@pytest.mark.parametrize(("records", "where"), [
    ({"workers": [worker("w1", capacity=10**20)]}, ("worker", "w1", "capacity")),
    ({"workers": [worker("w1", max_visits=-10**12)]}, ("worker", "w1", "max_visits")),
    ({"visits": [visit("v1", demand=10**400)]}, ("visit", "v1", "demand")),
    ({"visits": [visit("v1", duration_min=1e300)]}, ("visit", "v1", "duration_min")),
])
def test_plan_whole_numbers_out_of_range_are_refused(records, where) -> None:
    """Whole numbers beyond MAX_WHOLE_NUMBER (a capacity of 10^20 overflowed the solver) are refused by name."""
    with pytest.raises(SchemaError) as info:
        plan_from_dict(plan_dict(**records))
    assert where in _where(info.value)
    assert len(str(info.value)) < 500
    plan = plan_from_dict(plan_dict(workers=[worker("w1", capacity=MAX_WHOLE_NUMBER)]))
    assert plan.worker("w1").capacity == MAX_WHOLE_NUMBER
