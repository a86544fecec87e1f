"""Database tables (SQLAlchemy 2 ORM) and request/response schemas (pydantic v2).

Tables: ``plans`` (with ``plan_members``, the providers and workers of each plan,
for ownership look-ups), ``jobs``, ``rosters`` (with ``roster_publications``:
which roster is each provider's roster of the day), ``scenarios``, ``api_keys``
and ``audit_log``. Plans and rosters are stored as their contract JSON
(``docs/CONTRACT.md``) and never change once written.

Schemas follow one family per resource: ``*Create`` for what a client sends,
``*Public`` for what it gets back, ``*sPublic(data, count)`` for lists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator
from sqlalchemy import JSON, BigInteger, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from scheduler import schema


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Base class of every table."""

    type_annotation_map = {dt.datetime: DateTime(timezone=True), dict[str, Any]: JSON, list[Any]: JSON}


# --------------------------------------------------------------------------- tables

class ApiKey(Base):
    """An API key: its public id, role and the SHA-256 of its secret (never the secret)."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class PlanRecord(Base):
    """A submitted (or derived) plan, as the contract JSON of the validated plan."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)
    date: Mapped[dt.date] = mapped_column(Date)
    network: Mapped[str | None] = mapped_column(Text, default=None)
    visits: Mapped[int] = mapped_column(Integer)
    workers: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(20), default="submitted")
    base_plan_id: Mapped[str | None] = mapped_column(ForeignKey("plans.id"), default=None)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)


class PlanMember(Base):
    """A provider or worker of a plan (``kind`` ``provider`` or ``worker``)."""

    __tablename__ = "plan_members"
    __table_args__ = (Index("ix_plan_members_member", "kind", "member_id"),)

    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(200))


class RosterRecord(Base):
    """A finished roster, as its contract JSON, with its KPIs and validator findings."""

    __tablename__ = "rosters"
    __table_args__ = (Index("ix_rosters_date", "date", "purpose"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    job_id: Mapped[str] = mapped_column(String(32), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    previous_roster_id: Mapped[str | None] = mapped_column(ForeignKey("rosters.id"), default=None)
    date: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kpis: Mapped[dict[str, Any]] = mapped_column(JSON)
    violations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)


class RosterPublication(Base):
    """A coordinator's decision that a roster is a provider's roster of the day.

    Rows are only ever added: a provider's published roster of a date is the one
    of its newest row (highest ``id``), and older rows are the history. Provider
    and worker views read published rosters only; drafts (every roster until a
    coordinator publishes it) and what-ifs are for coordinators and planners.
    """

    __tablename__ = "roster_publications"
    __table_args__ = (Index("ix_roster_publications_day", "date", "provider_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    date: Mapped[dt.date] = mapped_column(Date)
    provider_id: Mapped[str] = mapped_column(String(200))
    roster_id: Mapped[str] = mapped_column(ForeignKey("rosters.id"), index=True)
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(32), default=None)


class OfferRecord(Base):
    """An offer quoted at the front door (``POST /offers``): the request, the offer, and the rosters it was quoted on.

    ``rosters`` maps each date of the offer to the roster published for its
    provider when it was quoted. Offers are kept until ``expires_at``; booking
    one re-checks it against the roster published then. A quote stores its
    offers in one :class:`QuoteRecord`; an offer gets its row here when booked.
    """

    __tablename__ = "offers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str | None] = mapped_column(String(200), index=True, default=None)
    provider_id: Mapped[str] = mapped_column(String(200))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    offer: Mapped[dict[str, Any]] = mapped_column(JSON)
    rosters: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)


class QuoteRecord(Base):
    """One quote at the front door (``POST /offers``): the request once, and every offer it made, ranked.

    ``offers`` is the list of ``{"offer": ..., "rosters": ...}`` in rank order; offer
    ``n`` of the quote has the id ``<quote id>_<n>`` and becomes an
    :class:`OfferRecord` row when it is booked (``api.frontdoor.find_offer``). One
    row per quote instead of one per offer: a quote makes a hundred offers.
    """

    __tablename__ = "quotes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str | None] = mapped_column(String(200), index=True, default=None)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    offers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)


class BookingRecord(Base):
    """A booked offer: its visits (one per date), state ``booked`` or ``cancelled``, who booked it and with
    which ``Idempotency-Key`` (unique per key holder: the same key answers the same booking)."""

    __tablename__ = "bookings"
    __table_args__ = (UniqueConstraint("created_by", "idempotency_key", name="uq_bookings_idempotency"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), unique=True)
    client_id: Mapped[str] = mapped_column(String(200), index=True)
    provider_id: Mapped[str] = mapped_column(String(200))
    visits: Mapped[list[Any]] = mapped_column(JSON)
    rosters: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), default="booked")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: An installation's item put in place on other published days: ``{date, provider_ids, item, client_id,
    #: installed_from}`` per day (``installed_from`` null: all day), undone when it is cancelled.
    equipment: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    #: The booking this one was rescheduled from (``POST /bookings/{id}/reschedule``), and the one it was
    #: rescheduled to (state ``rescheduled``).
    replaces: Mapped[str | None] = mapped_column(String(32), default=None)
    replaced_by: Mapped[str | None] = mapped_column(String(32), default=None)


class JobRecord(Base):
    """A solve: queued, running, then succeeded, failed, cancelled or interrupted.

    A server claims a queued job by setting ``owner`` (itself) and ``lease_expires_at``,
    which it renews while the job runs (see :mod:`api.jobs`). The solver process
    writes the progress columns while it searches, and the roster together with the
    final state in one transaction.
    """

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True, default="queued")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    time_limit_s: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    locks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: Solver settings besides time limit and seed (:class:`solver.SolveParams` fields that differ from the defaults).
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    previous_roster_id: Mapped[str | None] = mapped_column(ForeignKey("rosters.id"), default=None)
    rerun_of: Mapped[str | None] = mapped_column(String(32), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    pid: Mapped[int | None] = mapped_column(Integer, default=None)
    owner: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    stage: Mapped[str | None] = mapped_column(String(20), default=None)
    elapsed_s: Mapped[float | None] = mapped_column(Float, default=None)
    best_objective: Mapped[int | None] = mapped_column(BigInteger, default=None)
    assigned_places: Mapped[int | None] = mapped_column(Integer, default=None)
    total_places: Mapped[int | None] = mapped_column(Integer, default=None)
    solutions: Mapped[int | None] = mapped_column(Integer, default=None)
    progress_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    roster_id: Mapped[str | None] = mapped_column(String(32), default=None)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class ScenarioRecord(Base):
    """A what-if: a changed copy of a base plan, solved and compared with the base's roster."""

    __tablename__ = "scenarios"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)
    base_plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"))
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"))
    base_roster_id: Mapped[str | None] = mapped_column(ForeignKey("rosters.id"), default=None)
    base_job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), default=None)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)


class AuditRecord(Base):
    """Who did what: one row per client whose data a request returned, or per action."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    key_id: Mapped[str | None] = mapped_column(String(32), default=None)
    key_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(40))
    resource: Mapped[str] = mapped_column(String(100))
    client_id: Mapped[str | None] = mapped_column(String(200), default=None, index=True)


# --------------------------------------------------------------------------- schemas: common

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]
TravelMode = Literal["drive", "walk", "cycle"]


class ProblemPublic(BaseModel):
    """One problem with a request or a plan record."""

    record_kind: str = Field(examples=["visit"])
    record_id: str | None = Field(examples=["v0931"])
    field: str | None = Field(examples=["window.end"])
    message: str = Field(examples=["window end 07:00 is before start 08:30"])


class ProblemsPublic(BaseModel):
    """A 422 (or 413) answer: every problem found."""

    detail: list[ProblemPublic]


class MessagePublic(BaseModel):
    """An error answer with one message."""

    detail: str


class OffersPublic(BaseModel):
    """Ranked offers (each with its ``id`` to book), or none and ``reason`` in the resident's words."""

    offers: list[dict[str, Any]]
    reason: str | None = None
    codes: dict[str, str] = Field(default_factory=dict)


class StalePublic(BaseModel):
    """A booking refused because the roster changed: why, and fresh offers for the same request and dates."""

    detail: str
    offers: list[dict[str, Any]]
    reason: str | None = None


class BookingCreate(BaseModel):
    """Book an offer of ``POST /offers``."""

    model_config = ConfigDict(extra="forbid")

    offer_id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$",
                          description="An offer's id from `POST /offers` (letters, digits, `_` and `-`).")


class BookingPublic(BaseModel):
    """A booking: its visits (date, visit id, window, start; workers and provider not for residents)."""

    id: str
    offer_id: str
    client_id: str
    provider_id: str | None = None
    state: str = Field(description="`booked`, `cancelled`, or `rescheduled` (then `replaced_by` is the new booking)")
    created_at: dt.datetime
    cancelled_at: dt.datetime | None = None
    visits: list[dict[str, Any]]
    replaces: str | None = Field(default=None, description="The booking this one was rescheduled from.")
    replaced_by: str | None = Field(default=None, description="The booking this one was rescheduled to.")


class BookingsPublic(BaseModel):
    """A page of bookings."""

    data: list[BookingPublic]
    count: int


class MePublic(BaseModel):
    """The API key making the request."""

    key_id: str
    name: str
    role: str


class HealthPublic(BaseModel):
    """Liveness: the service answers and reaches its database."""

    status: Literal["ok"]
    database: str
    solve_workers: int
    jobs_running: int
    jobs_queued: int


# --------------------------------------------------------------------------- schemas: plans
# The plan's "In" models document the plan's JSON form in the OpenAPI schema only, and are
# built from the one description of it, scheduler.schema (a field added there is documented
# here); the body itself is read by scheduler.io.plan_from_dict, which reports every problem.

def _plan_models() -> dict[str, type[BaseModel]]:
    """Build a pydantic model per record kind of :data:`scheduler.schema.RECORDS` (``PlanIn``...).

    The models only document the body: ``extra="allow"`` on the records that keep
    unnamed fields, and no check is left to them (the reader reports every problem
    at once). The service's own rule is added here: a plan names its ``network``.
    """
    models: dict[str, type[BaseModel]] = {}

    def model(kind: str) -> type[BaseModel]:
        if kind in models:
            return models[kind]
        spec = schema.RECORDS[kind]
        fields: dict[str, Any] = {}
        for f in spec.fields:
            if f.type == "text":
                annotation: Any = Literal[f.choices] if f.choices else str  # type: ignore[valid-type]
            elif f.nested:
                annotation = model(f.type)
            else:
                annotation = _SCALARS[f.type]
            if f.many:
                annotation = list[annotation]  # type: ignore[valid-type]
            unit = f" Unit: {f.unit}." if f.unit else ""
            info: dict[str, Any] = {"description": f.description + unit}
            if f.type == "time":
                info.update(pattern=HHMM_PATTERN, examples=["08:30"])
            if f.example is not None:
                info["examples"] = [f.example]
            if f.minimum is not None:
                info["ge"] = f.minimum
            if f.maximum is not None:
                info["le"] = f.maximum
            if not f.required:
                annotation = annotation | None
                info["default"] = list(f.default) if isinstance(f.default, tuple) else f.default
            fields[f.name] = (annotation, Field(**info))
        fields.update(_SERVICE_FIELDS.get(kind, {}))
        name = f"{kind.capitalize()}In"
        config = ConfigDict(extra="allow" if spec.keeps_extra else "ignore", title=name)
        models[kind] = create_model(name, __config__=config, __doc__=spec.description, **fields)
        return models[kind]

    for kind in schema.RECORDS:
        model(kind)
    return models


HHMM_PATTERN = r"^\d{1,2}:\d{2}$"
_SCALARS: dict[str, Any] = {"integer": int, "number": float, "date": dt.date, "time": str}
#: Fields the service asks more of than the domain: it solves on one of its own road networks.
_SERVICE_FIELDS: dict[str, dict[str, Any]] = {"plan": {"network": (str, Field(
    description="One of the server's road networks, by file name (cambridge_drive.osm, or "
                "fixtures/networks/cambridge_drive.osm as the bundled plans do).",
    examples=["fixtures/networks/london_central_drive.osm"]))}}
PLAN_MODELS = _plan_models()
PlanIn = PLAN_MODELS["plan"]
ProviderIn = PLAN_MODELS["provider"]
WorkerIn = PLAN_MODELS["worker"]
ClientIn = PLAN_MODELS["client"]
VisitIn = PLAN_MODELS["visit"]
LocationIn = PLAN_MODELS["location"]
WindowIn = PLAN_MODELS["window"]


class PlanSummary(BaseModel):
    """A stored plan, without its records."""

    id: str
    date: dt.date
    network: str | None
    visits: int
    workers: int
    purpose: Literal["submitted", "reoptimise", "scenario", "frontdoor"]
    base_plan_id: str | None
    changes: dict[str, Any] | None
    created_at: dt.datetime


class PlanPublic(PlanSummary):
    """A stored plan with its records (contract JSON)."""

    plan: dict[str, Any]


class PlansPublic(BaseModel):
    """A page of plans, newest first."""

    data: list[PlanSummary]
    count: int


# --------------------------------------------------------------------------- schemas: jobs

class JobCreate(BaseModel):
    """Search settings of a solve."""

    model_config = ConfigDict(extra="forbid")
    time_limit_s: float | None = Field(default=None, gt=0, description="Search time (s); server default if absent.")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    params: dict[str, Any] | None = Field(
        default=None, examples=[{"continuity_weight_s": 600, "metaheuristic": "TABU_SEARCH"}],
        description="Solver settings: any fields of a `homecare solve --params` file (solver.SolveParams), "
                    "checked as that file is. `time_limit_s` and `seed` above win over the same keys here; "
                    "the time limit obeys the server's maximum either way.")

    @field_validator("params")
    @classmethod
    def _solve_params(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        from solver.params import SolveParams

        if value is None:
            return None
        seed = value.get("seed")
        if isinstance(seed, int) and not isinstance(seed, bool) and not 0 <= seed <= 2**31 - 1:
            raise ValueError(f"seed must be from 0 to {2**31 - 1}, got {seed}")
        SolveParams.from_dict(value)  # ConfigError (a ValueError) names every bad key
        return value

    def settings(self) -> tuple[float | None, int, dict[str, Any]]:
        """Return the search time asked for (``None``: the server's default), the seed, and the other settings.

        The other settings are the ``params`` that differ from the defaults, as
        stored on the job (without ``time_limit_s`` and ``seed``, which have columns).
        """
        from solver.params import SolveParams

        given = dict(self.params or {})
        limit = self.time_limit_s if self.time_limit_s is not None else given.get("time_limit_s")
        seed = self.seed if "seed" in self.model_fields_set or "seed" not in given else int(given["seed"])
        rest = SolveParams.from_dict(given).changed()
        rest.pop("time_limit_s", None)
        rest.pop("seed", None)
        return (None if limit is None else float(limit)), seed, rest


class JobRerun(BaseModel):
    """Optional new search settings for a re-run."""

    model_config = ConfigDict(extra="forbid")
    time_limit_s: float | None = Field(default=None, gt=0)


class JobProgress(BaseModel):
    """Progress of a job, written by its solver process.

    A *place* is one worker slot of a visit: a double-handed visit has two.
    """

    stage: str | None = Field(description="network, matrix, model, search, decode or done")
    elapsed_s: float | None = Field(description="Search time so far (s).")
    best_objective: int | None = Field(description="Best objective so far (travel s plus penalties).")
    assigned_places: int | None
    total_places: int | None
    solutions: int | None
    updated_at: dt.datetime | None


class JobErrorPublic(BaseModel):
    """Why a job failed."""

    message: str
    problems: list[ProblemPublic] = []


class JobPublic(BaseModel):
    """A solve job and its progress."""

    id: str
    kind: Literal["solve", "reoptimise", "scenario"]
    state: JobState
    plan_id: str
    roster_id: str | None
    previous_roster_id: str | None
    rerun_of: str | None
    time_limit_s: float
    seed: int
    params: dict[str, Any] = Field(default={}, description="Solver settings besides time limit and seed: the "
                                   "solver.SolveParams fields that differ from the defaults.")
    locked_stops: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    progress: JobProgress
    error: JobErrorPublic | None


class JobsPublic(BaseModel):
    """A page of jobs, newest first."""

    data: list[JobPublic]
    count: int


# --------------------------------------------------------------------------- schemas: rosters

RosterState = Literal["draft", "published", "superseded"]


class RosterSummary(BaseModel):
    """A stored roster, without its routes.

    ``state``: ``draft`` until a coordinator publishes it; ``published`` while it
    is the day's roster of at least one provider (``published_for``);
    ``superseded`` once every provider it was published for has another.
    """

    id: str
    plan_id: str
    job_id: str
    purpose: Literal["solve", "reoptimise", "scenario", "frontdoor", "import"]
    previous_roster_id: str | None
    date: dt.date
    created_at: dt.datetime
    kpis: dict[str, Any]
    violations: list[str]
    state: RosterState = "draft"
    published_for: list[str] = Field(default=[], description="Providers whose roster of the day this is.")


class PublishCreate(BaseModel):
    """Which providers a roster is published for."""

    model_config = ConfigDict(extra="forbid")
    provider_ids: list[str] | None = Field(
        default=None, max_length=1000,
        description="Providers of the roster's plan (default: every one). For each, this roster replaces "
                    "the one published before; other providers keep theirs.")


class RosterPublic(RosterSummary):
    """A stored roster with its routes (contract JSON)."""

    roster: dict[str, Any]


class RostersPublic(BaseModel):
    """A page of rosters, newest first."""

    data: list[RosterSummary]
    count: int


class ProviderVisit(BaseModel):
    """One stop of a provider's worker, with the least client data needed to do it."""

    visit_id: str
    worker_id: str
    start: str
    end: str
    duration_min: int
    postcode: str
    tasks: list[str]
    workers_required: int


class ProviderVisitsPublic(BaseModel):
    """A provider's visit list for a day: its own workers' stops only, by start time."""

    provider_id: str
    date: dt.date
    roster_id: str
    data: list[ProviderVisit]
    count: int


class WorkerStopPublic(BaseModel):
    """One stop of a worker's day."""

    visit_id: str
    arrival: str
    start: str
    end: str
    duration_min: int
    postcode: str
    tasks: list[str]
    travel_s: int
    workers_required: int


class WorkerDayPublic(BaseModel):
    """A worker's day: shift and stops in order."""

    worker_id: str
    provider_id: str
    date: dt.date
    roster_id: str
    shift_start: str
    shift_end: str
    departure: str | None
    return_arrival: str | None
    stops: list[WorkerStopPublic]


# --------------------------------------------------------------------------- schemas: changes

class RosterChange(BaseModel):
    """What changed on the day."""

    model_config = ConfigDict(extra="forbid")
    remove_workers: list[str] = Field(default=[], description="Workers off (sick): their stops are re-planned.")
    cancel_visits: list[str] = Field(default=[], description="Visits that no longer happen.")
    add_visits: list[dict[str, Any]] = Field(default=[], description="New visits, as in a plan.")
    add_clients: list[dict[str, Any]] = Field(default=[], description="Clients of new visits not yet in the plan.")


class ReoptimiseCreate(BaseModel):
    """Re-plan a roster after a change, keeping the stops that must stay."""

    model_config = ConfigDict(extra="forbid")
    changes: RosterChange
    lock_before: str | None = Field(
        default=None, pattern=r"^\d{1,2}:\d{2}$", examples=["11:00"],
        description="Stops starting before this time stay exactly as they are (already started or done).")
    keep_untouched_workers: bool = Field(
        default=False, description="Also keep every stop of workers the change does not touch.")
    time_limit_s: float | None = Field(default=None, gt=0)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)

    @field_validator("lock_before")
    @classmethod
    def _time_of_day(cls, value: str | None) -> str | None:
        from scheduler.timeutil import parse_hhmm

        if value is not None:
            parse_hhmm(value)  # ValueError names the bad time
        return value


class ScenarioChanges(BaseModel):
    """How a what-if differs from its base plan."""

    model_config = ConfigDict(extra="forbid")
    add_workers: list[dict[str, Any]] = Field(default=[], description="New workers, as in a plan.")
    remove_workers: list[str] = []
    travel_mode: TravelMode | None = Field(default=None, description="Every worker travels this way.")
    worker_travel_modes: dict[str, TravelMode] = Field(default={}, description="Travel mode per worker id.")
    demand_scale: float = Field(
        default=1.0, gt=0, le=5,
        description="Scale the number of visits: below 1 keeps a seeded sample, above 1 adds copies of "
                    "seeded picks (same client and window, ids suffixed ~2, ~3...).")


class ScenarioCreate(BaseModel):
    """A what-if on a stored plan."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=200)
    changes: ScenarioChanges
    base_roster_id: str | None = Field(
        default=None, description="Roster of the base plan to compare with; by default the newest, or a new "
                                  "solve with the same settings if the base has none.")
    time_limit_s: float | None = Field(default=None, gt=0)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class ScenarioSide(BaseModel):
    """One side of a comparison."""

    plan_id: str
    job_id: str | None
    state: JobState | Literal["done"]
    roster_id: str | None
    kpis: dict[str, Any] | None


class KpiComparison(BaseModel):
    """One KPI, side by side."""

    kpi: str
    base: float | int | None
    scenario: float | int | None
    change: float | int | None


class ScenarioPublic(BaseModel):
    """A what-if and its comparison with the base (filled in once both rosters exist)."""

    id: str
    name: str
    created_at: dt.datetime
    changes: dict[str, Any]
    base: ScenarioSide
    scenario: ScenarioSide
    comparison: list[KpiComparison]


# --------------------------------------------------------------------------- schemas: coordinator board

ChangeKind = Literal["moved", "reassigned", "dropped", "assigned", "cancelled", "added"]


class Placement(BaseModel):
    """Where a visit sat in a roster: one worker and start time (a double-handed visit has two)."""

    worker_id: str
    start: str


class VisitChange(BaseModel):
    """How one visit differs between a roster and the roster it was re-optimised from.

    ``moved``: same workers, another start; ``reassigned``: other workers;
    ``dropped``: now unassigned; ``assigned``: was unassigned; ``cancelled``: no
    longer in the plan; ``added``: new in the plan.
    """

    visit_id: str
    change: ChangeKind
    before: list[Placement]
    after: list[Placement]


class BoardStop(BaseModel):
    """One block of a worker's row: a visit (with the travel that led to it) or a rest break."""

    kind: Literal["visit", "break"]
    visit_id: str | None
    arrival: str
    start: str
    end: str
    travel_s: int = Field(description="Travel from the previous stop or from home (s).")
    travel_m: int
    visit_kind: str | None = Field(default=None, description="care, hairdressing, delivery or equipment.")
    window_start: str | None = None
    window_end: str | None = None
    priority: str | None = None
    workers_required: int = 1
    partners: list[str] = Field(default=[], description="The other workers of a double-handed visit shown here.")
    postcode: str = ""
    tasks: list[str] = []
    slack_min: int | None = Field(default=None, description="Minutes from the start to the window's end; "
                                                            "negative: late.")
    late: bool = False
    change: ChangeKind | None = None


class BoardRow(BaseModel):
    """One worker's row of the board."""

    worker_id: str
    name: str
    provider_id: str
    provider_kind: str
    travel_mode: str
    shift_start: str
    shift_end: str
    off: bool = Field(default=False, description="Taken off the day since the previous roster (sick).")
    departure: str | None
    return_arrival: str | None
    travel_s: int
    travel_m: int
    work_s: int
    stops: list[BoardStop]


class BoardUnassigned(BaseModel):
    """A visit nobody got, with the reason."""

    visit_id: str
    code: str
    reason: str
    visit_kind: str
    provider_id: str | None
    window_start: str
    window_end: str
    duration_min: int
    priority: str
    workers_required: int
    postcode: str
    change: ChangeKind | None = None


class BoardProvider(BaseModel):
    """A provider shown on the board."""

    id: str
    name: str
    kind: str


class BoardPublic(BaseModel):
    """A roster as the coordinator board shows it, cut to what the caller may see.

    Coordinators and planners see every worker; a ``provider:<id>`` key its own
    workers and visits; a ``worker:<provider id>:<worker id>`` key its own day. ``changes`` lists what
    moved since ``previous_roster_id`` (a re-optimised roster).
    """

    roster_id: str
    plan_id: str
    previous_roster_id: str | None
    purpose: str
    date: dt.date
    created_at: dt.datetime
    scope: str = Field(description="all, provider:<id> or worker:<provider id>:<worker id>.")
    can_reoptimise: bool
    can_publish: bool = False
    state: RosterState = "draft"
    published_for: list[str] = Field(default=[], description="Providers whose roster of the day this is "
                                                             "(for a provider or worker: their own only).")
    providers: list[BoardProvider]
    rows: list[BoardRow]
    unassigned: list[BoardUnassigned]
    kpis: dict[str, Any]
    violations: list[str]
    changes: list[VisitChange]


# --------------------------------------------------------------------------- schemas: audit

class AuditEntry(BaseModel):
    """One audit row."""

    at: dt.datetime
    key_id: str | None
    key_name: str
    role: str
    action: str
    resource: str
    client_id: str | None


class AuditPublic(BaseModel):
    """A page of audit rows, newest first."""

    data: list[AuditEntry]
    count: int
