"""Read plans and read and write rosters, in the JSON and CSV forms of ``docs/CONTRACT.md``.

A plan is a JSON file or a folder of CSV files (``providers.csv``,
``workers.csv``, ``clients.csv``, ``visits.csv`` and an optional one-row
``plan.csv`` with ``date`` and ``network``). CSV columns use the JSON names with
nested fields flattened by ``_`` (``shift_start``, ``location_lat``,
``window_end``); list fields (``skills``, ``required_skills``,
``preferred_worker_ids``, ``excluded_worker_ids``, ``tasks``) hold items
separated by ``;``. Fields the contract does not name are kept in each
record's ``extra`` and written back unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Callable, Container, Iterable, Mapping
from pathlib import Path
from typing import Any

from scheduler import schema
from scheduler.errors import PlanError, Problem, SchemaError
from scheduler.model import (
    DEFAULT_WEEKLY_CAP_MIN,
    BreakRule,
    Client,
    Equipment,
    HistoryEntry,
    Location,
    MinimumWage,
    PayModel,
    Plan,
    Provider,
    TimeWindow,
    Visit,
    VisitLink,
    Worker,
)
from scheduler.roster import Break, Kpis, Roster, Route, Stop, Unassigned
from scheduler.text import printable
from scheduler.timeutil import ceil_minutes, format_hhmm, parse_hhmm

PLAN_LISTS = tuple(schema.PLAN_LISTS)
LIST_SEPARATOR = ";"

# What the reader knows of each record comes from the one description of the plan, scheduler.schema.
_KNOWN_FIELDS: dict[str, frozenset[str]] = {
    name: schema.known_fields(kind) for name, kind in schema.PLAN_LISTS.items()
}
_PLAN_FIELDS = schema.known_fields("plan")
_NESTED = schema.csv_nested()
_LIST_FIELDS = schema.csv_lists()
_SINGULAR = {"providers": "provider", "workers": "worker", "clients": "client", "visits": "visit"}


#: Largest size of a whole-number field (minutes, counts, demand): larger values mean nothing for
#: a day and overflowed the solver's 64-bit arithmetic (a capacity of 10^20).
MAX_WHOLE_NUMBER = 10**9
#: Deepest nesting of lists and objects accepted in a field the contract does not name.
MAX_NESTING = 64


def unstorable(value: Any) -> str | None:
    """Say why a value read from JSON cannot be kept as text and JSON, or ``None`` if it can.

    Text must be real Unicode text without NUL characters: a lone surrogate
    (``"\\ud800"`` in JSON) cannot be written as UTF-8, and no PostgreSQL text or
    JSON column holds U+0000. Numbers must be finite (JSON has no NaN or
    infinity). Lists and objects are searched, keys included, to
    :data:`MAX_NESTING` levels.

    Parameters
    ----------
    value
        A value as parsed from JSON (or CSV).

    Returns
    -------
    str or None
        The reason, worded to follow the field's name (``contains a NUL character``).
    """
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "contains a NUL character (U+0000), which cannot be stored"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                return (f"contains a lone surrogate (U+{ord(item[exc.start]):04X}), which is not text "
                        "and cannot be stored")
        elif isinstance(item, float) and not math.isfinite(item):
            return f"contains the number {item}, which JSON cannot hold"
        elif isinstance(item, Mapping | list | tuple):
            if depth >= MAX_NESTING:
                return f"is nested more than {MAX_NESTING} levels deep"
            if isinstance(item, Mapping):
                stack.extend((k, depth + 1) for k in item.keys())
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
    return None


class _AnyId:
    """Stands for the ids of records that could not be read at all: it contains every id."""

    def __contains__(self, item: object) -> bool:
        return True


_ANY_ID = _AnyId()

# Valid values for required fields that could not be read (see ``_Record.build``).
_STAND_INS: dict[str, Any] = {
    "id": "?", "provider_id": "?", "client_id": "?", "kind": "care", "duration_min": 1,
    "shift": TimeWindow(0, 3600), "window": TimeWindow(0, 3600), "start_location": Location(0.0, 0.0),
    "end_location": Location(0.0, 0.0), "location": Location(0.0, 0.0),
}


class _Record:
    """Read the fields of one raw record, collecting problems instead of raising."""

    def __init__(self, kind: str, raw: Mapping[str, Any], label: str, problems: list[Problem]):
        self.kind = kind
        self.raw = raw
        self.problems = problems
        rid = raw.get("id")
        self.id = printable(str(rid)) if rid not in (None, "") else label
        self.ok = True

    def fail(self, field: str | None, message: str) -> None:
        self.ok = False
        self.problems.append(Problem(self.kind, self.id, field, message))

    def get(self, name: str, *, required: bool = False) -> Any:
        value = self.raw.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            if required:
                self.fail(name, f"{name} is missing")
            return None
        reason = unstorable(value)
        if reason is not None:
            self.fail(name, f"{name} {reason}")
            return None
        return value

    def text(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.get(name, required=required)
        if value is None:
            return default
        if not isinstance(value, str | int) or isinstance(value, bool):
            self.fail(name, f"{name} should be text, got {value!r}")
            return default
        return str(value).strip()

    def integer(self, name: str, *, required: bool = False, default: int | None = None) -> int | None:
        value = self.get(name, required=required)
        if value is None:
            return default
        try:
            number = float(value) if isinstance(value, str) else value
            if isinstance(number, bool) or not float(number).is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError, OverflowError):
            self.fail(name, f"{name} should be a whole number, got {value!r}")
            return default
        if abs(number) > MAX_WHOLE_NUMBER:
            shown = f" {number}" if len(str(number)) <= 30 else ""
            self.fail(name, f"{name}{shown} is out of range: whole numbers in a plan are at most "
                            f"{MAX_WHOLE_NUMBER:,} in size")
            return default
        return number

    def number(self, name: str, value: Any) -> float | None:
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
        except (TypeError, ValueError):
            self.fail(name, f"{name} should be a number, got {value!r}")
            return None

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.get(name)
        if value is None:
            return ()
        if isinstance(value, str):
            return tuple(s.strip() for s in value.split(LIST_SEPARATOR) if s.strip())
        if isinstance(value, list | tuple) and all(isinstance(v, str | int) for v in value):
            return tuple(str(v).strip() for v in value)
        self.fail(name, f"{name} should be a list of text, got {value!r}")
        return ()

    def location(self, name: str, *, required: bool = True) -> Location | None:
        value = self.get(name, required=required)
        if value is None:
            return None
        if not isinstance(value, Mapping) or "lat" not in value or "lon" not in value:
            self.fail(name, f"{name} should be {{'lat': …, 'lon': …}}, got {value!r}")
            return None
        lat = self.number(f"{name}.lat", value["lat"])
        lon = self.number(f"{name}.lon", value["lon"])
        if lat is None or lon is None:
            return None
        bad = False
        if not -90 <= lat <= 90:
            self.fail(f"{name}.lat", f"{name} latitude {lat} is not between -90 and 90")
            bad = True
        if not -180 <= lon <= 180:
            self.fail(f"{name}.lon", f"{name} longitude {lon} is not between -180 and 180")
            bad = True
        return None if bad else Location(lat, lon)

    def window(self, name: str) -> TimeWindow | None:
        value = self.get(name, required=True)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.fail(name, f"{name} should be {{'start': 'HH:MM', 'end': 'HH:MM'}}, got {value!r}")
            return None
        times = {}
        for end in ("start", "end"):
            try:
                times[end] = parse_hhmm(value.get(end))  # type: ignore[arg-type]
            except ValueError as exc:
                self.fail(f"{name}.{end}", f"{name} {end}: {exc}")
        if len(times) < 2:
            return None
        if times["end"] < times["start"]:
            self.fail(
                f"{name}.end",
                f"{name} end {format_hhmm(times['end'])} is before start {format_hhmm(times['start'])}",
            )
            return None
        return TimeWindow(times["start"], times["end"])

    def extra(self, known: Container[str]) -> dict[str, Any]:
        """Return the fields the contract does not name, reporting any that cannot be stored."""
        out = {}
        for key, value in self.raw.items():
            if key in known:
                continue
            field = printable(str(key))
            reason = unstorable(key) if isinstance(key, str) else None
            if reason is not None:
                self.fail(field, f"the field name {field!r} {reason}")
                continue
            reason = unstorable(value)
            if reason is not None:
                self.fail(field, f"{field} {reason}")
                continue
            out[key] = value
        return out

    def _sub(self, name: str, factory: Callable[..., Any], **kwargs: Any) -> Any:
        """Build a nested value, reporting its own problems under this record and ``name``."""
        try:
            return factory(**kwargs)
        except PlanError as exc:
            for p in exc.problems:
                field = p.field if p.field and p.field.startswith(name) else f"{name}.{p.field or ''}".rstrip(".")
                self.fail(field, p.message)
            return None

    def windows(self, name: str) -> tuple[TimeWindow, ...]:
        """Read a list of windows: JSON objects, or in CSV ``HH:MM-HH:MM`` items separated by ``;``."""
        value = self.get(name)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [dict(zip(("start", "end"), part.split("-"), strict=False))
                     for part in value.split(LIST_SEPARATOR) if part.strip()]
        if not isinstance(value, list):
            self.fail(name, f"{name} should be a list of {{'start', 'end'}} windows, got {value!r}")
            return ()
        out = []
        for i, item in enumerate(value):
            window = _Record(self.kind, {f"{name}[{i}]": item}, self.id, self.problems).window(f"{name}[{i}]")
            if window is None:
                self.ok = False
            else:
                out.append(window)
        return tuple(out)

    def mapping(self, name: str) -> Mapping[str, Any] | None:
        value = self.get(name)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.fail(name, f"{name} should be an object, got {value!r}")
            return None
        return value

    def link(self, name: str) -> VisitLink | None:
        value = self.mapping(name)
        if value is None:
            return None
        sub = _Record(self.kind, {f"{name}.{k}": v for k, v in value.items()}, self.id, self.problems)
        visit_id = sub.text(f"{name}.visit_id", required=True)
        low = sub.integer(f"{name}.min_gap_min", default=0)
        high = sub.integer(f"{name}.max_gap_min")
        if not sub.ok or visit_id is None:
            self.ok = False
            return None
        return self._sub(name, VisitLink, visit_id=visit_id, min_gap_min=low, max_gap_min=high)

    def equipment(self, name: str) -> tuple[Equipment, ...]:
        """Read a client's equipment: objects ``{item, installed_from}``, or in CSV ``item`` / ``item@HH:MM`` items."""
        value = self.get(name)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [dict(zip(("item", "installed_from"), part.strip().split("@", 1), strict=False))
                     for part in value.split(LIST_SEPARATOR) if part.strip()]
        if not isinstance(value, list):
            self.fail(name, f"{name} should be a list of {{'item', 'installed_from'}} objects, got {value!r}")
            return ()
        out = []
        for i, raw in enumerate(value):
            where = f"{name}[{i}]"
            if not isinstance(raw, Mapping):
                self.fail(where, f"{where} should be {{'item': …, 'installed_from': 'HH:MM'}}, got {raw!r}")
                continue
            sub = _Record(self.kind, {f"{where}.{k}": v for k, v in raw.items()}, self.id, self.problems)
            item = sub.text(f"{where}.item", required=True)
            start = sub.get(f"{where}.installed_from")
            try:
                installed = None if start is None else parse_hhmm(start)
            except (TypeError, ValueError) as exc:
                sub.fail(f"{where}.installed_from", f"{where} installed_from: {exc}")
            if not sub.ok or item is None:
                self.ok = False
                continue
            out.append(Equipment(item, installed))
        return tuple(out)

    def pay(self, name: str) -> PayModel | None:
        value = self.mapping(name)
        if value is None:
            return None
        sub = _Record(self.kind, {f"{name}.{k}": v for k, v in value.items()}, self.id, self.problems)
        rates = {}
        for rate in ("hourly_rate", "per_visit_rate"):
            raw = sub.get(f"{name}.{rate}")
            rates[rate] = None if raw is None else sub.number(f"{name}.{rate}", raw)
        model = sub.text(f"{name}.model", default="hourly")
        paid = sub.text(f"{name}.paid_time", default="contact_and_travel")
        if not sub.ok:
            self.ok = False
            return None
        return self._sub(name, PayModel, model=model, paid_time=paid, **rates)

    def break_rule(self, name: str) -> BreakRule:
        value = self.mapping(name)
        if value is None:
            return BreakRule()
        sub = _Record(self.kind, {f"{name}.{k}": v for k, v in value.items()}, self.id, self.problems)
        after = sub.integer(f"{name}.after_min", default=360)
        duration = sub.integer(f"{name}.duration_min", default=20)
        window = sub.window(f"{name}.window") if value.get("window") is not None else None
        if not sub.ok:
            self.ok = False
            return BreakRule()
        return self._sub(name, BreakRule, after_min=after, duration_min=duration, window=window) or BreakRule()

    def build(self, factory: Callable[..., Any], **kwargs: Any) -> Any:
        if not self.ok:
            # Still run the record's own checks on the fields that did parse, so that
            # every problem is reported at once; unreadable fields get valid stand-ins.
            kwargs = {k: _STAND_INS[k] if v is None and k in _STAND_INS else v for k, v in kwargs.items()}
        try:
            record = factory(**kwargs)
        except PlanError as exc:
            for p in exc.problems:
                self.fail(p.field, p.message)
            return None
        return record if self.ok else None


def _provider(r: _Record) -> Provider | None:
    return r.build(Provider, id=r.text("id", required=True), kind=r.text("kind", required=True),
                   name=r.text("name", default=""), pay=r.pay("pay"), break_rule=r.break_rule("break"),
                   weekly_cap_min=r.integer("weekly_cap_min", default=DEFAULT_WEEKLY_CAP_MIN),
                   max_double_handed=r.integer("max_double_handed"),
                   extra=r.extra(_KNOWN_FIELDS["providers"]))


def _worker(r: _Record) -> Worker | None:
    start = r.location("start_location")
    end = r.location("end_location", required=False) or start
    gender = r.text("gender")
    return r.build(
        Worker, id=r.text("id", required=True), provider_id=r.text("provider_id", required=True),
        name=r.text("name", default=""), skills=frozenset(r.strings("skills")),
        gender=gender.lower() if gender else None, shift=r.window("shift"),
        start_location=start, end_location=end,
        travel_mode=r.text("travel_mode", default="drive"), capacity=r.integer("capacity"),
        availability=r.windows("availability"), max_working_min=r.integer("max_working_min"),
        max_visits=r.integer("max_visits"), week_worked_min=r.integer("week_worked_min", default=0),
        max_double_handed=r.integer("max_double_handed"),
        extra=r.extra(_KNOWN_FIELDS["workers"]),
    )


def _client(r: _Record) -> Client | None:
    pref = r.text("gender_preference")
    return r.build(
        Client, id=r.text("id", required=True), location=r.location("location"),
        postcode=r.text("postcode", default=""), name=r.text("name", default=""),
        gender_preference=pref.lower() if pref else None,
        preferred_worker_ids=r.strings("preferred_worker_ids"),
        excluded_worker_ids=frozenset(r.strings("excluded_worker_ids")), equipment=r.equipment("equipment"),
        extra=r.extra(_KNOWN_FIELDS["clients"]),
    )


def _visit(r: _Record) -> Visit | None:
    return r.build(
        Visit, id=r.text("id", required=True), client_id=r.text("client_id", required=True),
        kind=r.text("kind", required=True), provider_id=r.text("provider_id"),
        window=r.window("window"), duration_min=r.integer("duration_min", required=True),
        required_skills=frozenset(r.strings("required_skills")),
        workers_required=r.integer("workers_required", default=1),
        priority=r.text("priority", default="normal"), demand=r.integer("demand", default=0),
        tasks=r.strings("tasks"), pinned_worker_id=r.text("pinned_worker_id"),
        after=r.link("after"), before=r.link("before"),
        needs_equipment=frozenset(r.strings("needs_equipment")), installs=r.text("installs"),
        extra=r.extra(_KNOWN_FIELDS["visits"]),
    )


_PARSERS = {"providers": _provider, "workers": _worker, "clients": _client, "visits": _visit}


def plan_from_dict(
    data: Mapping[str, Any], *, source: Path | None = None, labels: Mapping[str, Callable[[int], str]] | None = None
) -> Plan:
    """Build and validate a plan from its JSON form.

    Parameters
    ----------
    data
        The plan as parsed JSON (see ``docs/CONTRACT.md``).
    source
        File or folder the plan came from, used to resolve a relative ``network``.
    labels
        Per list, how to name a record that has no id (by default ``#N``, 1-based).

    Returns
    -------
    Plan
        The validated plan.

    Raises
    ------
    SchemaError
        If any record is malformed: every problem is listed.
    PlanError
        If the records contradict each other (see :func:`scheduler.validate.validate_plan`).
    """
    from scheduler.validate import validate_plan

    if not isinstance(data, Mapping):
        raise SchemaError([Problem("plan", None, None, f"a plan is a JSON object, got {type(data).__name__}")])
    problems: list[Problem] = []
    date = None
    raw_date = data.get("date")
    try:
        date = dt.date.fromisoformat(str(raw_date))
    except ValueError:
        what = "is missing" if raw_date is None else f"{raw_date!r} is not a date as YYYY-MM-DD"
        problems.append(Problem("plan", None, "date", f"date {what}"))
    network = data.get("network")
    if network is not None and not isinstance(network, str):
        problems.append(Problem("plan", None, "network", f"network should be a file path, got {network!r}"))
        network = None
    elif network is not None and unstorable(network) is not None:
        problems.append(Problem("plan", None, "network", f"network {unstorable(network)}"))
        network = None
    records: dict[str, list[Any]] = {}
    unloaded: dict[str, Container[str]] = {}
    for name in PLAN_LISTS:
        raw_list = data.get(name)
        if raw_list is None:
            raw_list = []
            if name != "clients":
                problems.append(Problem("plan", None, name, f"{name} is missing"))
        if not isinstance(raw_list, list):
            problems.append(Problem("plan", None, name, f"{name} should be a list"))
            raw_list = []
            unloaded[_SINGULAR[name]] = _ANY_ID
        lost: set[str] = set()
        label = (labels or {}).get(name, lambda i: f"#{i + 1}")
        built = []
        for i, raw in enumerate(raw_list):
            kind = _SINGULAR[name]
            if not isinstance(raw, Mapping):
                problems.append(Problem(kind, label(i), None, f"should be an object, got {raw!r}"))
                unloaded[kind] = _ANY_ID
                continue
            record = _PARSERS[name](_Record(kind, raw, label(i), problems))
            if record is not None:
                built.append(record)
            elif isinstance(raw.get("id"), str | int) and not isinstance(raw.get("id"), bool):
                lost.add(str(raw["id"]).strip())
            else:
                unloaded[kind] = _ANY_ID
        records[name] = built
        unloaded.setdefault(_SINGULAR[name], lost)
    history = _history(data.get("history"), problems)
    minimum_wage = _minimum_wage(data.get("minimum_wage"), problems)
    extra = {k: v for k, v in data.items() if k not in _PLAN_FIELDS}
    for key, value in extra.items():
        reason = unstorable(key) if isinstance(key, str) else None
        field = printable(str(key))
        if reason is not None:
            problems.append(Problem("plan", None, field, f"the field name {field!r} {reason}"))
        elif (reason := unstorable(value)) is not None:
            problems.append(Problem("plan", None, field, f"{field} {reason}"))
    if problems:
        # Report the cross-record problems of the records that could be read as well,
        # without calling references to the unreadable ones unknown.
        partial = Plan(date=date, providers=tuple(records["providers"]),  # type: ignore[arg-type]
                       workers=tuple(records["workers"]), clients=tuple(records["clients"]),
                       visits=tuple(records["visits"]))
        try:
            validate_plan(partial, unloaded=unloaded)
        except PlanError as exc:
            said = {p.field for p in problems if p.record_kind == "plan"}  # "workers is missing" says enough
            problems.extend(p for p in exc.problems if p.record_kind != "plan" or p.field not in said)
        raise SchemaError(problems)
    plan = Plan(
        date=date,  # type: ignore[arg-type]
        providers=tuple(records["providers"]),
        workers=tuple(records["workers"]),
        clients=tuple(records["clients"]),
        visits=tuple(records["visits"]),
        network=network,
        history=history,
        minimum_wage=minimum_wage,
        source=source,
        extra=extra,
    )
    validate_plan(plan)
    return plan


def _minimum_wage(raw: Any, problems: list[Problem]) -> MinimumWage:
    """Read the plan's ``minimum_wage`` setting; its problems are the plan's, by ``minimum_wage.<field>``."""
    if raw is None:
        return MinimumWage()
    if not isinstance(raw, Mapping):
        problems.append(Problem("plan", None, "minimum_wage", f"minimum_wage should be an object, got {raw!r}"))
        return MinimumWage()
    known = schema.all_fields("wage")
    for key in raw:
        if key not in known:
            problems.append(Problem("plan", None, f"minimum_wage.{printable(str(key))}",
                                    f"minimum_wage has no field {printable(str(key))!r} "
                                    f"(it has {', '.join(sorted(known))})"))
    sub = _Record("plan", {f"minimum_wage.{k}": v for k, v in raw.items()}, None, problems)  # type: ignore[arg-type]
    mode = sub.text("minimum_wage.mode", default="penalty")
    numbers = {}
    for name in ("hourly_rate", "travel_hour_value"):
        value = sub.get(f"minimum_wage.{name}")
        number = None if value is None else sub.number(f"minimum_wage.{name}", value)
        if number is not None:  # one that could not be read is reported already
            numbers[name] = number
    try:  # the setting's own checks too, so that every problem is reported at once
        setting = MinimumWage(mode=mode or "penalty", **numbers)
    except PlanError as exc:
        problems.extend(Problem("plan", None, p.field, p.message) for p in exc.problems)
        return MinimumWage()
    return setting if sub.ok else MinimumWage()


def _history(raw: Any, problems: list[Problem]) -> tuple[HistoryEntry, ...]:
    """Read the plan's ``history``: (client_id, worker_id, visits in the last 28 days) entries."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(Problem("plan", None, "history", "history should be a list"))
        return ()
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            problems.append(Problem("history", f"#{i + 1}", None, f"should be an object, got {item!r}"))
            continue
        r = _Record("history", {**item, "id": f"#{i + 1}"}, f"#{i + 1}", problems)
        client_id, worker_id = r.text("client_id", required=True), r.text("worker_id", required=True)
        visits = r.integer("visits", required=True)
        if visits is not None and visits < 0:
            r.fail("visits", f"visits {visits} is negative")
        if r.ok:
            out.append(HistoryEntry(client_id, worker_id, visits))  # type: ignore[arg-type]
    return tuple(out)


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan from a JSON file or a folder of CSV files.

    Parameters
    ----------
    path
        A ``.json`` file, or a folder holding ``providers.csv``, ``workers.csv``,
        ``clients.csv``, ``visits.csv`` and optionally ``plan.csv``.

    Returns
    -------
    Plan
        The validated plan.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    SchemaError
        If the file cannot be parsed or a record is malformed (every problem listed).
    PlanError
        If records contradict each other.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no plan at {path}")
    if path.is_dir():
        data, labels = csv_plan_dict(path)
        return plan_from_dict(data, source=path, labels=labels)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SchemaError(
            [Problem("plan", None, None, f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
        ) from None
    return plan_from_dict(data, source=path)


def csv_plan_dict(folder: str | Path) -> tuple[dict[str, Any], dict[str, Callable[[int], str]]]:
    """Read a folder of plan CSV files into the plan's JSON form, unvalidated.

    Parameters
    ----------
    folder
        A folder holding ``providers.csv``, ``workers.csv``, ``visits.csv`` and
        optionally ``clients.csv``, ``plan.csv`` and ``history.csv``.

    Returns
    -------
    tuple of (dict, dict)
        The plan's JSON form, and per list how to name a record by its file row,
        for :func:`plan_from_dict`'s ``labels``.

    Raises
    ------
    SchemaError
        If a file is missing or ``plan.csv`` has not exactly one row.
    ValueError
        If a file is not readable CSV.
    """
    import pandas as pd

    folder = Path(folder)

    data: dict[str, Any] = {}
    meta = folder / "plan.csv"
    if meta.exists():
        frame = pd.read_csv(meta, dtype=str, keep_default_na=False)
        if len(frame) != 1:
            raise SchemaError([Problem("plan", None, None, f"{meta.name} should have exactly one row")])
        data.update({k: (v or None) for k, v in frame.iloc[0].to_dict().items()})
    missing = [f"{n}.csv" for n in PLAN_LISTS if n != "clients" and not (folder / f"{n}.csv").exists()]
    if missing:
        raise SchemaError([Problem("plan", None, None, f"{folder} has no {', '.join(missing)}")])
    for name in PLAN_LISTS:
        file = folder / f"{name}.csv"
        if not file.exists():
            continue
        frame = pd.read_csv(file, dtype=str, keep_default_na=False)
        data[name] = [_unflatten(row) for row in frame.to_dict(orient="records")]
    history = folder / "history.csv"
    if history.exists():
        data["history"] = pd.read_csv(history, dtype=str, keep_default_na=False).to_dict(orient="records")
    labels = {name: (lambda i, n=name: f"{n}.csv row {i + 2}") for name in PLAN_LISTS}
    return data, labels


def _unflatten(row: Mapping[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, value in row.items():
        key = str(key).strip()
        value = value.strip() if isinstance(value, str) else value
        for parent, children in _NESTED.items():
            if key.startswith(parent + "_") and key[len(parent) + 1:] in children:
                if value != "":
                    record.setdefault(parent, {})[key[len(parent) + 1:]] = value
                break
        else:
            if key in _LIST_FIELDS:
                record[key] = [s.strip() for s in value.split(LIST_SEPARATOR) if s.strip()]
            else:
                record[key] = None if value == "" else value
    return record


def _hhmm_exact(seconds: int) -> str:
    """Format a time as ``HH:MM``, or ``HH:MM:SS`` when it is not a whole minute (lossless)."""
    return format_hhmm(seconds) + (f":{seconds % 60:02d}" if seconds % 60 else "")


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """Return a plan in its JSON form, extra fields included.

    Parameters
    ----------
    plan
        The plan.

    Returns
    -------
    dict
        JSON-ready data that :func:`plan_from_dict` reads back to an equal plan.
    """
    def loc(location: Location) -> dict[str, float]:
        return {"lat": location.lat, "lon": location.lon}

    def window(w: TimeWindow) -> dict[str, str]:
        return {"start": _hhmm_exact(w.start), "end": _hhmm_exact(w.end)}

    data: dict[str, Any] = {"date": plan.date.isoformat()}
    if plan.network is not None:
        data["network"] = plan.network
    def optional(kind: str, **fields: Any) -> dict[str, Any]:
        """Keep the extension fields that differ from their defaults (``scheduler.schema``), so files stay lean.

        A value is dropped only when reading the file back gives it again: ``None``
        and empty lists, and a field's own default (``max_visits`` 0 is kept).
        """
        defaults = {f.name: f.default for f in schema.RECORDS[kind].fields}
        return {k: v for k, v in fields.items()
                if v is not None and v not in ((), []) and not (defaults[k] is not None and v == defaults[k])}

    def link(lk: VisitLink | None) -> dict[str, Any] | None:
        return None if lk is None else {"visit_id": lk.visit_id, "min_gap_min": lk.min_gap_min,
                                        "max_gap_min": lk.max_gap_min}

    def pay(pm: PayModel | None) -> dict[str, Any] | None:
        return None if pm is None else {"model": pm.model, "hourly_rate": pm.hourly_rate,
                                        "per_visit_rate": pm.per_visit_rate, "paid_time": pm.paid_time}

    def rest(br: BreakRule) -> dict[str, Any] | None:
        if br == BreakRule():
            return None
        out: dict[str, Any] = {"after_min": br.after_min, "duration_min": br.duration_min}
        if br.window is not None:
            out["window"] = window(br.window)
        return out

    data["providers"] = [
        {"id": p.id, "name": p.name, "kind": p.kind,
         **optional("provider", pay=pay(p.pay), weekly_cap_min=p.weekly_cap_min, max_double_handed=p.max_double_handed), **({"break": rest(p.break_rule)}
                                                                           if rest(p.break_rule) else {}),
         **p.extra}
        for p in plan.providers
    ]
    data["workers"] = [
        {"id": w.id, "provider_id": w.provider_id, "name": w.name, "skills": sorted(w.skills),
         "gender": w.gender, "shift": window(w.shift), "start_location": loc(w.start_location),
         "end_location": loc(w.end_location), "travel_mode": w.travel_mode, "capacity": w.capacity,
         **optional("worker", availability=[window(a) for a in w.availability], max_working_min=w.max_working_min,
                    max_visits=w.max_visits, week_worked_min=w.week_worked_min,
                    max_double_handed=w.max_double_handed),
         **w.extra}
        for w in plan.workers
    ]
    data["clients"] = [
        {"id": c.id, "name": c.name, "location": loc(c.location), "postcode": c.postcode,
         "gender_preference": c.gender_preference, "preferred_worker_ids": list(c.preferred_worker_ids),
         "excluded_worker_ids": sorted(c.excluded_worker_ids),
         **optional("client", equipment=[{"item": e.item, **({} if e.installed_from is None else
                                                             {"installed_from": _hhmm_exact(e.installed_from)})}
                                         for e in c.equipment]),
         **c.extra}
        for c in plan.clients
    ]
    data["visits"] = [
        {"id": v.id, "client_id": v.client_id, "kind": v.kind, "provider_id": v.provider_id,
         "window": window(v.window), "duration_min": v.duration_min,
         "required_skills": sorted(v.required_skills), "workers_required": v.workers_required,
         "priority": v.priority, "demand": v.demand, "tasks": list(v.tasks),
         **optional("visit", pinned_worker_id=v.pinned_worker_id, after=link(v.after), before=link(v.before),
                    needs_equipment=sorted(v.needs_equipment), installs=v.installs),
         **v.extra}
        for v in plan.visits
    ]
    if plan.minimum_wage != MinimumWage():
        mw = plan.minimum_wage
        data["minimum_wage"] = {"mode": mw.mode, "hourly_rate": mw.hourly_rate,
                                "travel_hour_value": mw.travel_hour_value}
    if plan.history:
        data["history"] = [{"client_id": h.client_id, "worker_id": h.worker_id, "visits": h.visits}
                           for h in plan.history]
    data.update(plan.extra)
    return data


def write_plan(plan: Plan, path: str | Path) -> Path:
    """Write a plan as JSON.

    Parameters
    ----------
    plan
        The plan.
    path
        Destination ``.json`` file; parent folders are created.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plan_to_dict(plan), indent=1) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- rosters

def _arrival_hhmm(seconds: int) -> str:
    """Format an arrival as ``HH:MM``, rounded *up* to the minute.

    Rounding down would put the written arrival before the previous stop's end plus
    ``travel_s``, which readers of the ``HH:MM`` form check.
    """
    return format_hhmm(ceil_minutes(seconds) * 60)


def roster_to_dict(roster: Roster) -> dict[str, Any]:
    """Return a roster in its JSON form (``docs/CONTRACT.md``), times as ``HH:MM``.

    Parameters
    ----------
    roster
        The roster.

    Returns
    -------
    dict
        JSON-ready data.
    """
    def opt(t: int | None) -> str | None:
        return None if t is None else format_hhmm(t)

    data: dict[str, Any] = {
        "date": roster.date.isoformat(),
        "routes": [
            {
                "worker_id": r.worker_id,
                "stops": _with_breaks(r),
                "travel_s": r.travel_s, "travel_m": r.travel_m, "work_s": r.work_s,
                "service_s": r.service_s, "idle_s": r.idle_s, "off_s": r.off_s,
                "departure": opt(r.departure),
                "return_arrival": None if r.return_arrival is None else _arrival_hhmm(r.return_arrival),
                "end_travel_s": r.end_travel_s, "end_travel_m": r.end_travel_m,
            }
            for r in roster.routes
        ],
        "unassigned": [{"visit_id": u.visit_id, "reason": u.reason, "code": u.code} for u in roster.unassigned],
        "kpis": roster.kpis.to_dict(),
        "meta": dict(roster.meta),
    }
    if roster.locked_before is not None:
        data["locked_before"] = format_hhmm(roster.locked_before)
    return data


def _with_breaks(route: Route) -> list[dict[str, Any]]:
    """Return a route's visit stops and break stops (kind ``break``, no visit) in the order they happen."""
    rows = []
    for e in route.entries():
        if isinstance(e, Break):
            rows.append({"kind": "break", "visit_id": None, "arrival": format_hhmm(e.start),
                         "start": format_hhmm(e.start), "end": format_hhmm(e.end), "travel_s": 0, "travel_m": 0})
            continue
        row = {"kind": "visit", "visit_id": e.visit_id, "client_id": e.client_id,
               "arrival": _arrival_hhmm(e.arrival), "start": format_hhmm(e.start),
               "end": format_hhmm(e.end), "travel_s": e.travel_s, "travel_m": e.travel_m}
        if e.departure is not None:
            row["departure"] = format_hhmm(e.departure)
        row["idle_s"], row["off_s"] = e.idle_s, e.off_s
        if e.locked:
            row["locked"] = True
        rows.append(row)
    return rows


def roster_from_dict(data: Mapping[str, Any]) -> Roster:
    """Read a roster from its JSON form, such as one written by another tool.

    Only the contract's fields are needed; route totals that are missing are
    recomputed from the stops.

    Parameters
    ----------
    data
        The roster as parsed JSON.

    Returns
    -------
    Roster
        The roster (KPIs as given, unchecked).

    Raises
    ------
    SchemaError
        If a field is missing or malformed (every problem listed).
    """
    problems: list[Problem] = []

    def time(value: Any, where: str, rid: str | None, field: str) -> int:
        try:
            return parse_hhmm(value)
        except ValueError as exc:
            problems.append(Problem(where, rid, field, f"{field}: {exc}"))
            return 0

    def whole(value: Any, where: str, rid: str | None, field: str, default: int | None = None) -> int:
        if value is None and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
            problems.append(Problem(where, rid, field, f"{field} should be a whole number, got {value!r}"))
            return 0
        return int(value)

    if not isinstance(data, Mapping):
        raise SchemaError([Problem("roster", None, None, "a roster is a JSON object")])
    try:
        date = dt.date.fromisoformat(str(data.get("date")))
    except ValueError:
        problems.append(Problem("roster", None, "date", f"date {data.get('date')!r} is not YYYY-MM-DD"))
        date = dt.date(1970, 1, 1)
    routes = []
    for i, raw in enumerate(data.get("routes") or []):
        wid = str(raw.get("worker_id", f"#{i + 1}")) if isinstance(raw, Mapping) else f"#{i + 1}"
        if not isinstance(raw, Mapping) or "worker_id" not in raw:
            problems.append(Problem("route", wid, "worker_id", "worker_id is missing"))
            continue
        stops = []
        breaks = []
        listed: list[Stop | Break] = []
        for j, s in enumerate(raw.get("stops") or []):
            if isinstance(s, Mapping) and s.get("kind") == "break":
                sid = f"{wid} break {j + 1}"
                breaks.append(Break(time(s.get("start"), "stop", sid, "start"), time(s.get("end"), "stop", sid, "end")))
                listed.append(breaks[-1])
                continue
            sid = str(s.get("visit_id", f"{wid} stop {j + 1}")) if isinstance(s, Mapping) else f"{wid} stop {j + 1}"
            if not isinstance(s, Mapping) or "visit_id" not in s:
                problems.append(Problem("stop", sid, "visit_id", "visit_id is missing"))
                continue
            stops.append(Stop(
                visit_id=str(s["visit_id"]),
                arrival=time(s.get("arrival"), "stop", sid, "arrival"),
                start=time(s.get("start"), "stop", sid, "start"),
                end=time(s.get("end"), "stop", sid, "end"),
                travel_s=whole(s.get("travel_s"), "stop", sid, "travel_s"),
                travel_m=whole(s.get("travel_m"), "stop", sid, "travel_m", default=0),
                client_id=str(s.get("client_id") or ""),
                departure=time(s["departure"], "stop", sid, "departure") if s.get("departure") else None,
                idle_s=whole(s.get("idle_s"), "stop", sid, "idle_s", default=0),
                off_s=whole(s.get("off_s"), "stop", sid, "off_s", default=0),
                locked=s.get("locked") is True,
            ))
            listed.append(stops[-1])
        departure = raw.get("departure")
        routes.append(Route(
            worker_id=wid,
            stops=tuple(stops),
            travel_s=whole(raw.get("travel_s"), "route", wid, "travel_s", default=sum(s.travel_s for s in stops)),
            travel_m=whole(raw.get("travel_m"), "route", wid, "travel_m", default=sum(s.travel_m for s in stops)),
            work_s=whole(raw.get("work_s"), "route", wid, "work_s",
                         default=(stops[-1].end - stops[0].arrival) if stops else 0),
            service_s=whole(raw.get("service_s"), "route", wid, "service_s",
                            default=sum(s.end - s.start for s in stops)),
            idle_s=whole(raw.get("idle_s"), "route", wid, "idle_s", default=sum(s.wait_s for s in stops)),
            departure=time(departure, "route", wid, "departure") if departure else None,
            return_arrival=(time(raw["return_arrival"], "route", wid, "return_arrival")
                            if raw.get("return_arrival") else None),
            end_travel_s=whole(raw.get("end_travel_s"), "route", wid, "end_travel_s", default=0),
            end_travel_m=whole(raw.get("end_travel_m"), "route", wid, "end_travel_m", default=0),
            breaks=tuple(breaks),
            off_s=whole(raw.get("off_s"), "route", wid, "off_s", default=sum(s.off_s for s in stops)),
            listed=tuple(listed),
        ))
    unassigned = []
    for i, raw in enumerate(data.get("unassigned") or []):
        if not isinstance(raw, Mapping) or "visit_id" not in raw:
            problems.append(Problem("unassigned", f"#{i + 1}", "visit_id", "visit_id is missing"))
            continue
        unassigned.append(Unassigned(str(raw["visit_id"]), str(raw.get("reason") or ""), str(raw.get("code") or "unassigned")))
    locked_before = None if data.get("locked_before") is None else time(data["locked_before"], "roster", None,
                                                                          "locked_before")
    if problems:
        raise SchemaError(problems)
    k = dict(data.get("kpis") or {})
    known = set(Kpis.__dataclass_fields__) - {"extra"}
    kpis = Kpis(**{f: k.get(f, Kpis.__dataclass_fields__[f].default if f in _OPTIONAL_KPIS else 0) for f in known},
                extra={f: v for f, v in k.items() if f not in known})
    return Roster(date=date, routes=tuple(routes), unassigned=tuple(unassigned), kpis=kpis,
                  meta=dict(data.get("meta") or {}),
                  locked_before=locked_before)


def load_roster(path: str | Path) -> Roster:
    """Read a roster JSON file.

    Parameters
    ----------
    path
        A roster ``.json`` file.

    Returns
    -------
    Roster
        The roster.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    SchemaError
        If the file is not a roster.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SchemaError([Problem("roster", None, None, f"{path} is not valid JSON: {exc.msg}")]) from None
    return roster_from_dict(data)


_OPTIONAL_KPIS = {"continuity", "distinct_workers_per_client", "workload_spread_min", "workload_std_min"}

ROSTER_CSV_COLUMNS = (
    "worker_id", "provider_id", "stop", "visit_id", "client_id", "postcode", "arrival", "start", "end",
    "duration_min", "travel_s", "travel_m", "workers_required", "status", "reason",
)


def roster_rows(plan: Plan, roster: Roster) -> Iterable[dict[str, Any]]:
    """Yield one flat row per stop, then one per unassigned visit (``status`` tells which).

    Parameters
    ----------
    plan
        The plan, for provider, client and postcode columns.
    roster
        The roster.

    Yields
    ------
    dict
        A row with the keys of :data:`ROSTER_CSV_COLUMNS`.
    """
    for route in roster.routes:
        worker = plan.worker(route.worker_id) if plan.has_worker(route.worker_id) else None
        n = 0
        for s in route.entries():  # visits and breaks in the order they happen
            if isinstance(s, Break):
                yield {
                    "worker_id": route.worker_id, "provider_id": worker.provider_id if worker else "", "stop": "",
                    "visit_id": "", "client_id": "", "postcode": "", "arrival": format_hhmm(s.start),
                    "start": format_hhmm(s.start), "end": format_hhmm(s.end), "duration_min": (s.end - s.start) // 60,
                    "travel_s": 0, "travel_m": 0, "workers_required": "", "status": "break", "reason": "",
                }
                continue
            n += 1
            visit = plan.visit(s.visit_id) if plan.has_visit(s.visit_id) else None
            client = plan.client(visit.client_id) if visit else None
            yield {
                "worker_id": route.worker_id, "provider_id": worker.provider_id if worker else "",
                "stop": n, "visit_id": s.visit_id, "client_id": s.client_id or (client.id if client else ""),
                "postcode": client.postcode if client else "", "arrival": _arrival_hhmm(s.arrival),
                "start": format_hhmm(s.start), "end": format_hhmm(s.end),
                "duration_min": (s.end - s.start) // 60, "travel_s": s.travel_s, "travel_m": s.travel_m,
                "workers_required": visit.workers_required if visit else "", "status": "assigned",
                "reason": "",
            }
    for u in roster.unassigned:
        visit = plan.visit(u.visit_id) if plan.has_visit(u.visit_id) else None
        client = plan.client(visit.client_id) if visit else None
        yield {
            "worker_id": "", "provider_id": visit.provider_id or "" if visit else "", "stop": "",
            "visit_id": u.visit_id, "client_id": client.id if client else "",
            "postcode": client.postcode if client else "", "arrival": "", "start": "", "end": "",
            "duration_min": visit.duration_min if visit else "", "travel_s": "", "travel_m": "",
            "workers_required": visit.workers_required if visit else "", "status": "unassigned",
            "reason": u.reason,
        }


def write_roster(roster: Roster, path: str | Path, *, plan: Plan | None = None) -> Path:
    """Write a roster as JSON, or as CSV (one row per stop) when ``path`` ends in ``.csv``.

    Parameters
    ----------
    roster
        The roster.
    path
        Destination file; parent folders are created.
    plan
        The plan; needed for CSV, which adds provider and postcode columns.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        If CSV is asked for without the plan.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        if plan is None:
            raise ValueError("writing a roster as CSV needs its plan")
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=ROSTER_CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(roster_rows(plan, roster))
    else:
        path.write_text(json.dumps(roster_to_dict(roster), indent=1) + "\n", encoding="utf-8")
    return path
