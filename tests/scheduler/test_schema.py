"""The one description of the plan (scheduler.schema) matches the domain records and the reader.

A field added to the domain records but not to the description, or to the
description but not to the records, fails here; the API's side is checked in
``tests/api/test_plan_schema.py``.
"""

from __future__ import annotations

import dataclasses

import pytest

from scheduler import model, schema
from scheduler.io import plan_from_dict, plan_to_dict

#: The domain record of each described record kind.
DOMAIN = {"location": model.Location, "window": model.TimeWindow, "link": model.VisitLink, "pay": model.PayModel,
          "break": model.BreakRule, "history": model.HistoryEntry, "wage": model.MinimumWage,
          "equipment": model.Equipment, "provider": model.Provider,
          "worker": model.Worker, "client": model.Client, "visit": model.Visit, "plan": model.Plan}
#: Attributes of a domain record that are not fields of the JSON form.
NOT_FIELDS = {"extra", "source", "_providers", "_workers", "_clients", "_visits", "_familiar"}


def _full_plan() -> dict:
    """Return a plan whose records set every described field to a value other than its default."""
    return {
        "date": "2026-12-01", "network": "fixtures/networks/cambridge_drive.osm", "locked_before": "07:00",
        "providers": [{"id": "care-1", "name": "Care One", "kind": "care", "weekly_cap_min": 2400, "max_double_handed": 3,
                       "pay": {"model": "hourly", "hourly_rate": 13.5, "per_visit_rate": 9.0,
                               "paid_time": "span"},
                       "break": {"after_min": 300, "duration_min": 30, "window": {"start": "11:00", "end": "13:00"}}},
                      {"id": "eq-1", "kind": "equipment"}],
        "workers": [{"id": "w1", "provider_id": "care-1", "name": "Ann", "skills": ["hoist"], "gender": "f",
                     "shift": {"start": "07:00", "end": "19:00"}, "start_location": {"lat": 52.2, "lon": 0.12},
                     "end_location": {"lat": 52.21, "lon": 0.13}, "travel_mode": "walk", "capacity": 5,
                     "availability": [{"start": "07:00", "end": "12:00"}, {"start": "14:00", "end": "19:00"}],
                     "max_working_min": 420, "max_visits": 9, "max_double_handed": 2, "week_worked_min": 600, "off_from": "18:00"},
                    {"id": "w2", "provider_id": "care-1", "shift": {"start": "07:00", "end": "19:00"},
                     "start_location": {"lat": 52.2, "lon": 0.12}, "gender": "f", "skills": ["hoist"]},
                    {"id": "w3", "provider_id": "care-1", "shift": {"start": "07:00", "end": "19:00"},
                     "start_location": {"lat": 52.2, "lon": 0.12}}],
        "clients": [{"id": "c1", "name": "Bea", "location": {"lat": 52.205, "lon": 0.125}, "postcode": "CB1 2AB",
                     "gender_preference": "f", "preferred_worker_ids": ["w1"], "excluded_worker_ids": ["w3"],
                     "equipment": [{"item": "hoist", "installed_from": "07:30"}, {"item": "key_safe"}]}],
        "visits": [{"id": "v1", "client_id": "c1", "kind": "care", "provider_id": "care-1",
                    "window": {"start": "08:00", "end": "09:00"}, "duration_min": 30, "required_skills": ["hoist"],
                    "workers_required": 2, "priority": "mandatory", "demand": 1, "tasks": ["wash"],
                    "pinned_worker_id": "w1", "before": {"visit_id": "v2", "min_gap_min": 60, "max_gap_min": 240},
                    "needs_equipment": ["hoist"]},
                   {"id": "v3", "client_id": "c1", "kind": "equipment", "window": {"start": "09:00", "end": "12:00"},
                    "duration_min": 60, "installs": "bath_lift"},
                   {"id": "v2", "client_id": "c1", "kind": "care", "window": {"start": "12:00", "end": "13:00"},
                    "duration_min": 20, "after": {"visit_id": "v1", "min_gap_min": 60, "max_gap_min": 240}}],
        "history": [{"client_id": "c1", "worker_id": "w1", "visits": 6}],
        "minimum_wage": {"mode": "price", "hourly_rate": 11.44, "travel_hour_value": 18.0},
    }


@pytest.mark.parametrize("kind", sorted(DOMAIN))
def test_every_domain_attribute_is_a_described_field(kind):
    """Each domain record's attributes are exactly the described fields that are not kept in ``extra``."""
    attributes = {f.name for f in dataclasses.fields(DOMAIN[kind])} - NOT_FIELDS
    described = {f.attribute for f in schema.RECORDS[kind].fields if f.attribute is not None}
    assert attributes == described


@pytest.mark.parametrize("kind", sorted(DOMAIN))
def test_described_defaults_are_the_domain_defaults(kind):
    """A described default is the domain record's default (tuples and frozensets alike: empty)."""
    defaults = {f.name: f.default for f in dataclasses.fields(DOMAIN[kind])
                if f.default is not dataclasses.MISSING}
    for f in schema.RECORDS[kind].fields:
        if f.attribute in defaults and not f.nested:
            expected = defaults[f.attribute]
            assert (tuple(expected) if isinstance(expected, frozenset) else expected) == f.default, f.name


def _records(plan: dict) -> dict[str, list[dict]]:
    """Every raw record of a plan by kind, nested ones included."""
    out: dict[str, list[dict]] = {}

    def walk(kind: str, raw: dict) -> None:
        out.setdefault(kind, []).append(raw)
        for f in schema.RECORDS[kind].fields:
            if f.nested and raw.get(f.name) is not None:
                for item in raw[f.name] if f.many else [raw[f.name]]:
                    walk(f.type, item)

    walk("plan", plan)
    return out


def test_the_full_plan_sets_every_described_field():
    """The fixture below covers the description: a field added to it must be added here too."""
    records = _records(_full_plan())
    for kind in schema.RECORDS:
        given = set().union(*(raw.keys() for raw in records.get(kind, [{}])))
        assert schema.all_fields(kind) <= given, kind


def test_the_reader_takes_every_described_field_out_of_extra():
    """Every described field reaches its domain attribute, and only ``attr=None`` ones stay in ``extra``.

    Each attribute differs from its default on some record (the reader carried the
    value through), and the plan written back reads equal.
    """
    data = _full_plan()
    plan = plan_from_dict(data)
    assert set(plan.extra) == {f.name for f in schema.RECORDS["plan"].fields if f.attribute is None}
    lists = {"provider": plan.providers, "worker": plan.workers, "client": plan.clients, "visit": plan.visits}
    for kind, records in lists.items():
        kept = {f.name for f in schema.RECORDS[kind].fields if f.attribute is None}
        assert set(records[0].extra) == kept, kind
        assert all(set(r.extra) <= kept for r in records), kind
        defaults = {d.name: d.default_factory() if d.default_factory is not dataclasses.MISSING else d.default
                    for d in dataclasses.fields(records[0])}
        for f in schema.RECORDS[kind].fields:
            if f.attribute is not None:
                assert any(getattr(r, f.attribute) != defaults[f.attribute] for r in records), (kind, f.name)
    assert plan_from_dict(plan_to_dict(plan)) == plan


def test_csv_columns_follow_the_description():
    """The CSV form flattens every nested object field and splits every list-of-text field."""
    from scheduler import io

    for kind in schema.PLAN_LISTS.values():
        for f in schema.RECORDS[kind].fields:
            if f.nested and not f.many:
                assert set(io._NESTED[f.name]) == {c.name for c in schema.RECORDS[f.type].fields if not c.nested}
            if f.many and f.type == "text":
                assert f.name in io._LIST_FIELDS
