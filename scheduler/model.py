"""Typed, immutable domain model of a plan: one day's demand and workforce.

Field names follow ``docs/CONTRACT.md``. Times are ``int`` seconds since local
midnight; durations keep the contract's unit in their name (``duration_min``).
Each record checks its own fields on construction and raises
:class:`~scheduler.errors.PlanError` listing every problem it found; rules that
span records live in :func:`scheduler.validate.validate_plan`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scheduler.errors import PlanError, Problem
from scheduler.timeutil import DAY_S, format_hhmm

PROVIDER_KINDS = ("care", "hairdressing", "delivery", "equipment")
TRAVEL_MODES = ("drive", "walk", "cycle")
PRIORITIES = ("mandatory", "high", "normal", "low")
GENDERS = ("f", "m", "x")
GENDER_PREFERENCES = ("f", "m")


def _raise(kind: str, record_id: str | None, problems: list[tuple[str, str]]) -> None:
    if problems:
        raise PlanError(Problem(kind, record_id, f, msg) for f, msg in problems)


@dataclass(frozen=True, slots=True)
class Location:
    """A point given as WGS84 latitude and longitude (degrees)."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        problems = []
        if not (math.isfinite(self.lat) and -90 <= self.lat <= 90):
            problems.append(("lat", f"latitude {self.lat} is not between -90 and 90"))
        if not (math.isfinite(self.lon) and -180 <= self.lon <= 180):
            problems.append(("lon", f"longitude {self.lon} is not between -180 and 180"))
        _raise("location", None, problems)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """An interval of the day, ``start`` and ``end`` in seconds since midnight."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= DAY_S or not 0 <= self.end <= DAY_S:
            raise PlanError([Problem("window", None, None, "times must lie in 00:00-24:00")])
        if self.end < self.start:
            raise PlanError(
                [
                    Problem(
                        "window",
                        None,
                        "end",
                        f"end {format_hhmm(self.end)} is before start {format_hhmm(self.start)}",
                    )
                ]
            )

    @property
    def length_s(self) -> int:
        """Length of the window (seconds)."""
        return self.end - self.start

    def __str__(self) -> str:
        """Return ``HH:MM-HH:MM``."""
        return f"{format_hhmm(self.start)}-{format_hhmm(self.end)}"


PAY_MODELS = ("hourly", "per_visit")
PAID_TIME = ("contact", "contact_and_travel", "span")
DEFAULT_WEEKLY_CAP_MIN = 48 * 60


@dataclass(frozen=True, slots=True)
class BreakRule:
    """A rest break: a worker whose working span exceeds ``after_min`` gets ``duration_min`` off.

    The break starts inside ``window`` (seconds since midnight), or, when it is
    ``None``, inside the middle third of the worker's shift.
    """

    after_min: int = 360
    duration_min: int = 20
    window: TimeWindow | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.after_min < 0:
            problems.append(("break.after_min", f"after_min {self.after_min} is negative"))
        if self.duration_min < 1:
            problems.append(("break.duration_min", f"duration_min {self.duration_min} is not at least 1"))
        _raise("break", None, problems)

    def window_for(self, shift: TimeWindow) -> TimeWindow:
        """Return the window the break must start in for a worker on ``shift``."""
        if self.window is not None:
            return self.window
        third = (shift.end - shift.start) // 3
        start = shift.start + third
        return TimeWindow(start, max(start, shift.end - third - self.duration_min * 60))


@dataclass(frozen=True, slots=True)
class PayModel:
    """How a provider pays its workers, for the minimum-wage check.

    ``hourly``: ``hourly_rate`` per hour of ``paid_time`` (``contact``: visits
    only; ``contact_and_travel``: visits and travel between them; ``span``: the
    whole working span, waiting included). ``per_visit``: ``per_visit_rate``
    per visit.
    """

    model: str = "hourly"
    hourly_rate: float | None = None
    per_visit_rate: float | None = None
    paid_time: str = "contact_and_travel"

    def __post_init__(self) -> None:
        problems = []
        if self.model not in PAY_MODELS:
            problems.append(("pay.model", f"model {self.model!r} is not one of {', '.join(PAY_MODELS)}"))
        elif self.model == "hourly" and (self.hourly_rate is None or self.hourly_rate < 0):
            problems.append(("pay.hourly_rate", "an hourly pay model needs a non-negative hourly_rate"))
        elif self.model == "per_visit" and (self.per_visit_rate is None or self.per_visit_rate < 0):
            problems.append(("pay.per_visit_rate", "a per-visit pay model needs a non-negative per_visit_rate"))
        if self.paid_time not in PAID_TIME:
            problems.append(("pay.paid_time", f"paid_time {self.paid_time!r} is not one of {', '.join(PAID_TIME)}"))
        _raise("pay", None, problems)


#: How the minimum wage binds the search (the plan's ``minimum_wage.mode``).
MINIMUM_WAGE_MODES = ("penalty", "hard", "price", "off")
#: National Minimum Wage (£ per hour): the UK National Living Wage for workers aged 21
#: and over from 1 April 2026. Younger workers and apprentices have lower rates: a plan
#: sets its own (``minimum_wage.hourly_rate``).
DEFAULT_NMW = 12.71
#: What an hour of a carer's travel is worth (£), for the ``price`` mode: £1 of top-up
#: weighs as much as ``3600 / travel_hour_value`` seconds of travel in the search.
DEFAULT_TRAVEL_HOUR_VALUE = 20.0


@dataclass(frozen=True, slots=True)
class MinimumWage:
    """How the plan's search treats the minimum wage (:mod:`scheduler.rules.minimum_wage`).

    ``mode``: ``penalty`` (default) makes each pound of a worker's shortfall below
    ``hourly_rate`` cost far more than travel, so the search removes it wherever it
    can without leaving a mandatory visit out; ``hard`` allows no worker below it;
    ``price`` costs the top-up at ``travel_hour_value`` pounds per hour of travel;
    ``off`` leaves pay to the report (``homecare pay``).
    """

    mode: str = "penalty"
    hourly_rate: float = DEFAULT_NMW
    travel_hour_value: float = DEFAULT_TRAVEL_HOUR_VALUE

    def __post_init__(self) -> None:
        problems = []
        if self.mode not in MINIMUM_WAGE_MODES:
            problems.append(("minimum_wage.mode",
                             f"minimum_wage mode {self.mode!r} is not one of {', '.join(MINIMUM_WAGE_MODES)}"))
        if not (_amount(self.hourly_rate) and 0 <= self.hourly_rate <= 1000):
            problems.append(("minimum_wage.hourly_rate",
                             f"minimum_wage hourly_rate should be pounds per hour between 0 and 1000, got {self.hourly_rate!r}"))
        if not (_amount(self.travel_hour_value) and 0 < self.travel_hour_value <= 1000):
            problems.append(("minimum_wage.travel_hour_value", "minimum_wage travel_hour_value should be pounds per hour of "
                                                               f"travel above 0 and at most 1000, got "
                                                               f"{self.travel_hour_value!r}"))
        _raise("plan", None, problems)


def _amount(value: Any) -> bool:
    """Whether ``value`` is a finite number (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True, slots=True)
class VisitLink:
    """A link to another visit at the same client: a gap between one's end and the other's start.

    On a visit's ``after``: this visit starts ``min_gap_min``..``max_gap_min``
    minutes after ``visit_id`` ends. On ``before``: this visit ends that long
    before ``visit_id`` starts. ``max_gap_min`` ``None`` means no upper limit.
    """

    visit_id: str
    min_gap_min: int = 0
    max_gap_min: int | None = None

    def __post_init__(self) -> None:
        if self.max_gap_min is not None and self.max_gap_min < self.min_gap_min:
            raise PlanError([Problem("link", self.visit_id, "max_gap_min",
                                     f"max_gap_min {self.max_gap_min} is less than min_gap_min {self.min_gap_min}")])


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """How often a worker visited a client in the last 28 days (continuity of care)."""

    client_id: str
    worker_id: str
    visits: int


@dataclass(frozen=True, slots=True)
class Equipment:
    """A piece of equipment a client rents (a hoist, a bath lift, a key safe, a personal alarm).

    ``installed_from`` is when it is in place on the plan's date (seconds since
    midnight), or ``None`` when it was installed on an earlier day.
    """

    item: str
    installed_from: int | None = None

    def __post_init__(self) -> None:
        if not self.item:
            raise PlanError([Problem("equipment", None, "item", "item is empty")])


@dataclass(frozen=True, slots=True)
class Provider:
    """An organisation whose workers visit clients: a care agency, a hairdresser…"""

    id: str
    kind: str
    name: str = ""
    pay: PayModel | None = None
    break_rule: BreakRule = field(default_factory=BreakRule)
    weekly_cap_min: int = DEFAULT_WEEKLY_CAP_MIN
    max_double_handed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems = []
        if not self.id:
            problems.append(("id", "id is empty"))
        if self.kind not in PROVIDER_KINDS:
            problems.append(("kind", f"kind {self.kind!r} is not one of {', '.join(PROVIDER_KINDS)}"))
        if self.max_double_handed is not None and self.max_double_handed < 0:
            problems.append(("max_double_handed", f"max_double_handed {self.max_double_handed} is negative"))
        _raise("provider", self.id, problems)


@dataclass(frozen=True, slots=True)
class Worker:
    """A carer, hairdresser, driver or installer with one shift on the plan's day."""

    id: str
    provider_id: str
    shift: TimeWindow
    start_location: Location
    end_location: Location
    name: str = ""
    skills: frozenset[str] = frozenset()
    gender: str | None = None
    travel_mode: str = "drive"
    capacity: int | None = None
    availability: tuple[TimeWindow, ...] = ()
    max_working_min: int | None = None
    max_visits: int | None = None
    week_worked_min: int = 0
    max_double_handed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems = []
        if not self.id:
            problems.append(("id", "id is empty"))
        for i, w in enumerate(self.availability):
            if w.start < self.shift.start or w.end > self.shift.end:
                problems.append((f"availability[{i}]", f"availability {w} is outside shift {self.shift}"))
            if i and w.start < self.availability[i - 1].end:
                problems.append((f"availability[{i}]", f"availability {w} overlaps or precedes {self.availability[i - 1]}"))
        for name in ("max_working_min", "max_visits", "week_worked_min", "max_double_handed"):
            value = getattr(self, name)
            if value is not None and value < 0:
                problems.append((name, f"{name} {value} is negative"))
        if self.travel_mode not in TRAVEL_MODES:
            problems.append(
                ("travel_mode", f"travel_mode {self.travel_mode!r} is not one of {', '.join(TRAVEL_MODES)}")
            )
        if self.gender is not None and self.gender not in GENDERS:
            problems.append(("gender", f"gender {self.gender!r} is not one of {', '.join(GENDERS)}"))
        if self.capacity is not None and self.capacity < 0:
            problems.append(("capacity", f"capacity {self.capacity} is negative"))
        if self.shift.end == self.shift.start:
            problems.append(("shift", f"shift {self.shift} is empty"))
        _raise("worker", self.id, problems)


@dataclass(frozen=True, slots=True)
class Client:
    """A person who receives visits at home."""

    id: str
    location: Location
    postcode: str = ""
    name: str = ""
    gender_preference: str | None = None
    preferred_worker_ids: tuple[str, ...] = ()
    excluded_worker_ids: frozenset[str] = frozenset()
    equipment: tuple[Equipment, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems = []
        if not self.id:
            problems.append(("id", "id is empty"))
        items = [e.item for e in self.equipment]
        for item in sorted({i for i in items if items.count(i) > 1}):
            problems.append(("equipment", f"equipment lists {item!r} twice"))
        if self.gender_preference is not None and self.gender_preference not in GENDER_PREFERENCES:
            problems.append(
                (
                    "gender_preference",
                    f"gender_preference {self.gender_preference!r} is not one of "
                    f"{', '.join(GENDER_PREFERENCES)} or null",
                )
            )
        _raise("client", self.id, problems)


@dataclass(frozen=True, slots=True)
class Visit:
    """One visit to a client: it must *start* inside ``window``."""

    id: str
    client_id: str
    kind: str
    window: TimeWindow
    duration_min: int
    provider_id: str | None = None
    required_skills: frozenset[str] = frozenset()
    workers_required: int = 1
    priority: str = "normal"
    demand: int = 0
    tasks: tuple[str, ...] = ()
    pinned_worker_id: str | None = None
    after: VisitLink | None = None
    before: VisitLink | None = None
    needs_equipment: frozenset[str] = frozenset()
    installs: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems = []
        if not self.id:
            problems.append(("id", "id is empty"))
        if self.kind not in PROVIDER_KINDS:
            problems.append(("kind", f"kind {self.kind!r} is not one of {', '.join(PROVIDER_KINDS)}"))
        if self.installs is not None and self.kind != "equipment":
            problems.append(("installs", f"only an equipment visit installs an item; this one is {self.kind!r}"))
        if self.installs is not None and self.installs in self.needs_equipment:
            problems.append(("needs_equipment", f"the visit installs {self.installs!r}, so it cannot need it"))
        if self.duration_min < 1:
            problems.append(("duration_min", f"duration_min {self.duration_min} is not at least 1"))
        elif self.duration_min > 24 * 60:
            problems.append(("duration_min", f"duration_min {self.duration_min} is longer than a day"))
        if self.workers_required not in (1, 2):
            problems.append(
                ("workers_required", f"workers_required {self.workers_required} is not 1 or 2")
            )
        if self.priority not in PRIORITIES:
            problems.append(
                ("priority", f"priority {self.priority!r} is not one of {', '.join(PRIORITIES)}")
            )
        if self.demand < 0:
            problems.append(("demand", f"demand {self.demand} is negative"))
        _raise("visit", self.id, problems)

    @property
    def duration_s(self) -> int:
        """Length of the visit (seconds)."""
        return self.duration_min * 60

    def links(self) -> list[tuple[str, str, int, int | None]]:
        """Return this visit's links as (first, then, min gap, max gap) in minutes, end of first to start of then."""
        out = []
        if self.after is not None:
            out.append((self.after.visit_id, self.id, self.after.min_gap_min, self.after.max_gap_min))
        if self.before is not None:
            out.append((self.id, self.before.visit_id, self.before.min_gap_min, self.before.max_gap_min))
        return out


@dataclass(frozen=True, slots=True)
class Plan:
    """One day's providers, workers, clients and visits.

    A ``Plan`` is built by :func:`scheduler.io.load_plan` or
    :func:`scheduler.io.plan_from_dict`, which also run
    :func:`scheduler.validate.validate_plan`; code downstream trusts it.

    Parameters
    ----------
    date
        The day the plan is for.
    providers, workers, clients, visits
        The records, in the order given.
    network
        Path of the road network file as written in the plan, or ``None``.
    history
        Visits in the last 28 days, per client and worker (continuity of care).
    minimum_wage
        How the search treats the minimum wage (:class:`MinimumWage`).
    source
        File or folder the plan was read from, used to resolve ``network``.
    """

    date: dt.date
    providers: tuple[Provider, ...]
    workers: tuple[Worker, ...]
    clients: tuple[Client, ...]
    visits: tuple[Visit, ...]
    network: str | None = None
    history: tuple[HistoryEntry, ...] = ()
    minimum_wage: MinimumWage = MinimumWage()
    source: Path | None = field(default=None, compare=False)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _providers: dict[str, Provider] = field(init=False, repr=False, compare=False)
    _workers: dict[str, Worker] = field(init=False, repr=False, compare=False)
    _clients: dict[str, Client] = field(init=False, repr=False, compare=False)
    _visits: dict[str, Visit] = field(init=False, repr=False, compare=False)
    _familiar: frozenset[tuple[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_providers", {p.id: p for p in self.providers})
        object.__setattr__(self, "_workers", {w.id: w for w in self.workers})
        object.__setattr__(self, "_clients", {c.id: c for c in self.clients})
        object.__setattr__(self, "_visits", {v.id: v for v in self.visits})
        object.__setattr__(self, "_familiar", frozenset((h.client_id, h.worker_id) for h in self.history if h.visits > 0))

    def extended(self, *, clients: Sequence[Client] = (), visits: Sequence[Visit] = ()) -> Plan:
        """Return the plan with more clients and visits (ids new to it) after its own, every other field as it is.

        The same as ``dataclasses.replace`` with the longer tuples, without rebuilding
        every look-up: a quote adds one visit to a day of thousands, many times.
        """
        new = object.__new__(Plan)
        for name in Plan.__slots__:  # type: ignore[attr-defined]
            object.__setattr__(new, name, getattr(self, name))
        if clients:
            object.__setattr__(new, "clients", (*self.clients, *clients))
            object.__setattr__(new, "_clients", {**self._clients, **{c.id: c for c in clients}})
        if visits:
            object.__setattr__(new, "visits", (*self.visits, *visits))
            object.__setattr__(new, "_visits", {**self._visits, **{v.id: v for v in visits}})
        return new

    def provider(self, provider_id: str) -> Provider:
        """Return the provider with this id (``KeyError`` if none)."""
        return self._providers[provider_id]

    def worker(self, worker_id: str) -> Worker:
        """Return the worker with this id (``KeyError`` if none)."""
        return self._workers[worker_id]

    def client(self, client_id: str) -> Client:
        """Return the client with this id (``KeyError`` if none)."""
        return self._clients[client_id]

    def visit(self, visit_id: str) -> Visit:
        """Return the visit with this id (``KeyError`` if none)."""
        return self._visits[visit_id]

    def has_worker(self, worker_id: str) -> bool:
        """Return whether a worker has this id."""
        return worker_id in self._workers

    def has_visit(self, visit_id: str) -> bool:
        """Return whether a visit has this id."""
        return visit_id in self._visits

    def day_limit_min(self, worker: Worker) -> int | None:
        """Return the most working minutes (visits and travel) the worker may do today, or None.

        The tighter of the worker's ``max_working_min`` and what is left of their
        provider's weekly cap after ``week_worked_min``.
        """
        left = self._providers[worker.provider_id].weekly_cap_min - worker.week_worked_min
        limits = [m for m in (worker.max_working_min, left) if m is not None]
        limit = max(0, min(limits))
        return None if limit >= DAY_S // 60 else limit

    def familiar(self, client_id: str, worker_id: str) -> bool:
        """Return whether the worker visited the client in the last 28 days (``history``)."""
        return (client_id, worker_id) in self._familiar

    def visit_location(self, visit: Visit) -> Location:
        """Return where a visit takes place: its client's home."""
        return self._clients[visit.client_id].location
