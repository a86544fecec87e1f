"""The plan's JSON form, described once: every record kind and its fields.

This is the one description of the plan schema (``docs/CONTRACT.md`` and the
care-rule fields of the README). :mod:`scheduler.io` reads it to know which
fields a record names (the others are kept in the record's ``extra``), which
fields are nested objects and which are lists (for the CSV form); the service
(``api.models``) turns it into the pydantic models that document ``POST /plans``
in the OpenAPI schema. A field added here is known to the reader and
documented by the service at once; the tests check that the domain records
(:mod:`scheduler.model`) have a place for each.

The description is plain data on purpose: the domain stays free of the
service's libraries, and each consumer takes from it what it needs. The
checking itself stays in :mod:`scheduler.io` and :mod:`scheduler.model`, which
report every problem at once by record and field.

Types are ``text``, ``integer`` (whole number), ``number``, ``date``
(``YYYY-MM-DD``), ``time`` (``HH:MM`` on the plan's date), or the name of
another record kind here (a nested object); ``many`` makes it a list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scheduler.model import (
    DEFAULT_NMW,
    DEFAULT_TRAVEL_HOUR_VALUE,
    DEFAULT_WEEKLY_CAP_MIN,
    GENDER_PREFERENCES,
    MINIMUM_WAGE_MODES,
    GENDERS,
    PAID_TIME,
    PAY_MODELS,
    PRIORITIES,
    PROVIDER_KINDS,
    TRAVEL_MODES,
)

SCALAR_TYPES = ("text", "integer", "number", "date", "time")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a record's JSON form.

    Parameters
    ----------
    name
        The field's public name (``docs/CONTRACT.md``; never renamed).
    type
        One of :data:`SCALAR_TYPES`, or the kind of a nested record in :data:`RECORDS`.
    description
        What it means, for the API docs.
    required
        Whether a record must give it.
    default
        The value a record that omits it gets (``None``: none).
    many
        A list of ``type``.
    choices
        The allowed values of a text field.
    minimum, maximum
        Bounds of a number.
    unit
        The unit of a number (``min``, ``degrees``, ``GBP``...).
    example
        A typical value, for the docs (``None``: none).
    attr
        The attribute of the domain record that holds it (default: ``name``), or
        ``None`` when the reader keeps it in the record's ``extra`` for later
        stages to read (``off_from``, ``locked_before``: see :mod:`scheduler.roster`).
    """

    name: str
    type: str
    description: str = ""
    required: bool = False
    default: Any = None
    many: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    example: Any = None
    attr: str | None = ""

    @property
    def attribute(self) -> str | None:
        """The domain record's attribute for this field, or ``None`` if it is kept in ``extra``."""
        return self.name if self.attr == "" else self.attr

    @property
    def nested(self) -> bool:
        """Whether the field is an object (or a list of objects) of another record kind."""
        return self.type not in SCALAR_TYPES


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """One record kind: its fields in order, and whether it keeps fields it does not name."""

    kind: str
    description: str
    fields: tuple[FieldSpec, ...]
    keeps_extra: bool = False

    def field(self, name: str) -> FieldSpec:
        """Return the field with this name (``KeyError`` if none)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def _window(description: str) -> RecordSpec:
    return RecordSpec("window", description, (
        FieldSpec("start", "time", "Start, HH:MM.", required=True),
        FieldSpec("end", "time", "End, HH:MM (not before the start).", required=True),
    ))


_LINK = (
    FieldSpec("visit_id", "text", "The other visit (at the same client).", required=True),
    FieldSpec("min_gap_min", "integer", "Least gap.", default=0, minimum=0, unit="min"),
    FieldSpec("max_gap_min", "integer", "Largest gap; null: no upper limit.", minimum=0, unit="min"),
)

#: Every record kind of a plan, by kind. ``plan`` is the top level.
RECORDS: dict[str, RecordSpec] = {r.kind: r for r in (
    RecordSpec("location", "A WGS84 point (degrees).", (
        FieldSpec("lat", "number", "Latitude.", required=True, minimum=-90, maximum=90, unit="degrees",
                  example=51.5226),
        FieldSpec("lon", "number", "Longitude.", required=True, minimum=-180, maximum=180, unit="degrees",
                  example=-0.1397),
    )),
    _window("A time window, local wall-clock HH:MM on the plan's date."),
    RecordSpec("link", "A link to another visit at the same client: a gap between one's end and the "
                       "other's start.", _LINK),
    RecordSpec("pay", "How a provider pays its workers, for the minimum-wage check.", (
        FieldSpec("model", "text", "hourly or per_visit.", default="hourly", choices=PAY_MODELS),
        FieldSpec("hourly_rate", "number", "Pay per hour of paid_time (model hourly).", minimum=0, unit="GBP"),
        FieldSpec("per_visit_rate", "number", "Pay per visit (model per_visit).", minimum=0, unit="GBP"),
        FieldSpec("paid_time", "text", "What an hourly rate pays for: visits only, visits and travel, or the "
                                       "whole working span.", default="contact_and_travel", choices=PAID_TIME),
    )),
    RecordSpec("wage", "The minimum wage in the search: how a worker's day paid below it counts "
                       "(scheduler/rules/minimum_wage.py).", (
        FieldSpec("mode", "text", "penalty: a shortfall costs far more than travel, so the search removes it "
                                  "wherever it can without leaving a mandatory visit out; hard: no worker below "
                                  "it; price: the top-up costs its pounds at travel_hour_value; off: only "
                                  "homecare pay reports it.", default="penalty", choices=MINIMUM_WAGE_MODES),
        FieldSpec("hourly_rate", "number", "The minimum wage (default: National Living Wage, 21+, from April "
                                           "2026).", default=DEFAULT_NMW, minimum=0, maximum=1000, unit="GBP"),
        FieldSpec("travel_hour_value", "number", "Mode price: what an hour of travel is worth; £1 of top-up "
                                                 "weighs as much as 3600 / travel_hour_value seconds of travel.",
                  default=DEFAULT_TRAVEL_HOUR_VALUE, minimum=0, maximum=1000, unit="GBP"),
    )),
    RecordSpec("break", "A rest-break rule: a stint longer than after_min holds a break of duration_min.", (
        FieldSpec("after_min", "integer", "Stint length after which a break is owed.", default=360, minimum=0,
                  unit="min"),
        FieldSpec("duration_min", "integer", "Length of the break.", default=20, minimum=1, unit="min"),
        FieldSpec("window", "window", "When the break starts; default: the stint's middle third."),
    )),
    RecordSpec("history", "How often a worker visited a client in the last 28 days (continuity of care).", (
        FieldSpec("client_id", "text", "The client.", required=True),
        FieldSpec("worker_id", "text", "The worker.", required=True),
        FieldSpec("visits", "integer", "Visits in the last 28 days.", required=True, minimum=0),
    )),
    RecordSpec("equipment", "A piece of equipment a client rents (hoist, bath lift, key safe, personal alarm).", (
        FieldSpec("item", "text", "What it is; visits name it in needs_equipment and installs.", required=True,
                  example="hoist"),
        FieldSpec("installed_from", "time", "In place from this time on the plan's date; null: installed on an "
                                            "earlier day."),
    )),
    RecordSpec("provider", "A provider (care agency, hairdresser, delivery firm, equipment firm).", (
        FieldSpec("id", "text", "Unique id.", required=True),
        FieldSpec("name", "text", "Name.", default=""),
        FieldSpec("kind", "text", "What it provides; visits of this kind may go to it.", required=True,
                  choices=PROVIDER_KINDS),
        FieldSpec("pay", "pay", "Pay model, for the minimum-wage check."),
        FieldSpec("break", "break", "Rest-break rule (default after 360 min, 20 min).", attr="break_rule"),
        FieldSpec("weekly_cap_min", "integer", "Weekly working cap.", default=DEFAULT_WEEKLY_CAP_MIN, minimum=0,
                  unit="min"),
        FieldSpec("max_double_handed", "integer", "Most double-handed visits (hoisting, two-carer transfers) one "
                                                  "of its workers makes in a day; null: no limit.", minimum=0),
    ), keeps_extra=True),
    RecordSpec("worker", "A worker and their shift.", (
        FieldSpec("id", "text", "Unique id.", required=True),
        FieldSpec("provider_id", "text", "The provider they work for.", required=True),
        FieldSpec("name", "text", "Name.", default=""),
        FieldSpec("skills", "text", "Skills (hoist, medication...).", many=True, default=()),
        FieldSpec("gender", "text", "Gender, for clients' gender preferences.", choices=GENDERS),
        FieldSpec("shift", "window", "The shift.", required=True),
        FieldSpec("start_location", "location", "Where the day starts.", required=True),
        FieldSpec("end_location", "location", "Where the day ends; default: start_location."),
        FieldSpec("travel_mode", "text", "How they travel.", default="drive", choices=TRAVEL_MODES),
        FieldSpec("capacity", "integer", "Units a delivery van carries; null: no limit.", minimum=0,
                  unit="units"),
        FieldSpec("availability", "window", "A split shift: intervals inside the shift; nothing happens in the "
                                            "gaps.", many=True, default=()),
        FieldSpec("max_working_min", "integer", "Most working time (visits and travel) today.", minimum=0,
                  unit="min"),
        FieldSpec("max_visits", "integer", "Most visits today.", minimum=0),
        FieldSpec("max_double_handed", "integer", "Most double-handed visits today; null: the provider's "
                                                  "max_double_handed.", minimum=0),
        FieldSpec("week_worked_min", "integer", "Minutes already worked this week.", default=0, minimum=0,
                  unit="min"),
        FieldSpec("off_from", "time", "Off (sick, gone home) from this time: keeps the kept stops started "
                                      "before it, takes nothing new.", attr=None),
    ), keeps_extra=True),
    RecordSpec("client", "A person visited at home.", (
        FieldSpec("id", "text", "Unique id.", required=True),
        FieldSpec("location", "location", "Where they live.", required=True),
        FieldSpec("postcode", "text", "Postcode.", default=""),
        FieldSpec("name", "text", "Name.", default=""),
        FieldSpec("gender_preference", "text", "Only workers of this gender; null: any.",
                  choices=GENDER_PREFERENCES),
        FieldSpec("preferred_worker_ids", "text", "Workers they know (continuity of care).", many=True, default=()),
        FieldSpec("excluded_worker_ids", "text", "Workers who must not visit them.", many=True, default=()),
        FieldSpec("equipment", "equipment", "Equipment they rent that is in place (or is from a time today).",
                  many=True, default=()),
    ), keeps_extra=True),
    RecordSpec("visit", "A visit to a client, to start inside its window.", (
        FieldSpec("id", "text", "Unique id.", required=True),
        FieldSpec("client_id", "text", "The client visited.", required=True),
        FieldSpec("kind", "text", "Must match a provider's kind.", required=True, choices=PROVIDER_KINDS),
        FieldSpec("provider_id", "text", "The provider that must serve it; null: any of its kind."),
        FieldSpec("window", "window", "The visit must start inside this window.", required=True),
        FieldSpec("duration_min", "integer", "Length of the visit.", required=True, minimum=1, maximum=24 * 60,
                  unit="min"),
        FieldSpec("required_skills", "text", "Skills the worker needs.", many=True, default=()),
        FieldSpec("workers_required", "integer", "2: double-handed, both start together.", default=1, minimum=1,
                  maximum=2),
        FieldSpec("priority", "text", "Mandatory visits are left out only when no roster can serve them.",
                  default="normal", choices=PRIORITIES),
        FieldSpec("demand", "integer", "Delivery units (groceries); 0 for others.", default=0, minimum=0,
                  unit="units"),
        FieldSpec("tasks", "text", "What to do there.", many=True, default=()),
        FieldSpec("pinned_worker_id", "text", "This worker must serve it (one of the two if double-handed)."),
        FieldSpec("after", "link", "Start that long after the other visit ends."),
        FieldSpec("before", "link", "End that long before the other visit starts."),
        FieldSpec("needs_equipment", "text", "Items that must be in place at the client before it starts (hoist...): "
                                             "installed on an earlier day, from a time today, or by a served "
                                             "installation visit that ends first.", many=True, default=()),
        FieldSpec("installs", "text", "An equipment visit that installs this item: it is in place from the "
                                      "visit's end."),
    ), keeps_extra=True),
    RecordSpec("plan", "A plan: one day's demand and workforce (docs/CONTRACT.md).", (
        FieldSpec("date", "date", "The day, YYYY-MM-DD.", required=True),
        FieldSpec("network", "text", "Road network: an OSM XML or GraphML file."),
        FieldSpec("providers", "provider", "The providers.", required=True, many=True),
        FieldSpec("workers", "worker", "The workers.", required=True, many=True),
        FieldSpec("clients", "client", "The clients.", many=True, default=()),
        FieldSpec("visits", "visit", "The visits.", required=True, many=True),
        FieldSpec("history", "history", "Visits in the last 28 days, per client and worker.", many=True,
                  default=()),
        FieldSpec("minimum_wage", "wage", "The minimum wage in the search (default: mode penalty at "
                                          "£12.71/h)."),
        FieldSpec("locked_before", "time", "The plan is a re-plan made at this time: nothing that is not a "
                                           "kept stop starts before it.", attr=None),
    ), keeps_extra=True),
)}

#: The lists of records a plan holds, with the kind of their records.
PLAN_LISTS: dict[str, str] = {"providers": "provider", "workers": "worker", "clients": "client", "visits": "visit"}


def known_fields(kind: str) -> frozenset[str]:
    """Return the names of the fields the reader takes out of a record of this kind.

    Fields kept in the record's ``extra`` (``attr=None``) are not among them.
    """
    return frozenset(f.name for f in RECORDS[kind].fields if f.attribute is not None)


def all_fields(kind: str) -> frozenset[str]:
    """Return the names of every field a record of this kind documents, ``extra``-held ones included."""
    return frozenset(f.name for f in RECORDS[kind].fields)


def csv_nested(kinds: tuple[str, ...] = tuple(PLAN_LISTS.values())) -> dict[str, tuple[str, ...]]:
    """Return, per nested object field of these record kinds, its scalar children (CSV ``parent_child``)."""
    out: dict[str, tuple[str, ...]] = {}
    for kind in kinds:
        for f in RECORDS[kind].fields:
            if f.nested and not f.many:
                out[f.name] = tuple(c.name for c in RECORDS[f.type].fields if not c.nested)
    return out


def csv_lists(kinds: tuple[str, ...] = tuple(PLAN_LISTS.values())) -> frozenset[str]:
    """Return the list-of-text fields of these record kinds (CSV items separated by ``;``)."""
    return frozenset(f.name for kind in kinds for f in RECORDS[kind].fields if f.many and f.type == "text")
