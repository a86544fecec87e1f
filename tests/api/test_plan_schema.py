"""The OpenAPI schema of ``POST /plans`` documents every field the plan reader knows, and no other.

Both sides are walked from the one description (``scheduler.schema``) and from the
served OpenAPI document, record by record from the plan down, so a field the reader
knows that the docs lack (``availability``, ``pinned_worker_id``... were missing
before the API's models were derived from the description) fails here, and so
does a documented field the reader would not know.
"""

from __future__ import annotations

from typing import Any

import pytest

from api.config import Settings
from scheduler import io, schema


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    """Return the service's OpenAPI document (no server, no database)."""
    from api.main import create_app

    return create_app(Settings(migrate_on_start=False)).openapi()


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and unwrap ``anyOf [X, null]`` and arrays down to an object schema."""
    while True:
        if "$ref" in node:
            node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node:
            (node,) = [n for n in node["anyOf"] if n.get("type") != "null"]
        elif node.get("type") == "array":
            node = node["items"]
        else:
            return node


def _documented(document: dict[str, Any]) -> dict[str, set[str]]:
    """Return the documented fields of each record kind, found from the body of ``POST /plans``."""
    body = document["paths"]["/plans"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    out: dict[str, set[str]] = {}

    def walk(kind: str, node: dict[str, Any]) -> None:
        obj = _resolve(document, node)
        out[kind] = set(obj.get("properties", {}))
        for name, prop in obj.get("properties", {}).items():
            spec = schema.RECORDS[kind]
            if name in {f.name for f in spec.fields} and spec.field(name).nested:
                walk(spec.field(name).type, prop)

    walk("plan", body)
    return out


def _reader_fields() -> dict[str, set[str]]:
    """Return what the reader takes out of each record, and the fields it keeps in ``extra`` for later."""
    kept = {kind: {f.name for f in spec.fields if f.attribute is None} for kind, spec in schema.RECORDS.items()}
    out = {kind: set(io._KNOWN_FIELDS[name]) | kept[kind] for name, kind in schema.PLAN_LISTS.items()}
    out["plan"] = set(io._PLAN_FIELDS) | kept["plan"]
    for kind in ("location", "window", "link", "pay", "break", "history", "wage", "equipment"):
        out[kind] = set(schema.all_fields(kind))
    return out


def test_post_plans_documents_every_field_the_reader_knows(openapi):
    """Per record kind, the documented fields are the fields the reader knows, in both directions."""
    documented = _documented(openapi)
    reader = _reader_fields()
    assert set(documented) == set(schema.RECORDS)
    for kind in schema.RECORDS:
        assert documented[kind] == reader[kind], kind


def test_care_rule_fields_are_documented(openapi):
    """The fields the API's own copy of the schema had lost are documented now."""
    documented = _documented(openapi)
    assert {"availability", "max_visits", "max_working_min", "week_worked_min", "off_from"} <= documented["worker"]
    assert {"pinned_worker_id", "after", "before"} <= documented["visit"]
    assert {"pay", "break", "weekly_cap_min"} <= documented["provider"]
    assert {"history", "locked_before"} <= documented["plan"]


def test_documented_records_allow_extra_fields_and_required_fields_match(openapi):
    """Records that keep unnamed fields say so (additionalProperties), and required fields are the reader's."""
    schemas = openapi["components"]["schemas"]
    for kind, spec in schema.RECORDS.items():
        component = schemas[f"{kind.capitalize()}In"]
        assert component.get("additionalProperties", False) is spec.keeps_extra, kind
        required = {f.name for f in spec.fields if f.required} | ({"network"} if kind == "plan" else set())
        assert set(component.get("required", [])) == required, kind
