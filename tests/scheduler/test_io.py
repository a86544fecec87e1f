"""Reading plans (JSON and CSV folders) and reading and writing rosters."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scheduler.errors import PlanError, Problem, SchemaError, UnknownReferenceError
from scheduler.io import (
    ROSTER_CSV_COLUMNS,
    load_plan,
    load_roster,
    plan_from_dict,
    plan_to_dict,
    roster_from_dict,
    roster_rows,
    roster_to_dict,
    write_plan,
    write_roster,
)
from scheduler.model import Location, TimeWindow
from scheduler.roster import Unassigned
from scheduler.validate import check_roster
from tests.helpers import client, make_plan, make_roster, plan_dict, provider, stop, visit, worker

# --------------------------------------------------------------------------- fixtures


def _two_worker_plan() -> dict[str, Any]:
    """A plan using every contract field, with extra fields at every level."""
    return plan_dict(
        providers=[provider("care-1", "care", region="north"), provider("shop", "delivery")],
        workers=[
            worker("w1", "care-1", skills=["hoist", "medication"], gender="f", shift=("07:00", "14:00"),
                   start_location="great_portland_st", end_location="warren_st", payroll="A17"),
            worker("w2", "care-1", gender="m", travel_mode="walk", start_location="goodge_st"),
            worker("d1", "shop", gender="x", capacity=12, start_location="russell_sq"),
        ],
        clients=[
            client("c1", location="fitzroy_sq", gender_preference="f", preferred_worker_ids=["w1"],
                   excluded_worker_ids=["w2"], keysafe="1234"),
            client("c2", location="gordon_sq", postcode="WC1H 0AR"),
        ],
        visits=[
            visit("v1", "c1", window=("07:30", "08:30"), required_skills=["hoist"], priority="mandatory",
                  tasks=["wash", "dress"], notes={"door": "blue"}),
            visit("v2", "c2", window=("09:00", "11:00"), duration_min=45, workers_required=2, priority="high"),
            visit("v3", "c2", kind="delivery", window=("10:00", "12:00"), duration_min=10, demand=5,
                  provider_id="shop", priority="low"),
        ],
        network="networks/london.osm",
        region="Camden",
    )


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _csv_folder(folder: Path) -> Path:
    """Write the plan of :func:`_two_worker_plan` (without nested extras) as a CSV folder."""
    folder.mkdir()
    _write_csv(folder / "plan.csv", [{"date": "2026-11-24", "network": "networks/london.osm"}])
    _write_csv(folder / "providers.csv", [
        {"id": "care-1", "name": "care-1", "kind": "care", "region": "north", "break_after_min": "1440"},
        {"id": "shop", "name": "shop", "kind": "delivery", "region": "", "break_after_min": "1440"},
    ])
    w = {"shift_start": "08:00", "shift_end": "16:00", "travel_mode": "drive", "capacity": "", "payroll": ""}
    _write_csv(folder / "workers.csv", [
        {"id": "w1", "provider_id": "care-1", "name": "w1", "skills": "hoist;medication", "gender": "f",
         **w, "shift_start": "07:00", "shift_end": "14:00",
         "start_location_lat": "51.5235", "start_location_lon": "-0.144",
         "end_location_lat": "51.5246", "end_location_lon": "-0.1384", "payroll": "A17"},
        {"id": "w2", "provider_id": "care-1", "name": "w2", "skills": "", "gender": "m", **w,
         "travel_mode": "walk", "start_location_lat": "51.5205", "start_location_lon": "-0.1347",
         "end_location_lat": "", "end_location_lon": ""},
        {"id": "d1", "provider_id": "shop", "name": "d1", "skills": "", "gender": "x", **w, "capacity": "12",
         "start_location_lat": "51.5218", "start_location_lon": "-0.1262",
         "end_location_lat": "", "end_location_lon": ""},
    ])
    _write_csv(folder / "clients.csv", [
        {"id": "c1", "name": "c1", "location_lat": "51.5226", "location_lon": "-0.1397", "postcode": "W1T 1AA",
         "gender_preference": "f", "preferred_worker_ids": "w1", "excluded_worker_ids": "w2", "keysafe": "1234"},
        {"id": "c2", "name": "c2", "location_lat": "51.5245", "location_lon": "-0.13", "postcode": "WC1H 0AR",
         "gender_preference": "", "preferred_worker_ids": "", "excluded_worker_ids": "", "keysafe": ""},
    ])
    v = {"provider_id": "", "duration_min": "30", "required_skills": "", "workers_required": "1", "demand": "0",
         "tasks": "", "kind": "care"}
    _write_csv(folder / "visits.csv", [
        {"id": "v1", "client_id": "c1", **v, "window_start": "07:30", "window_end": "08:30",
         "required_skills": "hoist", "priority": "mandatory", "tasks": "wash; dress"},
        {"id": "v2", "client_id": "c2", **v, "window_start": "09:00", "window_end": "11:00",
         "duration_min": "45", "workers_required": "2", "priority": "high"},
        {"id": "v3", "client_id": "c2", **v, "kind": "delivery", "provider_id": "shop",
         "window_start": "10:00", "window_end": "12:00", "duration_min": "10", "demand": "5", "priority": "low"},
    ])
    return folder


def _problem_keys(error: PlanError) -> list[tuple[str, str | None, str | None]]:
    return [(p.record_kind, p.record_id, p.field) for p in error.problems]


# --------------------------------------------------------------------------- loading plans


def test_load_plan_reads_json_file(tmp_path: Path) -> None:
    """A JSON plan loads with times in seconds, lists as sets and its source path kept."""
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_two_worker_plan()), encoding="utf-8")

    plan = load_plan(path)

    assert plan.date == dt.date(2026, 11, 24)
    assert plan.source == path
    assert plan.network == "networks/london.osm"
    assert [w.id for w in plan.workers] == ["w1", "w2", "d1"]
    w1 = plan.worker("w1")
    assert w1.shift == TimeWindow(7 * 3600, 14 * 3600)
    assert w1.skills == frozenset({"hoist", "medication"})
    assert w1.end_location == Location(51.5246, -0.1384)
    assert plan.worker("d1").capacity == 12
    assert plan.worker("w2").travel_mode == "walk"
    c1 = plan.client("c1")
    assert c1.preferred_worker_ids == ("w1",)
    assert c1.excluded_worker_ids == frozenset({"w2"})
    v2 = plan.visit("v2")
    assert (v2.window.start, v2.window.end, v2.duration_s) == (9 * 3600, 11 * 3600, 45 * 60)
    assert v2.workers_required == 2
    assert plan.visit("v3").provider_id == "shop"
    assert plan.visit("v1").tasks == ("wash", "dress")
    assert plan.visit_location(plan.visit("v1")) == c1.location


def test_load_plan_reads_csv_folder_like_json(tmp_path: Path) -> None:
    """A CSV folder (';' lists, '_'-flattened nested fields, plan.csv) loads to the same plan as JSON."""
    folder = _csv_folder(tmp_path / "plan")
    from_json = plan_from_dict(_two_worker_plan())

    from_csv = load_plan(folder)

    assert from_csv == from_json
    assert from_csv.source == folder
    assert from_csv.worker("w1").skills == frozenset({"hoist", "medication"})
    assert from_csv.visit("v1").tasks == ("wash", "dress")
    # An empty end location falls back to the start location.
    assert from_csv.worker("w2").end_location == from_csv.worker("w2").start_location
    assert from_csv.worker("d1").capacity == 12
    assert from_csv.worker("w1").capacity is None
    assert from_csv.visit("v1").provider_id is None
    assert from_csv.client("c2").gender_preference is None


def test_load_plan_csv_keeps_unknown_columns_in_extra(tmp_path: Path) -> None:
    """Columns the contract does not name are kept per record and written back by plan_to_dict."""
    plan = load_plan(_csv_folder(tmp_path / "plan"))

    assert plan.provider("care-1").extra == {"region": "north"}
    assert plan.worker("w1").extra == {"payroll": "A17"}
    assert plan.client("c1").extra == {"keysafe": "1234"}
    data = plan_to_dict(plan)
    assert data["workers"][0]["payroll"] == "A17"
    assert data["clients"][0]["keysafe"] == "1234"


def test_load_plan_csv_errors_name_file_row_and_field(tmp_path: Path) -> None:
    """A CSV row without an id is named by file and row; its bad fields are all reported."""
    folder = _csv_folder(tmp_path / "plan")
    rows = list(csv.DictReader((folder / "visits.csv").open(encoding="utf-8")))
    rows[1]["id"] = ""
    rows[2]["window_start"] = "9.30"
    _write_csv(folder / "visits.csv", rows)

    with pytest.raises(SchemaError) as info:
        load_plan(folder)

    assert _problem_keys(info.value) == [
        ("visit", "visits.csv row 3", "id"),
        ("visit", "v3", "window.start"),
    ]
    assert "visit 'visits.csv row 3': id is missing" in str(info.value)
    assert "'9.30'" in str(info.value.problems[1])


def test_load_plan_csv_folder_without_required_file_is_rejected(tmp_path: Path) -> None:
    """A CSV folder missing workers.csv and visits.csv names both files in one error."""
    folder = _csv_folder(tmp_path / "plan")
    (folder / "workers.csv").unlink()
    (folder / "visits.csv").unlink()

    with pytest.raises(SchemaError) as info:
        load_plan(folder)

    assert "workers.csv" in str(info.value)
    assert "visits.csv" in str(info.value)


def test_load_plan_csv_without_plan_csv_needs_a_date(tmp_path: Path) -> None:
    """Without plan.csv there is no date, and the error says so."""
    folder = _csv_folder(tmp_path / "plan")
    (folder / "plan.csv").unlink()

    with pytest.raises(SchemaError) as info:
        load_plan(folder)

    assert _problem_keys(info.value) == [("plan", None, "date")]
    assert str(info.value) == "plan: date is missing"


def test_load_plan_missing_path_raises_file_not_found(tmp_path: Path) -> None:
    """A path that does not exist raises FileNotFoundError naming it."""
    with pytest.raises(FileNotFoundError, match="nowhere.json"):
        load_plan(tmp_path / "nowhere.json")


def test_load_plan_invalid_json_is_a_schema_error(tmp_path: Path) -> None:
    """Malformed JSON raises one SchemaError for the plan, with line and column."""
    path = tmp_path / "broken.json"
    path.write_text('{"date": "2026-11-24",\n "providers": [,]}', encoding="utf-8")

    with pytest.raises(SchemaError) as info:
        load_plan(path)

    assert _problem_keys(info.value) == [("plan", None, None)]
    assert "not valid JSON" in str(info.value)
    assert "line 2" in str(info.value)


# --------------------------------------------------------------------------- round trips


def test_plan_to_dict_round_trips_to_an_equal_plan() -> None:
    """plan -> plan_to_dict -> JSON text -> plan_from_dict gives an equal plan."""
    plan = plan_from_dict(_two_worker_plan())

    again = plan_from_dict(json.loads(json.dumps(plan_to_dict(plan))))

    assert again == plan
    assert again.network == plan.network


def test_write_plan_round_trips_through_a_file(tmp_path: Path) -> None:
    """write_plan then load_plan gives an equal plan, creating parent folders."""
    plan = plan_from_dict(_two_worker_plan())

    path = write_plan(plan, tmp_path / "out" / "plan.json")

    assert load_plan(path) == plan


def test_plan_to_dict_keeps_seconds_of_times() -> None:
    """A window given to the second (HH:MM:SS) survives the round trip."""
    plan = make_plan(visits=[visit(window=("08:00:30", "09:15:45"))])

    data = plan_to_dict(plan)

    assert data["visits"][0]["window"] == {"start": "08:00:30", "end": "09:15:45"}
    assert plan_from_dict(data) == plan


def test_plan_to_dict_writes_whole_minutes_as_hhmm() -> None:
    """Whole-minute times are written as plain HH:MM, as the contract shows."""
    data = plan_to_dict(make_plan())

    assert data["workers"][0]["shift"] == {"start": "08:00", "end": "16:00"}
    assert data["visits"][0]["window"] == {"start": "08:00", "end": "10:00"}


def test_plan_from_dict_keeps_unknown_fields_in_extra_and_writes_them_back() -> None:
    """Unknown fields at every level land in ``extra`` and come back out unchanged."""
    data = _two_worker_plan()

    plan = plan_from_dict(data)
    out = plan_to_dict(plan)

    assert plan.extra == {"region": "Camden"}
    assert plan.provider("care-1").extra == {"region": "north"}
    assert plan.worker("w1").extra == {"payroll": "A17"}
    assert plan.client("c1").extra == {"keysafe": "1234"}
    assert plan.visit("v1").extra == {"notes": {"door": "blue"}}
    assert out["region"] == "Camden"
    assert out["providers"][0]["region"] == "north"
    assert out["workers"][0]["payroll"] == "A17"
    assert out["clients"][0]["keysafe"] == "1234"
    assert out["visits"][0]["notes"] == {"door": "blue"}


def test_plan_from_dict_does_not_change_its_input() -> None:
    """Loading leaves the caller's dict as it was."""
    data = _two_worker_plan()
    before = copy.deepcopy(data)

    plan_from_dict(data)

    assert data == before


def test_plan_from_dict_fills_contract_defaults() -> None:
    """Optional fields take the contract's defaults: drive, normal priority, one worker, no demand."""
    data = plan_dict()
    for key in ("travel_mode", "capacity", "gender", "skills", "end_location", "name"):
        del data["workers"][0][key]
    for key in ("priority", "workers_required", "demand", "required_skills", "provider_id"):
        del data["visits"][0][key]

    plan = plan_from_dict(data)

    w, v = plan.workers[0], plan.visits[0]
    assert (w.travel_mode, w.capacity, w.gender, w.skills, w.name) == ("drive", None, None, frozenset(), "")
    assert w.end_location == w.start_location
    assert (v.priority, v.workers_required, v.demand, v.required_skills, v.provider_id) == (
        "normal", 1, 0, frozenset(), None)


# --------------------------------------------------------------------------- plan errors

Mutate = Callable[[dict[str, Any]], Any]

#: (case, change to a valid plan, error class, (kind, id, field), text in the message)
_SINGLE_PROBLEMS: list[tuple[str, Mutate, type[PlanError], tuple[str, str | None, str | None], str]] = [
    ("duplicate visit id", lambda d: d["visits"].append(dict(d["visits"][0])),
     PlanError, ("visit", "v1", "id"), "id 'v1' is used by 2 visits"),
    ("duplicate worker id", lambda d: d["workers"].append(dict(d["workers"][0])),
     PlanError, ("worker", "w1", "id"), "used by 2 workers"),
    ("unknown client", lambda d: d["visits"][0].update(client_id="c9"),
     UnknownReferenceError, ("visit", "v1", "client_id"), "client_id 'c9' is not a client"),
    ("unknown worker provider", lambda d: d["workers"][0].update(provider_id="p9"),
     UnknownReferenceError, ("worker", "w1", "provider_id"), "provider_id 'p9' is not a provider"),
    ("unknown visit provider", lambda d: d["visits"][0].update(provider_id="p9"),
     UnknownReferenceError, ("visit", "v1", "provider_id"), "provider_id 'p9' is not a provider"),
    ("unknown excluded worker", lambda d: d["clients"][0].update(excluded_worker_ids=["w9"]),
     UnknownReferenceError, ("client", "c1", "excluded_worker_ids"), "names 'w9', which is not a worker"),
    ("unknown preferred worker", lambda d: d["clients"][0].update(preferred_worker_ids=["w9"]),
     UnknownReferenceError, ("client", "c1", "preferred_worker_ids"), "names 'w9'"),
    ("window end before start", lambda d: d["visits"][0].update(window={"start": "08:00", "end": "07:00"}),
     SchemaError, ("visit", "v1", "window.end"), "window end 07:00 is before start 08:00"),
    ("shift end before start", lambda d: d["workers"][0].update(shift={"start": "16:00", "end": "08:00"}),
     SchemaError, ("worker", "w1", "shift.end"), "shift end 08:00 is before start 16:00"),
    ("empty shift", lambda d: d["workers"][0].update(shift={"start": "08:00", "end": "08:00"}),
     SchemaError, ("worker", "w1", "shift"), "shift 08:00-08:00 is empty"),
    ("kind without provider", lambda d: d["visits"][0].update(kind="hairdressing"),
     PlanError, ("visit", "v1", "kind"), "kind 'hairdressing' has no provider in the plan"),
    ("provider kind mismatch",
     lambda d: (d["providers"].append(provider("shop", "delivery")), d["visits"][0].update(provider_id="shop")),
     PlanError, ("visit", "v1", "kind"), "kind 'care' differs from provider 'shop'"),
    ("unknown provider kind", lambda d: d["providers"][0].update(kind="cleaning"),
     SchemaError, ("provider", "care-1", "kind"), "kind 'cleaning' is not one of"),
    ("latitude 95", lambda d: d["clients"][0].update(location={"lat": 95, "lon": -0.13}),
     SchemaError, ("client", "c1", "location.lat"), "latitude 95.0 is not between -90 and 90"),
    ("longitude 200", lambda d: d["workers"][0].update(start_location={"lat": 51.5, "lon": 200}),
     SchemaError, ("worker", "w1", "start_location.lon"), "longitude 200.0 is not between -180 and 180"),
    ("latitude not a number", lambda d: d["clients"][0].update(location={"lat": "north", "lon": 0}),
     SchemaError, ("client", "c1", "location.lat"), "should be a number, got 'north'"),
    ("location not an object", lambda d: d["clients"][0].update(location=[51.5, -0.1]),
     SchemaError, ("client", "c1", "location"), "should be {'lat'"),
    ("bad time string", lambda d: d["visits"][0].update(window={"start": "8am", "end": "10:00"}),
     SchemaError, ("visit", "v1", "window.start"), "expected a time as 'HH:MM', got '8am'"),
    ("minutes over 59", lambda d: d["workers"][0].update(shift={"start": "08:75", "end": "16:00"}),
     SchemaError, ("worker", "w1", "shift.start"), "'08:75' is not a time of day"),
    ("time after 24:00", lambda d: d["workers"][0].update(shift={"start": "08:00", "end": "24:30"}),
     SchemaError, ("worker", "w1", "shift.end"), "later than 24:00"),
    ("missing duration", lambda d: d["visits"][0].pop("duration_min"),
     SchemaError, ("visit", "v1", "duration_min"), "duration_min is missing"),
    ("missing window", lambda d: d["visits"][0].pop("window"),
     SchemaError, ("visit", "v1", "window"), "window is missing"),
    ("missing client location", lambda d: d["clients"][0].pop("location"),
     SchemaError, ("client", "c1", "location"), "location is missing"),
    ("missing provider_id", lambda d: d["workers"][0].pop("provider_id"),
     SchemaError, ("worker", "w1", "provider_id"), "provider_id is missing"),
    ("missing id", lambda d: d["visits"][0].pop("id"),
     SchemaError, ("visit", "#1", "id"), "id is missing"),
    ("duration as words", lambda d: d["visits"][0].update(duration_min="thirty"),
     SchemaError, ("visit", "v1", "duration_min"), "should be a whole number, got 'thirty'"),
    ("fractional duration", lambda d: d["visits"][0].update(duration_min=30.5),
     SchemaError, ("visit", "v1", "duration_min"), "should be a whole number, got 30.5"),
    ("boolean duration", lambda d: d["visits"][0].update(duration_min=True),
     SchemaError, ("visit", "v1", "duration_min"), "should be a whole number, got True"),
    ("zero duration", lambda d: d["visits"][0].update(duration_min=0),
     SchemaError, ("visit", "v1", "duration_min"), "duration_min 0 is not at least 1"),
    ("skills not a list", lambda d: d["workers"][0].update(skills=5),
     SchemaError, ("worker", "w1", "skills"), "skills should be a list of text, got 5"),
    ("name not text", lambda d: d["workers"][0].update(name={"first": "Ann"}),
     SchemaError, ("worker", "w1", "name"), "name should be text"),
    ("record not an object", lambda d: d["visits"].append("v2"),
     SchemaError, ("visit", "#2", None), "should be an object, got 'v2'"),
    ("list not a list", lambda d: d.update(workers={"w1": {}}),
     SchemaError, ("plan", None, "workers"), "workers should be a list"),
    ("missing visits", lambda d: d.pop("visits"),
     SchemaError, ("plan", None, "visits"), "visits is missing"),
    ("missing date", lambda d: d.pop("date"),
     SchemaError, ("plan", None, "date"), "date is missing"),
    ("bad date", lambda d: d.update(date="24/11/2026"),
     SchemaError, ("plan", None, "date"), "'24/11/2026' is not a date as YYYY-MM-DD"),
    ("network not a path", lambda d: d.update(network=7),
     SchemaError, ("plan", None, "network"), "network should be a file path"),
    ("bad priority", lambda d: d["visits"][0].update(priority="urgent"),
     SchemaError, ("visit", "v1", "priority"), "priority 'urgent' is not one of mandatory, high, normal, low"),
    ("bad travel mode", lambda d: d["workers"][0].update(travel_mode="car"),
     SchemaError, ("worker", "w1", "travel_mode"), "travel_mode 'car' is not one of drive, walk, cycle"),
    ("three workers required", lambda d: d["visits"][0].update(workers_required=3),
     SchemaError, ("visit", "v1", "workers_required"), "workers_required 3 is not 1 or 2"),
    ("bad gender", lambda d: d["workers"][0].update(gender="q"),
     SchemaError, ("worker", "w1", "gender"), "gender 'q' is not one of f, m, x"),
    ("bad gender preference", lambda d: d["clients"][0].update(gender_preference="x"),
     SchemaError, ("client", "c1", "gender_preference"), "gender_preference 'x' is not one of f, m"),
    ("negative capacity", lambda d: d["workers"][0].update(capacity=-1),
     SchemaError, ("worker", "w1", "capacity"), "capacity -1 is negative"),
    ("negative demand", lambda d: d["visits"][0].update(demand=-2),
     SchemaError, ("visit", "v1", "demand"), "demand -2 is negative"),
    ("preferred and excluded",
     lambda d: d["clients"][0].update(preferred_worker_ids=["w1"], excluded_worker_ids=["w1"]),
     PlanError, ("client", "c1", "excluded_worker_ids"), "worker 'w1' is both preferred and excluded"),
    ("visit after midnight", lambda d: d["visits"][0].update(window={"start": "23:50", "end": "23:55"}),
     PlanError, ("visit", "v1", "duration_min"), "a 30 min visit starting at 23:50 ends after midnight"),
]


@pytest.mark.parametrize(
    ("mutate", "error", "where", "text"),
    [case[1:] for case in _SINGLE_PROBLEMS],
    ids=[case[0] for case in _SINGLE_PROBLEMS],
)
def test_plan_from_dict_names_record_and_field_of_each_problem(
    mutate: Mutate, error: type[PlanError], where: tuple[str, str | None, str | None], text: str
) -> None:
    """Each kind of bad plan raises the right error class, naming record, id and field."""
    data = plan_dict()
    mutate(data)

    with pytest.raises(error) as info:
        plan_from_dict(data)

    assert _problem_keys(info.value) == [where]
    assert (info.value.record_kind, info.value.record_id, info.value.field) == where
    assert text in info.value.problems[0].message
    kind, rid, _ = where
    prefix = kind if rid is None else f"{kind} {rid!r}"
    assert str(info.value) == f"{prefix}: {info.value.problems[0].message}"


def test_plan_from_dict_error_reads_like_a_sentence() -> None:
    """The canonical message: ``visit 'v1': window end 07:00 is before start 08:00``."""
    with pytest.raises(PlanError) as info:
        make_plan(visits=[visit("v1", window=("08:00", "07:00"))])

    assert str(info.value) == "visit 'v1': window end 07:00 is before start 08:00"
    assert len(info.value.problems) == 1


def test_plan_from_dict_reports_every_schema_problem_at_once() -> None:
    """Problems in several records and fields come back together, one entry each, in order."""
    data = plan_dict(
        workers=[worker("w1", shift=("16:00", "08:00"), travel_mode="bike"), worker("w2", gender="?")],
        clients=[client("c1", location=(95.0, -0.13))],
        visits=[visit("v1", window=("9:00", "x")), visit("v2", priority="asap", workers_required=0)],
    )

    with pytest.raises(SchemaError) as info:
        plan_from_dict(data)

    assert _problem_keys(info.value) == [
        ("worker", "w1", "shift.end"),
        ("worker", "w1", "travel_mode"),
        ("worker", "w2", "gender"),
        ("client", "c1", "location.lat"),
        ("visit", "v1", "window.end"),
        ("visit", "v2", "workers_required"),
        ("visit", "v2", "priority"),
    ]
    text = str(info.value)
    assert text.startswith("7 problems in the plan:\n")
    assert len(text.splitlines()) == 8
    assert "  - worker 'w1': shift end 08:00 is before start 16:00" in text.splitlines()


def test_plan_from_dict_reports_record_rules_alongside_unreadable_fields() -> None:
    """A visit with an unreadable window and a bad priority gets both problems, not just the first."""
    with pytest.raises(SchemaError) as info:
        make_plan(visits=[visit("v1", window=("08:00", "07:00"), priority="soon", duration_min=0)])

    assert _problem_keys(info.value) == [
        ("visit", "v1", "window.end"),
        ("visit", "v1", "duration_min"),
        ("visit", "v1", "priority"),
    ]


def test_plan_from_dict_reports_every_cross_record_problem_at_once() -> None:
    """Unknown references and contradictions across records are listed together."""
    data = plan_dict(
        workers=[worker("w1", provider_id="nobody"), worker("w2")],
        clients=[client("c1", preferred_worker_ids=["w2"], excluded_worker_ids=["w2", "w7"])],
        visits=[visit("v1", client_id="c8"), visit("v1"), visit("v3", kind="equipment")],
    )

    with pytest.raises(UnknownReferenceError) as info:
        plan_from_dict(data)

    assert sorted(_problem_keys(info.value)) == sorted([
        ("visit", "v1", "id"),
        ("worker", "w1", "provider_id"),
        ("client", "c1", "excluded_worker_ids"),
        ("client", "c1", "excluded_worker_ids"),
        ("visit", "v1", "client_id"),
        ("visit", "v3", "kind"),
    ])
    messages = [p.message for p in info.value.problems]
    assert "excluded_worker_ids names 'w7', which is not a worker in the plan" in messages
    assert "worker 'w2' is both preferred and excluded" in messages
    assert str(info.value).startswith("6 problems in the plan:")


def test_plan_from_dict_reports_record_and_cross_record_problems_together() -> None:
    """A malformed visit and a visit naming an unknown client are reported in one error."""
    data = plan_dict(visits=[visit("v1", window=("09:00", "08:00")), visit("v2", "nobody")])

    with pytest.raises(SchemaError) as info:
        plan_from_dict(data)

    assert _problem_keys(info.value) == [("visit", "v1", "window.end"), ("visit", "v2", "client_id")]
    assert "client_id 'nobody' is not a client in the plan" in str(info.value)


def test_plan_from_dict_does_not_call_unreadable_records_unknown() -> None:
    """References to records that exist but are malformed are not also reported as unknown."""
    data = plan_dict(
        providers=[provider("care-1", kind="nursing")],
        workers=[worker("w1", shift=("16:00", "08:00")), worker("w2")],
        clients=[client("c1", excluded_worker_ids=["w1"], location=(95.0, 0.0)),
                 client("c2", preferred_worker_ids=["w1"], excluded_worker_ids=["w9"])],
        visits=[visit("v1", "c1"), visit("v2", "c2", provider_id="care-1")],
    )

    with pytest.raises(SchemaError) as info:
        plan_from_dict(data)

    assert _problem_keys(info.value) == [
        ("provider", "care-1", "kind"),
        ("worker", "w1", "shift.end"),
        ("client", "c1", "location.lat"),
        ("client", "c2", "excluded_worker_ids"),  # w9 really is unknown
    ]
    assert "names 'w9'" in info.value.problems[-1].message


def test_plan_from_dict_with_an_unreadable_list_skips_references_into_it() -> None:
    """When ``workers`` is not a list, worker ids named by clients are not called unknown."""
    data = plan_dict(clients=[client(preferred_worker_ids=["w1"])], visits=[visit(client_id="c9")])
    data["workers"] = {"w1": worker()}

    with pytest.raises(SchemaError) as info:
        plan_from_dict(data)

    assert _problem_keys(info.value) == [("plan", None, "workers"), ("visit", "v1", "client_id")]


def test_plan_from_dict_rejects_a_non_object() -> None:
    """A JSON list is not a plan."""
    with pytest.raises(SchemaError, match="a plan is a JSON object, got list"):
        plan_from_dict([plan_dict()])  # type: ignore[arg-type]


def test_plan_error_needs_a_problem() -> None:
    """A PlanError with no problems is a programming error."""
    with pytest.raises(ValueError, match="at least one problem"):
        PlanError([])


def test_plan_error_is_a_value_error_carrying_its_first_problem() -> None:
    """PlanError subclasses ValueError and exposes the first problem's record and field."""
    error = SchemaError([Problem("visit", "v1", "window.end", "x"), Problem("worker", "w1", "shift", "y")])

    assert isinstance(error, ValueError)
    assert (error.record_kind, error.record_id, error.field) == ("visit", "v1", "window.end")
    assert str(error) == "2 problems in the plan:\n  - visit 'v1': x\n  - worker 'w1': y"


# --------------------------------------------------------------------------- rosters


def _roster_case():
    plan = make_plan(
        workers=[worker("w1"), worker("w2", start_location="goodge_st")],
        clients=[client("c1"), client("c2", location="gordon_sq", postcode="WC1H 0AR")],
        visits=[visit("v1"), visit("v2", "c2", window=("09:00", "11:00")), visit("v3", "c2", priority="mandatory")],
    )
    roster = make_roster(
        plan,
        {"w1": [stop("v1", "08:10", travel_s=240, travel_m=1100, arrival="08:05", client_id="c1"),
                stop("v2", "09:00", travel_s=300, travel_m=1400, client_id="c2")],
         "w2": []},
        [("v3", "no worker with skill 'hoist' is on shift 21:00-22:00")],
    )
    return plan, roster


def test_roster_to_dict_round_trips_through_roster_from_dict() -> None:
    """roster_to_dict -> JSON text -> roster_from_dict gives an equal roster, KPIs included."""
    _, roster = _roster_case()

    again = roster_from_dict(json.loads(json.dumps(roster_to_dict(roster))))

    assert again == roster


def test_roster_to_dict_uses_contract_fields() -> None:
    """The JSON roster has the contract's field names with times as HH:MM."""
    _, roster = _roster_case()

    data = roster_to_dict(roster)

    assert data["date"] == "2026-11-24"
    route = data["routes"][0]
    assert route["worker_id"] == "w1"
    assert route["stops"][0] == {"kind": "visit", "visit_id": "v1", "client_id": "c1", "arrival": "08:05", "start": "08:10",
                                 "end": "08:40", "travel_s": 240, "travel_m": 1100,
                                 "idle_s": 0, "off_s": 0}
    assert (route["travel_s"], route["travel_m"]) == (540, 2500)
    assert route["work_s"] == 9 * 3600 + 1800 - (8 * 3600 + 300)
    assert data["unassigned"] == [{"visit_id": "v3", "reason": "no worker with skill 'hoist' is on shift 21:00-22:00",
                                   "code": "unassigned"}]
    assert data["kpis"]["visits"] == 3
    assert data["kpis"]["assigned"] == 2
    assert data["kpis"]["mandatory_unassigned"] == 1


def test_write_roster_round_trips_through_a_json_file(tmp_path: Path) -> None:
    """write_roster then load_roster gives an equal roster."""
    _, roster = _roster_case()

    path = write_roster(roster, tmp_path / "out" / "roster.json")

    assert load_roster(path) == roster


def test_roster_to_dict_rounds_arrivals_up_so_the_roster_stays_valid() -> None:
    """An arrival between minutes is written as the next minute, so a re-read roster still checks clean."""
    plan = make_plan()
    arrival = 8 * 3600 + 200  # 08:03:20, 200 s after the shift starts
    roster = make_roster(plan, {"w1": [stop("v1", "08:10", travel_s=200, arrival=arrival)]})
    assert check_roster(plan, roster) == []

    data = roster_to_dict(roster)

    assert data["routes"][0]["stops"][0]["arrival"] == "08:04"
    assert check_roster(plan, roster_from_dict(data)) == []
    (row,) = roster_rows(plan, roster)
    assert row["arrival"] == "08:04"


def test_roster_from_dict_reads_contract_only_roster() -> None:
    """A roster with only the contract's fields loads; missing route totals are recomputed."""
    data = {
        "date": "2026-11-24",
        "routes": [{"worker_id": "w1", "stops": [
            {"visit_id": "v1", "arrival": "08:05", "start": "08:10", "end": "08:40", "travel_s": 300, "travel_m": 900},
            {"visit_id": "v2", "arrival": "09:00", "start": "09:00", "end": "09:30", "travel_s": 120},
        ]}],
        "unassigned": [{"visit_id": "v3", "reason": "nobody free"}],
        "kpis": {"visits": 3, "assigned": 2, "continuity": 0.5, "overtime_min": 12},
    }

    roster = roster_from_dict(data)

    route = roster.routes[0]
    assert route.stops[1].travel_m == 0
    assert (route.travel_s, route.travel_m) == (420, 900)
    assert route.work_s == (9 * 60 + 30 - (8 * 60 + 5)) * 60
    assert route.service_s == 3600
    assert route.idle_s == 300
    assert roster.unassigned == (Unassigned("v3", "nobody free", "unassigned"),)
    assert roster.kpis.visits == 3
    assert roster.kpis.continuity == 0.5
    assert roster.kpis.extra == {"overtime_min": 12}


def test_roster_from_dict_reports_every_problem_at_once() -> None:
    """Missing ids, bad times and non-numeric travel in a roster are listed together."""
    data = {
        "date": "24.11.2026",
        "routes": [
            {"stops": []},
            {"worker_id": "w1", "stops": [
                {"arrival": "08:00", "start": "08:00", "end": "08:30", "travel_s": 0},
                {"visit_id": "v2", "arrival": "eight", "start": "08:00", "end": "08:30", "travel_s": "far"},
            ]},
        ],
        "unassigned": [{"reason": "?"}],
    }

    with pytest.raises(SchemaError) as info:
        roster_from_dict(data)

    assert _problem_keys(info.value) == [
        ("roster", None, "date"),
        ("route", "#1", "worker_id"),
        ("stop", "w1 stop 1", "visit_id"),
        ("stop", "v2", "arrival"),
        ("stop", "v2", "travel_s"),
        ("unassigned", "#1", "visit_id"),
    ]


def test_write_roster_csv_has_one_row_per_stop_and_per_unassigned_visit(tmp_path: Path) -> None:
    """The CSV roster lists every stop in route order, then each unassigned visit with its reason."""
    plan, roster = _roster_case()

    path = write_roster(roster, tmp_path / "roster.csv", plan=plan)

    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == ROSTER_CSV_COLUMNS
        rows = list(reader)
    assert [(r["worker_id"], r["stop"], r["visit_id"], r["status"]) for r in rows] == [
        ("w1", "1", "v1", "assigned"), ("w1", "2", "v2", "assigned"), ("", "", "v3", "unassigned"),
    ]
    first, second, left = rows
    assert (first["arrival"], first["start"], first["end"], first["duration_min"]) == ("08:05", "08:10", "08:40", "30")
    assert (first["provider_id"], first["client_id"], first["postcode"]) == ("care-1", "c1", "W1T 1AA")
    assert (second["travel_s"], second["travel_m"], second["postcode"]) == ("300", "1400", "WC1H 0AR")
    assert left["reason"] == "no worker with skill 'hoist' is on shift 21:00-22:00"
    assert (left["client_id"], left["duration_min"], left["workers_required"]) == ("c2", "30", "1")


def test_write_roster_csv_needs_the_plan(tmp_path: Path) -> None:
    """Writing CSV without the plan raises ValueError and writes nothing."""
    _, roster = _roster_case()

    with pytest.raises(ValueError, match="needs its plan"):
        write_roster(roster, tmp_path / "roster.csv")
    assert not (tmp_path / "roster.csv").exists()
