"""Generate a realistic, reproducible day of home visits from candidate sites.

:func:`generate_plan` turns arrays of candidate coordinates (for instance the
routable nodes of a road network) into a validated
:class:`~scheduler.model.Plan` shaped by the figures in ``docs/DOMAIN.md``:

* three providers of different kinds: a home-care agency (``care``), a mobile
  hairdresser (``hairdressing``) and a supermarket's home delivery
  (``delivery``, vans with a capacity in crates sharing one depot);
* care calls in the four daily demand peaks (breakfast, lunch, tea, bed),
  1-4 calls per client, about 65% of visits 30 minutes long, a few 15-minute
  medication checks and about 15% double-handed visits needing a hoist;
* carers on morning, evening and long-day shifts, mostly driving, a few
  walking or cycling from homes near the centre; clients with gender
  preferences, an excluded carer or preferred carers;
* care rules: some carers on split shifts (two ``availability`` windows with an
  unpaid afternoon break), hours already worked this week
  (``week_worked_min``), each care client's regular carers over the last 28
  days (``history``, from which preferred carers are drawn), linked visits at
  one client (groceries delivered before the lunch call, a haircut after the
  breakfast call), and each provider's pay model for the minimum-wage check.

The workforce is sized from the demand so that the day is comfortably
feasible: in every peak the demanded carer-minutes (visit length plus a
travel allowance, double-handed visits counted twice) are at most
:attr:`DayProfile.target_peak_load` of the carer-minutes available (on shift
and inside the carer's availability windows), every
skill and gender requirement is matched by enough carers on shift, and every
visit has spare eligible workers (:data:`MIN_ELIGIBLE_SINGLE`,
:data:`MIN_ELIGIBLE_DOUBLE`) available when it can start. Hours worked earlier
in the week never leave a carer less of the weekly cap than their rota's peak
time (plus :data:`WEEK_CAP_RESERVE_MIN`), and links are only made where the
two windows leave plenty of start times that keep the gap, so every mandatory
visit stays servable when the solver honours availability, links, breaks and
working-time limits. Providers keep the default rest break (20 minutes in the
middle third of each stint over 6 hours): on every care rota that window
reaches into a lull between peaks, so breaks need no peak time. The same
``seed`` always gives the same plan.

This module needs NumPy only; :func:`solver.generate.generate_day` picks the
sites from a road network.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scheduler.eligibility import eligibility
from scheduler.io import plan_from_dict
from scheduler.model import DEFAULT_WEEKLY_CAP_MIN, PayModel, Plan, TimeWindow, Visit, Worker
from scheduler.text import counted
from scheduler.timeutil import format_hhmm

__all__ = [
    "CARE_SHIFTS",
    "DEFAULT_DATE",
    "DELIVERY_SLOTS",
    "DayProfile",
    "HAIR_PERIOD",
    "PEAKS",
    "Period",
    "SPLIT_SHIFT_AVAILABILITY",
    "generate_plan",
    "generate_week",
    "peak_loads",
    "week_file",
    "week_roster_file",
    "week_profile",
    "write_week",
]

_H = 3600  # seconds per hour
_M = 60  # seconds per minute


@dataclass(frozen=True, slots=True)
class Period:
    """A named interval of the day, ``start_s`` to ``end_s`` (seconds since midnight)."""

    name: str
    start_s: int
    end_s: int

    @property
    def length_s(self) -> int:
        """Length of the period (seconds)."""
        return self.end_s - self.start_s

    @property
    def window(self) -> TimeWindow:
        """The period as a :class:`~scheduler.model.TimeWindow`."""
        return TimeWindow(self.start_s, self.end_s)

    def overlap_s(self, window: TimeWindow) -> int:
        """Return how long ``window`` overlaps this period (seconds)."""
        return max(0, min(self.end_s, window.end) - max(self.start_s, window.start))

    def __str__(self) -> str:
        """Return ``name HH:MM-HH:MM``."""
        return f"{self.name} {format_hhmm(self.start_s)}-{format_hhmm(self.end_s)}"


# --------------------------------------------------------------------------- domain figures

#: The Tuesday the bundled plans are for.
DEFAULT_DATE = dt.date(2026, 11, 24)

#: Care demand peaks (docs/DOMAIN.md "Size of the problem"): every care window lies inside one.
PEAKS = (
    Period("breakfast", 7 * _H, 10 * _H),
    Period("lunch", 11 * _H + 30 * _M, 13 * _H + 30 * _M),
    Period("tea", 16 * _H, 18 * _H),
    Period("bed", 19 * _H, 22 * _H),
)
_B, _L, _T, _BED = (p.name for p in PEAKS)

#: Which peaks a client with 1, 2, 3 or 4 calls a day is visited in, with probabilities.
#: One call is a lunch or medication call; four calls cover every peak.
CALL_PATTERNS: dict[int, tuple[tuple[tuple[str, ...], float], ...]] = {
    1: (((_B,), 0.4), ((_L,), 0.3), ((_BED,), 0.3)),
    2: (((_B, _BED), 0.6), ((_B, _T), 0.2), ((_L, _BED), 0.2)),
    3: (((_B, _L, _BED), 0.6), ((_B, _T, _BED), 0.4)),
    4: (((_B, _L, _T, _BED), 1.0),),
}
#: Share of care clients with 1, 2, 3 and 4 calls a day (mean about 2.8 calls).
CALLS_PER_DAY_P = {1: 0.15, 2: 0.25, 3: 0.25, 4: 0.35}

#: Care visit lengths (minutes) and shares: 30 min is about 65% of council-funded visits and
#: about 7% are 15-minute (medication) checks (docs/DOMAIN.md "Size of the problem").
CARE_DURATIONS_MIN = (15, 30, 45, 60)
CARE_DURATIONS_P = (0.07, 0.65, 0.16, 0.12)
#: Length of a medication-only check (minutes); such a visit is never double-handed.
MEDICATION_CHECK_MIN = 15
#: A double-handed visit (hoist transfer) lasts at least this long (minutes; NICE: 30 min).
DOUBLE_HANDED_MIN_DURATION = 30
#: Care window length and the step its start is rounded to (minutes).
CARE_WINDOW_MIN = 60
WINDOW_STEP_MIN = 15
#: A bed call's window starts early enough for the visit to end this long (minutes) before
#: the bed peak ends, when most carers' shifts end: time to travel home.
LAST_CALL_MARGIN_MIN = 15

#: Skills of the care trade (docs/DOMAIN.md "Rules a roster must respect").
CARE_SKILLS = ("hoist", "medication", "dementia", "catheter", "PEG")
#: Share of care clients whose every visit needs a skill because of their condition
#: (illustrative; hoists come with double-handed visits, medication per visit).
CLIENT_CONDITION_P = {"dementia": 0.20, "catheter": 0.06, "PEG": 0.03}
#: Share of the other care visits (not 15-minute checks) that include medication.
MEDICATION_VISIT_P = 0.30
#: Share of carers trained in each skill before top-ups for the day's needs (illustrative).
CARER_SKILL_P = {"hoist": 0.60, "medication": 0.80, "dementia": 0.50, "catheter": 0.25, "PEG": 0.12}
#: Share of care visits needing no skill (meal and social calls) that are ``high`` rather
#: than ``mandatory``; every visit needing a skill (hoist, medication, PEG…) is mandatory.
CARE_HIGH_PRIORITY_P = 0.25

#: Share of carers who are women (UK care workforce: about four in five).
FEMALE_CARER_P = 0.80
#: Clients with a gender preference (about 10%); of those, the share preferring a woman.
GENDER_PREFERENCE_P = 0.10
FEMALE_PREFERENCE_P = 0.85
#: Clients who exclude one carer (about 5%) and who name preferred carers.
EXCLUSION_P = 0.05
PREFERRED_P = 0.20
#: Most preferred carers a client names.
MAX_PREFERRED = 2

#: Care shifts: morning covers breakfast and lunch, evening tea and bed, a long day
#: breakfast to tea, a split day all four peaks; a split shift is a split day whose
#: carer is available only in :data:`SPLIT_SHIFT_AVAILABILITY`. ``CARE_SHIFT_MIX`` is
#: the share of carers each shift aims at (split days and split shifts share theirs
#: per :attr:`DayProfile.split_shift_share`).
CARE_SHIFTS = (
    Period("morning", 7 * _H, 14 * _H + 30 * _M),
    Period("evening", 15 * _H + 30 * _M, 22 * _H + 30 * _M),
    Period("long day", 7 * _H, 19 * _H),
    Period("split day", 7 * _H, 22 * _H),
    Period("split shift", 7 * _H, 22 * _H),
)
#: Most carers work split days across all four peaks with unpaid gaps between
#: them: that is how a carer makes the 15-20 visits a day of docs/DOMAIN.md.
CARE_SHIFT_MIX = {"morning": 0.05, "evening": 0.05, "long day": 0.0, "split day": 0.90, "split shift": 0.0}
#: The two parts of a split shift: breakfast and lunch, then tea and bed, with an unpaid
#: break in the afternoon lull (no care window starts between them).
SPLIT_SHIFT_AVAILABILITY = (Period("split morning", 7 * _H, 14 * _H), Period("split evening", 16 * _H, 22 * _H))
#: Availability windows per care shift; shifts not listed are available throughout.
CARE_AVAILABILITY: dict[str, tuple[Period, ...]] = {"split shift": SPLIT_SHIFT_AVAILABILITY}
#: Fewest carers on shift in any peak: a double-handed visit needs three eligible carers.
MIN_CARERS_PER_PEAK = 3

#: Mobile hairdresser: visits start in these windows, all inside 10:00-16:00.
HAIR_PERIOD = Period("hairdressing", 10 * _H, 16 * _H)
HAIR_WINDOWS = tuple((h * _H, (h + 2) * _H) for h in (10, 11, 12, 13))
HAIR_DURATIONS_MIN = (45, 60)
HAIR_PRIORITIES = ("normal", "low")
HAIR_PRIORITIES_P = (0.7, 0.3)
HAIR_SHIFT = Period("hairdressing", 9 * _H + 30 * _M, 16 * _H + 30 * _M)
FEMALE_HAIRDRESSER_P = 0.80

#: Supermarket home delivery: 2-hour slots, 10-15 minute drops of 1-4 crates.
DELIVERY_SLOTS = tuple(Period(f"slot {h:02d}", h * _H, (h + 2) * _H) for h in range(8, 20, 2))
DELIVERY_DURATION_MIN = (10, 15)
DELIVERY_CRATES = (1, 2, 3, 4)
DELIVERY_CRATES_P = (0.35, 0.35, 0.20, 0.10)
#: Crates a van carries in one round (vans do not reload during a shift).
VAN_CAPACITY_CRATES = 20
#: Share of a van's capacity its shift's orders fill at most: with drops of 1-4 crates,
#: a quarter spare means the orders always pack into the vans.
VAN_FILL_TARGET = 0.75
#: Van shifts: early vans serve slots starting before :data:`LATE_VAN_FIRST_SLOT_S`.
VAN_SHIFTS = (
    Period("early", 7 * _H + 30 * _M, 15 * _H + 30 * _M),
    Period("late", 12 * _H + 30 * _M, 20 * _H + 30 * _M),
)
LATE_VAN_FIRST_SLOT_S = 14 * _H
MALE_DRIVER_P = 0.75

#: Carers walking or cycling instead of driving (docs/DOMAIN.md: "some walk or cycle in towns").
WALK_P = 0.05
CYCLE_P = 0.08
#: Walkers and cyclists live within this distance of the sites' centre (metres).
CENTRAL_RADIUS_M = 1500.0
#: Share of hairdressing and delivery clients who are not also care clients.
NON_CARE_CLIENT_P = 0.5

#: Fewest eligible workers for a single- and a double-handed care visit (spare carers).
MIN_ELIGIBLE_SINGLE = 2
MIN_ELIGIBLE_DOUBLE = 3
#: Rounds of skill top-ups before giving up (each round fixes every shortfall it finds).
MAX_REPAIR_ROUNDS = 20

#: Travel counted per visit when sizing the workforce (minutes): docs/DOMAIN.md gives about
#: 3 miles between visits, some 10 minutes by car in town.
TRAVEL_ALLOWANCE_MIN = 10

#: Hours a carer has already worked this week are drawn in steps of this many minutes.
WEEK_WORKED_STEP_MIN = 15
#: What is left of the weekly cap always covers the peak time of a carer's rota plus
#: this much (minutes), so that the cap never takes a carer out of a peak.
WEEK_CAP_RESERVE_MIN = 60
#: A link is made only if at least this many minutes of the later visit's window
#: have a start that keeps the gap for some start of the earlier visit.
LINK_MIN_ROOM_MIN = 45

EARTH_RADIUS_M = 6_371_008.8

#: Cambridge postcode districts by compass bearing from the centre (degrees clockwise from
#: north, sector start): CB4 north, CB5 north-east, CB1 east and south-east, CB2 south
#: and the centre, CB3 west. Postcodes are plausible, not real.
POSTCODE_SECTORS = ((0.0, "CB4"), (30.0, "CB5"), (80.0, "CB1"), (160.0, "CB2"), (250.0, "CB3"),
                    (315.0, "CB4"))
#: Within this distance of the centre (metres) every client is in the city-centre district.
POSTCODE_CENTRE_RADIUS_M = 700.0
POSTCODE_CENTRE_DISTRICT = "CB2"
#: Letters used in the inward part of UK postcodes (C, I, K, M, O and V are never used).
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

PROVIDERS = {
    "care": {"id": "care-cam", "name": "Cambridge Home Care", "kind": "care"},
    "hairdressing": {"id": "hair-mobile", "name": "Mobile Hair at Home", "kind": "hairdressing"},
    "delivery": {"id": "grocer-home", "name": "Supermarket Home Delivery", "kind": "delivery"},
}
#: The council's equipment service: in a plan only when it has installation visits (``DayProfile.equipment_share``).
EQUIPMENT_PROVIDER = {"id": "equip-county", "name": "County Equipment Service", "kind": "equipment"}
_PROVIDER_IDS = {kind: p["id"] for kind, p in (*PROVIDERS.items(), ("equipment", EQUIPMENT_PROVIDER))}

#: Equipment the council rents by subscription, with how long an installation takes (minutes).
EQUIPMENT_ITEMS: dict[str, tuple[int, ...]] = {"hoist": (60, 75, 90), "bath_lift": (60, 90),
                                               "key_safe": (45,), "personal_alarm": (45, 60)}
#: When installations may start: windows of :data:`INSTALL_WINDOW_MIN` from these times.
INSTALL_STARTS = tuple(h * _H + m * _M for h in range(8, 14) for m in (0, 30))
INSTALL_WINDOW_MIN = 120
#: A new hoist goes in early (its window starts by 09:00), so the day's later transfers can use it.
HOIST_INSTALL_STARTS = (8 * _H, 8 * _H + 30 * _M, 9 * _H)
#: Technicians' shift, and the share of new subscriptions that are hoists for double-handed clients.
TECHNICIAN_SHIFT = Period("technician", 8 * _H, 17 * _H)
NEW_HOIST_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class DayProfile:
    """Knobs of a generated day; the defaults follow ``docs/DOMAIN.md``.

    Parameters
    ----------
    hair_share
        Share of visits that are mobile hairdressing.
    delivery_share
        Share of visits that are grocery deliveries.
    double_handed_share
        Share of care visits that are double-handed (docs/DOMAIN.md: 10-20%).
    travel_allowance_min
        Travel time counted per visit when sizing the workforce (minutes; docs/DOMAIN.md:
        about 3 miles between visits).
    target_peak_load
        Share of available worker time the workforce is sized to be busy in each peak.
    max_peak_load
        Highest share of available worker time any peak, skill or gender may demand.
    split_shift_share
        Share of the carers on 07:00-22:00 days who work a split shift: available
        only in :data:`SPLIT_SHIFT_AVAILABILITY`.
    week_worked_max_min
        Most minutes a carer has worked earlier in the week (drawn uniformly from 0;
        capped so that the weekly cap leaves their rota's peak time free).
    regular_carers
        Fewest and most regular carers of each care client (``history``).
    history_visits
        Fewest and most visits each regular carer made to the client in the last 28 days.
    grocery_link_share
        Share of the deliveries in a slot that can precede a lunch call that go to a
        care client with such a call and are linked ``before`` it; every other delivery
        to such a client whose windows allow it is linked too.
    grocery_gap_min
        Least and most minutes from the end of a linked delivery to the start of the lunch call.
    hair_gap_min
        Least minutes from the end of the breakfast call to the start of a linked haircut
        (every haircut of a care client with a breakfast call whose windows allow it).
    equipment_share
        Share of visits that are installations of rented equipment by the council's equipment
        service (:data:`EQUIPMENT_PROVIDER`, technicians sized to them); 0 (the default) gives no
        equipment service. Double-handed clients then rent a hoist: some installed today (their later
        transfers need it, ``needs_equipment``), the others earlier (client ``equipment``).
    care_pay, hair_pay, delivery_pay
        Pay model of the care agency, the hairdresser and the supermarket, or ``None``.

    Raises
    ------
    ValueError
        If a share is outside its range or the loads are out of order.
    """

    hair_share: float = 0.025
    delivery_share: float = 0.06
    double_handed_share: float = 0.15
    travel_allowance_min: int = TRAVEL_ALLOWANCE_MIN
    target_peak_load: float = 0.85
    max_peak_load: float = 0.90
    split_shift_share: float = 0.3
    week_worked_max_min: int = 40 * 60
    regular_carers: tuple[int, int] = (2, 4)
    history_visits: tuple[int, int] = (4, 20)
    grocery_link_share: float = 0.5
    grocery_gap_min: tuple[int, int] = (0, 60)
    hair_gap_min: int = 30
    equipment_share: float = 0.0
    #: Contact time only: travel and waiting unpaid, as is common in home care.
    care_pay: PayModel | None = PayModel("hourly", hourly_rate=15.00, paid_time="contact")
    hair_pay: PayModel | None = PayModel("hourly", hourly_rate=14.00, paid_time="span")
    delivery_pay: PayModel | None = PayModel("hourly", hourly_rate=13.00, paid_time="span")

    def __post_init__(self) -> None:
        problems = []
        for name in ("split_shift_share", "grocery_link_share"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                problems.append(f"`{name}` must be in [0, 1], got {value}")
        if not 0 <= self.week_worked_max_min <= DEFAULT_WEEKLY_CAP_MIN:
            problems.append(f"`week_worked_max_min` must be in [0, {DEFAULT_WEEKLY_CAP_MIN}], "
                            f"got {self.week_worked_max_min}")
        for name, low in (("regular_carers", 0), ("history_visits", 1), ("grocery_gap_min", 0)):
            lo, hi = getattr(self, name)
            if not low <= lo <= hi:
                problems.append(f"`{name}` must be (least, most) with {low} <= least <= most, got {(lo, hi)}")
        if self.hair_gap_min < 0:
            problems.append(f"`hair_gap_min` must not be negative, got {self.hair_gap_min}")
        for name in ("hair_share", "delivery_share", "double_handed_share", "equipment_share"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                problems.append(f"`{name}` must be in [0, 1), got {value}")
        if self.hair_share + self.delivery_share + self.equipment_share >= 1:
            problems.append("`hair_share` + `delivery_share` must leave room for care visits")
        if self.travel_allowance_min < 0:
            problems.append(f"`travel_allowance_min` must not be negative, got {self.travel_allowance_min}")
        if not 0 < self.target_peak_load <= self.max_peak_load <= 1:
            problems.append(
                "`target_peak_load` and `max_peak_load` must satisfy 0 < target <= max <= 1, "
                f"got {self.target_peak_load} and {self.max_peak_load}")
        if problems:
            raise ValueError("; ".join(problems))


# --------------------------------------------------------------------------- drafts

@dataclass
class _ClientDraft:
    id: str
    site: int
    postcode: str
    needs: set[str] = field(default_factory=set)
    double: bool = False
    care_only: bool = True
    gender_preference: str | None = None
    preferred: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    #: Regular carers and their visits in the last 28 days, most visits first.
    regulars: list[tuple[str, int]] = field(default_factory=list)
    equipment: list[tuple[str, int | None]] = field(default_factory=list)


@dataclass
class _VisitDraft:
    client: int
    kind: str
    provider_id: str | None
    start_s: int
    end_s: int
    duration_min: int
    skills: set[str]
    workers_required: int = 1
    priority: str = "mandatory"
    demand: int = 0
    tasks: tuple[str, ...] = ()
    #: ``("before" | "after", other visit, least gap, most gap)`` in minutes, or ``None``.
    link: tuple[str, _VisitDraft, int, int | None] | None = None
    installs: str | None = None
    needs: tuple[str, ...] = ()


@dataclass
class _WorkerDraft:
    id: str
    provider_id: str
    name: str
    shift: Period
    home: tuple[float, float]
    end: tuple[float, float]
    skills: set[str] = field(default_factory=set)
    gender: str = "f"
    travel_mode: str = "drive"
    capacity: int | None = None
    site: int = -1
    availability: tuple[Period, ...] = ()
    week_worked_min: int = 0

    @property
    def windows(self) -> tuple[Period, ...]:
        """When the worker can be on a visit: the availability windows, or the whole shift."""
        return self.availability or (self.shift,)


# --------------------------------------------------------------------------- public API

def generate_plan(
    site_lat: Sequence[float] | np.ndarray,
    site_lon: Sequence[float] | np.ndarray,
    *,
    seed: int,
    n_visits: int = 300,
    n_workers: int | None = None,
    date: dt.date | str = DEFAULT_DATE,
    network: str | None = None,
    profile: DayProfile | None = None,
) -> Plan:
    """Generate one realistic, comfortably feasible day of visits.

    Clients and workers' homes are drawn from the candidate sites. The carer
    workforce is sized per shift from the care demand of each peak (see the
    module docstring); hairdressers and vans are sized from their own visits
    and crates. The same arguments always give an equal plan.

    Parameters
    ----------
    site_lat, site_lon
        Latitudes and longitudes of candidate sites (degrees), e.g. road nodes.
    seed
        Seed of :func:`numpy.random.default_rng`.
    n_visits
        Number of visits of every kind.
    n_workers
        Number of workers of every provider. ``None`` sizes the workforce from
        the demand; a number must be at least that size, and carers beyond it
        join the shifts of the busiest peaks.
    date
        The plan's date (a date or ``YYYY-MM-DD``).
    network
        Road network path to write into the plan, or ``None``.
    profile
        Shares and load targets; ``None`` uses :class:`DayProfile` defaults.

    Returns
    -------
    Plan
        A validated plan in which every visit has enough eligible workers.

    Raises
    ------
    ValueError
        If the sites are empty, unequal in length or not coordinates, ``n_visits``
        is below 1, or ``n_workers`` is too small for the demand (the message
        gives the smallest workable number).
    """
    lat, lon = _check_sites(site_lat, site_lon)
    if isinstance(n_visits, bool) or not isinstance(n_visits, int | np.integer) or n_visits < 1:
        raise ValueError(f"`n_visits` must be a whole number of at least 1, got {n_visits!r}")
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    profile = profile or DayProfile()
    rng = np.random.default_rng(seed)
    xy = _project(lat, lon)
    centre = xy.mean(axis=0)

    n_hair = round(n_visits * profile.hair_share)
    n_delivery = round(n_visits * profile.delivery_share)
    n_equipment = round(n_visits * profile.equipment_share)
    n_care = n_visits - n_hair - n_delivery - n_equipment

    clients: list[_ClientDraft] = []
    visits = _care_visits(rng, n_care, clients, xy, centre, profile)
    visits += _other_visits(rng, n_hair, n_delivery, clients, xy, centre, visits, profile)
    _link_visits(clients, visits, profile)

    carers = _size_carers(visits, profile)
    hairdressers = _size_hairdressers(visits, profile)
    vans = _size_vans(visits, profile)
    needed = sum(carers.values()) + hairdressers + sum(vans.values())
    if n_workers is not None:
        if n_workers < needed:
            raise ValueError(
                f"`n_workers`={n_workers} is too few for {counted(n_visits, 'visit')}: keeping every peak at "
                f"most {profile.target_peak_load:.0%} busy needs {counted(needed, 'worker')} "
                f"({counted(sum(carers.values()), 'carer')}, {counted(hairdressers, 'hairdresser')}, "
                f"{counted(sum(vans.values()), 'van')}); "
                f"pass n_workers >= {needed}, n_workers=None, or fewer visits")
        _add_carers(carers, n_workers - needed, visits, profile)

    workers = _workers(rng, carers, hairdressers, vans, lat, lon, xy, centre, profile)
    if n_equipment:
        # Its own stream of draws: the rest of the day is the same as without equipment.
        _equipment(np.random.default_rng([seed, 1]), n_equipment, clients, visits, workers, lat, lon, xy,
                   centre, profile)
    _client_preferences(rng, clients, visits, workers)
    _repair(rng, clients, visits, workers, lat, lon, date, network, seed, profile)
    # Regular carers are drawn from those who can serve the client once skills are topped up.
    _continuity(rng, clients, visits, workers, xy, profile)
    plan = plan_from_dict(_plan_dict(clients, visits, workers, lat, lon, date, network, seed, profile))
    _check_plan(plan, profile)
    return plan


#: Weekdays (Monday 0) a hairdresser and the equipment service work; deliveries come on two days three apart.
WORKING_WEEK = (0, 1, 2, 3, 4)
DELIVERY_DAY_PAIRS = ((0, 3), (1, 4), (2, 5))


def week_profile(profile: DayProfile | None = None) -> DayProfile:
    """Return the profile of a generated week: ``profile`` (or the defaults) with equipment installations on."""
    base = profile or DayProfile()
    if base.equipment_share:
        return base
    return dataclasses.replace(base, equipment_share=0.02)


def generate_week(
    site_lat: Sequence[float] | np.ndarray,
    site_lon: Sequence[float] | np.ndarray,
    *,
    seed: int,
    n_visits: int = 300,
    start: dt.date | str = DEFAULT_DATE,
    days: int = 7,
    network: str | None = None,
    profile: DayProfile | None = None,
) -> list[Plan]:
    """Generate a week of plans, one per date: the same clients, their recurring care, shifts by weekday.

    One day is generated as :func:`generate_plan` does (with equipment installations on,
    :func:`week_profile`), and each date takes from it:

    * every care call, every day (a client's morning care every morning), under the same visit id;
    * each haircut on one working weekday (:data:`WORKING_WEEK`): a weekly hairdresser;
    * each delivery on two days three apart (:data:`DELIVERY_DAY_PAIRS`): groceries twice a week;
    * each installation on one working weekday; a hoist's transfers need it from that day's
      installation on, and on later days it is in place (installed on an earlier day);
    * the workers who have visits of their provider that day: the carers every day, the
      hairdressers and technicians on working weekdays only, the vans on delivery days
      (fewer staff at the weekend);
    * the same history (regular carers), so continuity of care holds through the week.

    A link to a visit that is not on that date is dropped. The same arguments always give
    equal plans.

    Parameters
    ----------
    site_lat, site_lon
        Latitudes and longitudes of candidate sites (degrees).
    seed
        Seed of the generator.
    n_visits
        Visits of the generated day (a date has its care calls and a share of the rest).
    start
        The first date (a date or ``YYYY-MM-DD``).
    days
        Number of dates, at least 1.
    network
        Road network path to write into each plan, or ``None``.
    profile
        Shares and load targets; ``None`` uses the defaults (equipment on).

    Returns
    -------
    list of Plan
        One validated plan per date, in date order.

    Raises
    ------
    ValueError
        If ``days`` is below 1, or as :func:`generate_plan`.
    """
    from scheduler.io import plan_to_dict

    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"`days` must be a whole number of at least 1, got {days!r}")
    if isinstance(start, str):
        start = dt.date.fromisoformat(start)
    base = plan_to_dict(generate_plan(site_lat, site_lon, seed=seed, n_visits=n_visits, date=start,
                                      network=network, profile=week_profile(profile)))
    rng = np.random.default_rng([seed, 2])
    weekday_of: dict[str, tuple[int, ...]] = {}
    for v in base["visits"]:
        if v["kind"] in ("hairdressing", "equipment"):
            weekday_of[v["id"]] = (WORKING_WEEK[int(rng.integers(len(WORKING_WEEK)))],)
        elif v["kind"] == "delivery":
            weekday_of[v["id"]] = DELIVERY_DAY_PAIRS[int(rng.integers(len(DELIVERY_DAY_PAIRS)))]
    installs = {(v["client_id"], v["installs"]): v["id"] for v in base["visits"] if v.get("installs")}
    plans = []
    for offset in range(days):
        date = start + dt.timedelta(days=offset)
        plans.append(plan_from_dict(_week_day(base, date, start, weekday_of, installs)))
    return plans


def week_file(date: dt.date) -> str:
    """Return the file name of a week's plan for ``date``: ``plan-YYYY-MM-DD.json``."""
    return f"plan-{date.isoformat()}.json"


def week_roster_file(date: dt.date) -> str:
    """Return the file name of a week's roster for ``date`` (``homecare solve-week`` writes it, ``publish-week``
    reads it): ``roster-YYYY-MM-DD.json``."""
    return f"roster-{date.isoformat()}.json"


def write_week(plans: Sequence[Plan], folder: str | Path) -> list[Path]:
    """Write each plan of a week into ``folder`` (made if missing) as :func:`week_file` of its date.

    Parameters
    ----------
    plans
        The week's plans, e.g. from :func:`generate_week`.
    folder
        The folder.

    Returns
    -------
    list of Path
        The files written, in the plans' order.
    """
    from scheduler.io import write_plan

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_plan(plan, folder / week_file(plan.date)) for plan in plans]


def _week_day(base: dict[str, Any], date: dt.date, start: dt.date, weekday_of: dict[str, tuple[int, ...]],
              installs: dict[tuple[str, str], str]) -> dict[str, Any]:
    """The plan of one date of a generated week, from the week's base day (see :func:`generate_week`)."""
    weekday = date.weekday()

    def install_day(client_id: str, item: str) -> dt.date:
        """The date of the item's installation (its weekday in the first seven days from ``start``)."""
        weekday_installed = weekday_of[installs[(client_id, item)]][0]
        return start + dt.timedelta(days=(weekday_installed - start.weekday()) % 7)

    keep = [v for v in base["visits"] if weekday in weekday_of.get(v["id"], (weekday,))
            and (not v.get("installs") or install_day(v["client_id"], v["installs"]) == date)]
    ids = {v["id"] for v in keep}

    visits = []
    for v in keep:
        v = {k: val for k, val in v.items() if k not in ("after", "before") or val["visit_id"] in ids}
        needs = [item for item in v.get("needs_equipment", ())
                 if (v["client_id"], item) not in installs or install_day(v["client_id"], item) <= date]
        v.pop("needs_equipment", None)
        if needs:
            v["needs_equipment"] = needs
        visits.append(v)
    clients = []
    for c in base["clients"]:
        c = dict(c)
        had = [e["item"] for e in c.get("equipment", ())]
        done = sorted(item for (cid, item) in installs if cid == c["id"] and install_day(cid, item) < date)
        if had or done:
            c["equipment"] = [{"item": item} for item in sorted(set(had) | set(done))]
        clients.append(c)
    working = {v["provider_id"] for v in visits if v.get("provider_id")} | {
        p["id"] for p in base["providers"] if p["kind"] == "care"}
    return {**base, "date": date.isoformat(),
            "generator": {**base.get("generator", {}), "week_start": start.isoformat()},
            "workers": [w for w in base["workers"] if w["provider_id"] in working],
            "clients": clients, "visits": visits}


def peak_loads(plan: Plan, *, travel_allowance_min: int = TRAVEL_ALLOWANCE_MIN) -> dict[str, float]:
    """Return the share of on-shift care time each peak's care visits demand.

    A visit belongs to the peak its window starts in; it demands its length
    plus ``travel_allowance_min``, twice when double-handed. Supply is the
    carer time inside the peak that is on shift and, for carers with
    ``availability`` windows (split shifts), inside one of them.

    Parameters
    ----------
    plan
        A plan with care visits.
    travel_allowance_min
        Travel counted per visit (minutes).

    Returns
    -------
    dict
        Peak name to demanded share of carer time (``inf`` if nobody is on shift).
    """
    kinds = {p.id: p.kind for p in plan.providers}
    carers = [w for w in plan.workers if kinds[w.provider_id] == "care"]
    care = [v for v in plan.visits if v.kind == "care"]
    return {p.name: _load(care, carers, p, travel_allowance_min) for p in PEAKS}


def _available_s(period: Period, worker: Worker) -> int:
    """Time a plan's worker is available inside ``period`` (seconds)."""
    return sum(period.overlap_s(w) for w in (worker.availability or (worker.shift,)))


# --------------------------------------------------------------------------- sites

def _check_sites(site_lat: Any, site_lon: Any) -> tuple[np.ndarray, np.ndarray]:
    lat = np.asarray(site_lat, dtype=float).ravel()
    lon = np.asarray(site_lon, dtype=float).ravel()
    problems = []
    if lat.shape != lon.shape:
        problems.append(f"`site_lat` and `site_lon` must be of equal length, got {lat.size} and {lon.size}")
    elif lat.size == 0:
        problems.append("`site_lat` and `site_lon` must hold at least one site")
    if lat.size and not (np.isfinite(lat).all() and (np.abs(lat) <= 90).all()):
        problems.append("`site_lat` must hold latitudes between -90 and 90 degrees")
    if lon.size and not (np.isfinite(lon).all() and (np.abs(lon) <= 180).all()):
        problems.append("`site_lon` must hold longitudes between -180 and 180 degrees")
    if problems:
        raise ValueError("; ".join(problems))
    return lat, lon


def _project(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Project degrees to local planar metres (east, north) around the sites' mean."""
    lat0 = np.radians(lat.mean())
    x = EARTH_RADIUS_M * np.radians(lon - lon.mean()) * np.cos(lat0)
    y = EARTH_RADIUS_M * np.radians(lat - lat.mean())
    return np.column_stack([x, y])


def _postcode(rng: np.random.Generator, xy: np.ndarray, centre: np.ndarray) -> str:
    dx, dy = xy - centre
    if math.hypot(dx, dy) < POSTCODE_CENTRE_RADIUS_M:
        district = POSTCODE_CENTRE_DISTRICT
    else:
        bearing = math.degrees(math.atan2(dx, dy)) % 360
        district = [d for start, d in POSTCODE_SECTORS if bearing >= start][-1]
    letters = rng.choice(list(POSTCODE_LETTERS), size=2)
    return f"{district} {int(rng.integers(0, 10))}{letters[0]}{letters[1]}"


def _new_client(rng: np.random.Generator, clients: list[_ClientDraft], site: int, xy: np.ndarray,
                centre: np.ndarray) -> int:
    clients.append(_ClientDraft(id="", site=site, postcode=_postcode(rng, xy[site], centre)))
    return len(clients) - 1


def _free_site(rng: np.random.Generator, used: set[int], n_sites: int) -> int:
    """Draw a site no client lives at yet (any site once all are taken)."""
    if len(used) >= n_sites:
        return int(rng.integers(n_sites))
    while True:
        site = int(rng.integers(n_sites))
        if site not in used:
            used.add(site)
            return site


# --------------------------------------------------------------------------- demand

def _choice(rng: np.random.Generator, options: Sequence[Any], p: Sequence[float]) -> Any:
    return options[int(rng.choice(len(options), p=np.asarray(p) / np.sum(p)))]


def _care_visits(rng: np.random.Generator, n_care: int, clients: list[_ClientDraft], xy: np.ndarray,
                 centre: np.ndarray, profile: DayProfile) -> list[_VisitDraft]:
    """Draw care clients and their calls until there are ``n_care`` care visits."""
    used: set[int] = set()
    calls: list[tuple[str, ...]] = []
    total = 0
    while total < n_care:
        n = min(_choice(rng, list(CALLS_PER_DAY_P), list(CALLS_PER_DAY_P.values())), n_care - total)
        patterns = CALL_PATTERNS[n]
        calls.append(_choice(rng, [p for p, _ in patterns], [w for _, w in patterns]))
        client = clients[_new_client(rng, clients, _free_site(rng, used, len(xy)), xy, centre)]
        client.needs = {s for s, p in CLIENT_CONDITION_P.items() if rng.random() < p}
        total += n

    # Double-handed clients (hoist transfers at every call) until their visits reach the share.
    target = round(profile.double_handed_share * n_care)
    doubled = 0
    for i in rng.permutation(len(clients)):
        if doubled + len(calls[i]) <= target:
            clients[i].double = True
            doubled += len(calls[i])

    peaks = {p.name: p for p in PEAKS}
    visits = []
    for i, client in enumerate(clients):
        for peak_name in calls[i]:
            peak = peaks[peak_name]
            steps = (peak.length_s // _M - CARE_WINDOW_MIN) // WINDOW_STEP_MIN
            start = peak.start_s + int(rng.integers(0, steps + 1)) * WINDOW_STEP_MIN * _M
            duration = int(_choice(rng, CARE_DURATIONS_MIN, CARE_DURATIONS_P))
            skills = set(client.needs)
            if client.double:
                duration = max(duration, DOUBLE_HANDED_MIN_DURATION)
                skills.add("hoist")
            if peak is PEAKS[-1]:
                # The last call of the day can end in time for the carers to get home.
                latest = peak.end_s - LAST_CALL_MARGIN_MIN * _M - duration * _M
                start = min(start, peak.start_s + (latest - peak.start_s) // (WINDOW_STEP_MIN * _M)
                            * WINDOW_STEP_MIN * _M)
            medication = duration == MEDICATION_CHECK_MIN or rng.random() < MEDICATION_VISIT_P
            if medication:
                skills.add("medication")
            high = not skills and rng.random() < CARE_HIGH_PRIORITY_P
            tasks = {_B: ("personal care", "breakfast"), _L: ("lunch",), _T: ("tea",),
                     _BED: ("personal care", "bed")}[peak_name]
            if duration == MEDICATION_CHECK_MIN:
                tasks = ("medication check",)
            elif medication:
                tasks = (*tasks, "medication")
            visits.append(_VisitDraft(
                client=i, kind="care", provider_id=None, start_s=start,
                end_s=start + CARE_WINDOW_MIN * _M, duration_min=duration, skills=skills,
                workers_required=2 if client.double else 1,
                priority="high" if high else "mandatory", tasks=tasks))
    return visits


def _peak_of(visit: _VisitDraft) -> str | None:
    return next((p.name for p in PEAKS if p.start_s <= visit.start_s < p.end_s), None)


def _calls(visits: Sequence[_VisitDraft]) -> dict[int, dict[str, _VisitDraft]]:
    """Each care client's care visits by peak name."""
    calls: dict[int, dict[str, _VisitDraft]] = {}
    for v in visits:
        if v.kind == "care":
            calls.setdefault(v.client, {})[_peak_of(v) or ""] = v
    return calls


def _link_room_min(first: _VisitDraft, then: _VisitDraft, duration_min: int, gap_lo: int,
                   gap_hi: int | None) -> int:
    """Minutes of either window whose starts can keep the link's gap (the smaller of the two).

    ``then`` must start ``gap_lo``..``gap_hi`` minutes after ``first`` (lasting
    ``duration_min``) ends; ``gap_hi`` ``None`` is no upper limit.
    """
    d, lo, hi = duration_min * _M, gap_lo * _M, math.inf if gap_hi is None else gap_hi * _M
    then_room = min(then.end_s, first.end_s + d + hi) - max(then.start_s, first.start_s + d + lo)
    first_room = min(first.end_s, then.end_s - d - lo) - max(first.start_s, then.start_s - d - hi)
    return int(max(0, min(then_room, first_room)) // _M)


def _other_visits(rng: np.random.Generator, n_hair: int, n_delivery: int, clients: list[_ClientDraft],
                  xy: np.ndarray, centre: np.ndarray, care: Sequence[_VisitDraft],
                  profile: DayProfile) -> list[_VisitDraft]:
    """Draw hairdressing and grocery visits, half for care clients and half for new clients.

    A share (:attr:`DayProfile.grocery_link_share`) of the deliveries whose slot can
    precede a lunch call go to a care client with such a call (and are linked to it
    by :func:`_link_visits`): groceries arrive for the carer to make lunch with.
    """
    used = {c.site for c in clients}
    n_care_clients = len(clients)
    lunches = {i: calls[_L] for i, calls in _calls(care).items() if _L in calls}
    gap_lo, gap_hi = profile.grocery_gap_min
    visits = []

    def client_for() -> int:
        if n_care_clients == 0 or rng.random() < NON_CARE_CLIENT_P:
            return _new_client(rng, clients, _free_site(rng, used, len(xy)), xy, centre)
        return int(rng.integers(n_care_clients))

    for _ in range(n_hair):
        start, end = HAIR_WINDOWS[int(rng.integers(len(HAIR_WINDOWS)))]
        visits.append(_VisitDraft(
            client=client_for(), kind="hairdressing", provider_id=PROVIDERS["hairdressing"]["id"],
            start_s=start, end_s=end, duration_min=int(rng.choice(HAIR_DURATIONS_MIN)), skills=set(),
            priority=_choice(rng, HAIR_PRIORITIES, HAIR_PRIORITIES_P), tasks=("haircut",)))
    # Supermarkets cap the orders per slot, so slots fill evenly (in random order).
    slots = rng.permutation(np.arange(n_delivery) % len(DELIVERY_SLOTS))
    for k in range(n_delivery):
        slot = DELIVERY_SLOTS[int(slots[k])]
        drop = _VisitDraft(
            client=-1, kind="delivery", provider_id=PROVIDERS["delivery"]["id"],
            start_s=slot.start_s, end_s=slot.end_s,
            duration_min=int(rng.integers(DELIVERY_DURATION_MIN[0], DELIVERY_DURATION_MIN[1] + 1)),
            skills=set(), priority="high",
            demand=int(_choice(rng, DELIVERY_CRATES, DELIVERY_CRATES_P)), tasks=("groceries",))
        taken = {v.client for v in visits if v.kind == "delivery"}
        fits = [i for i, lunch in lunches.items() if i not in taken
                and _link_room_min(drop, lunch, drop.duration_min, gap_lo, gap_hi) >= LINK_MIN_ROOM_MIN]
        if fits and rng.random() < profile.grocery_link_share:
            drop.client = int(fits[int(rng.integers(len(fits)))])
        else:
            drop.client = client_for()
        visits.append(drop)
    for v in visits:
        clients[v.client].care_only = False
    return visits


def _link_visits(clients: list[_ClientDraft], visits: list[_VisitDraft], profile: DayProfile) -> None:
    """Link groceries ``before`` the client's lunch call and a haircut ``after`` the breakfast call.

    Only where both windows leave at least :data:`LINK_MIN_ROOM_MIN` minutes of
    starts that keep the gap, so that a linked pair is always easy to serve.
    """
    calls = _calls(visits)
    gap_lo, gap_hi = profile.grocery_gap_min
    for v in visits:
        mine = calls.get(v.client, {})
        if v.kind == "delivery" and _L in mine:
            lunch = mine[_L]
            if _link_room_min(v, lunch, v.duration_min, gap_lo, gap_hi) >= LINK_MIN_ROOM_MIN:
                v.link = ("before", lunch, gap_lo, gap_hi)
        elif v.kind == "hairdressing" and _B in mine:
            breakfast = mine[_B]
            if _link_room_min(breakfast, v, breakfast.duration_min, profile.hair_gap_min, None) >= LINK_MIN_ROOM_MIN:
                v.link = ("after", breakfast, profile.hair_gap_min, None)


# --------------------------------------------------------------------------- workforce sizing

def _demand_s(visits: Sequence[_VisitDraft] | Sequence[Visit], period: Period, travel_min: int) -> int:
    """Worker-seconds demanded by visits whose window starts in ``period``."""
    total = 0
    for v in visits:
        start = v.start_s if isinstance(v, _VisitDraft) else v.window.start
        if period.start_s <= start < period.end_s:
            total += (v.duration_min + travel_min) * _M * v.workers_required
    return total


def _load(visits: Sequence[Visit], workers: Sequence[Worker], period: Period, travel_min: int) -> float:
    demand = _demand_s(visits, period, travel_min)
    supply = sum(_available_s(period, w) for w in workers)
    if demand == 0:
        return 0.0
    return demand / supply if supply else math.inf


def _rota_windows(shift: Period) -> tuple[Period, ...]:
    """When a carer on this care shift is available: its availability windows, or the whole shift."""
    return CARE_AVAILABILITY.get(shift.name, (shift,))


def _rota_overlap_s(peak: Period, shift: Period) -> int:
    """Available time of one carer on ``shift`` inside ``peak`` (seconds)."""
    return sum(peak.overlap_s(w.window) for w in _rota_windows(shift))


def _shift_mix(profile: DayProfile) -> dict[str, float]:
    """Share of carers each care shift aims at: split days and split shifts share the split-day share."""
    mix = dict(CARE_SHIFT_MIX)
    days = mix["split day"] + mix["split shift"]
    mix["split shift"] = days * profile.split_shift_share
    mix["split day"] = days - mix["split shift"]
    return mix


def _shift_loads(counts: dict[str, int], demand: dict[str, int]) -> dict[str, float]:
    loads = {}
    for p in PEAKS:
        supply = sum(counts[s.name] * _rota_overlap_s(p, s) for s in CARE_SHIFTS)
        loads[p.name] = demand[p.name] / supply if supply else math.inf
    return loads


def _on_shift(counts: dict[str, int], peak: Period) -> int:
    return sum(counts[s.name] for s in CARE_SHIFTS if _rota_overlap_s(peak, s) > 0)


def _add_one_carer(counts: dict[str, int], peak: Period, mix: dict[str, float]) -> None:
    """Add a carer to the shift available in ``peak`` that is furthest below its share of the mix."""
    total = sum(counts.values()) + 1
    covering = [s.name for s in CARE_SHIFTS if _rota_overlap_s(peak, s) > 0]
    name = min(covering, key=lambda s: (counts[s] / total - mix[s], covering.index(s)))
    counts[name] += 1


def _size_carers(visits: Sequence[_VisitDraft], profile: DayProfile) -> dict[str, int]:
    """Carers per shift so each peak is at most ``target_peak_load`` busy (available time only)."""
    care = [v for v in visits if v.kind == "care"]
    demand = {p.name: _demand_s(care, p, profile.travel_allowance_min) for p in PEAKS}
    counts = {s.name: 0 for s in CARE_SHIFTS}
    mix = _shift_mix(profile)
    while True:
        loads = _shift_loads(counts, demand)
        short = [p for p in PEAKS if _on_shift(counts, p) < MIN_CARERS_PER_PEAK]
        if short:
            _add_one_carer(counts, short[0], mix)
            continue
        worst = max(PEAKS, key=lambda p: loads[p.name])
        if loads[worst.name] <= profile.target_peak_load:
            return counts
        _add_one_carer(counts, worst, mix)


def _add_carers(counts: dict[str, int], extra: int, visits: Sequence[_VisitDraft],
                profile: DayProfile) -> None:
    """Add ``extra`` carers, each to a shift available in the busiest peak."""
    care = [v for v in visits if v.kind == "care"]
    demand = {p.name: _demand_s(care, p, profile.travel_allowance_min) for p in PEAKS}
    mix = _shift_mix(profile)
    for _ in range(extra):
        loads = _shift_loads(counts, demand)
        _add_one_carer(counts, max(PEAKS, key=lambda p: loads[p.name]), mix)


def _size_hairdressers(visits: Sequence[_VisitDraft], profile: DayProfile) -> int:
    demand = _demand_s([v for v in visits if v.kind == "hairdressing"], HAIR_PERIOD,
                       profile.travel_allowance_min)
    per_worker = HAIR_PERIOD.overlap_s(HAIR_SHIFT.window)
    return max(1, math.ceil(demand / (profile.target_peak_load * per_worker)))


def _van_shift(slot_start_s: int) -> str:
    return VAN_SHIFTS[0].name if slot_start_s < LATE_VAN_FIRST_SLOT_S else VAN_SHIFTS[1].name


def _size_vans(visits: Sequence[_VisitDraft], profile: DayProfile) -> dict[str, int]:
    """Vans per shift so their crates fill at most :data:`VAN_FILL_TARGET` of capacity, and
    each slot is at most ``target_peak_load`` busy."""
    drops = [v for v in visits if v.kind == "delivery"]
    counts = {}
    for shift in VAN_SHIFTS:
        mine = [v for v in drops if _van_shift(v.start_s) == shift.name]
        crates = sum(v.demand for v in mine)
        n = max(1, math.ceil(crates / (VAN_FILL_TARGET * VAN_CAPACITY_CRATES)))
        for slot in DELIVERY_SLOTS:
            if _van_shift(slot.start_s) == shift.name:
                work = _demand_s(mine, slot, profile.travel_allowance_min)
                n = max(n, math.ceil(work / (profile.target_peak_load * slot.length_s)))
        counts[shift.name] = n
    return counts


# --------------------------------------------------------------------------- workers

def _workers(rng: np.random.Generator, carers: dict[str, int], hairdressers: int, vans: dict[str, int],
             lat: np.ndarray, lon: np.ndarray, xy: np.ndarray, centre: np.ndarray,
             profile: DayProfile) -> list[_WorkerDraft]:
    n_sites = len(lat)
    distance = np.hypot(*(xy - centre).T)
    central = np.flatnonzero(distance <= CENTRAL_RADIUS_M)
    if len(central) == 0:
        central = np.argsort(distance, kind="stable")[: max(1, n_sites // 10)]

    def site(near_centre: bool = False) -> int:
        return int(rng.choice(central)) if near_centre else int(rng.integers(n_sites))

    total = sum(carers.values()) + hairdressers + sum(vans.values())
    width = max(2, len(str(total)))
    workers: list[_WorkerDraft] = []

    def add(provider: str, name: str, shift: Period, home: int, **kw: Any) -> None:
        point = (float(lat[home]), float(lon[home]))
        workers.append(_WorkerDraft(id=f"w{len(workers) + 1:0{width}d}", provider_id=PROVIDERS[provider]["id"],
                                    name=name, shift=shift, home=point, end=point, site=home, **kw))

    n = 0
    for shift in CARE_SHIFTS:
        for _ in range(carers[shift.name]):
            n += 1
            u = rng.random()
            mode = "walk" if u < WALK_P else "cycle" if u < WALK_P + CYCLE_P else "drive"
            add("care", f"Carer {n:02d}", shift, site(near_centre=mode != "drive"),
                skills={s for s in CARE_SKILLS if rng.random() < CARER_SKILL_P[s]},
                gender="f" if rng.random() < FEMALE_CARER_P else "m", travel_mode=mode,
                availability=CARE_AVAILABILITY.get(shift.name, ()),
                week_worked_min=_week_worked(rng, shift, profile))
    for k in range(hairdressers):
        add("hairdressing", f"Hairdresser {k + 1}", HAIR_SHIFT, site(),
            gender="f" if rng.random() < FEMALE_HAIRDRESSER_P else "m")
    # All vans load at one supermarket depot, a site near the centre.
    depot = site(near_centre=True)
    k = 0
    for shift in VAN_SHIFTS:
        for _ in range(vans[shift.name]):
            k += 1
            add("delivery", f"Driver {k}", shift, depot,
                gender="m" if rng.random() < MALE_DRIVER_P else "f", capacity=VAN_CAPACITY_CRATES)
    return workers


def _equipment(rng: np.random.Generator, n_installs: int, clients: list[_ClientDraft], visits: list[_VisitDraft],
               workers: list[_WorkerDraft], lat: np.ndarray, lon: np.ndarray, xy: np.ndarray, centre: np.ndarray,
               profile: DayProfile) -> None:
    """Add the equipment service: ``n_installs`` installation visits, the technicians for them, and hoists.

    Double-handed clients rent a hoist. Up to :data:`NEW_HOIST_SHARE` of the installations
    are new hoists for some of them, installed early; their transfers that start after the
    installation can end need it (``needs_equipment``), earlier ones manage without. The
    other double-handed clients had theirs installed on an earlier day (client
    ``equipment``) and every transfer needs it. The other installations are a bath lift,
    key safe or personal alarm for any client. Technicians (every item but one each, so
    each item has at least two) work :data:`TECHNICIAN_SHIFT` from a depot near the centre,
    sized so that installations take at most ``target_peak_load`` of their time.
    """
    hoisted = [i for i in rng.permutation(len(clients)).tolist() if clients[i].double]
    n_hoists = min(len(hoisted), round(n_installs * NEW_HOIST_SHARE))
    installs: list[_VisitDraft] = []

    def install(client: int, item: str, starts: Sequence[int]) -> _VisitDraft:
        start = int(starts[int(rng.integers(len(starts)))])
        duration = int(rng.choice(EQUIPMENT_ITEMS[item]))
        draft = _VisitDraft(client=client, kind="equipment", provider_id=EQUIPMENT_PROVIDER["id"], start_s=start,
                            end_s=start + INSTALL_WINDOW_MIN * _M, duration_min=duration, skills={item},
                            priority="mandatory" if item == "hoist" else "high",
                            tasks=(f"install {item.replace('_', ' ')}",), installs=item)
        installs.append(draft)
        clients[client].care_only = False
        return draft

    for k, i in enumerate(hoisted):
        if k < n_hoists:
            ready = install(i, "hoist", HOIST_INSTALL_STARTS)
            ready_s = ready.end_s + ready.duration_min * _M
        else:
            clients[i].equipment.append(("hoist", None))
            ready_s = 0
        for v in visits:
            if v.client == i and v.kind == "care" and v.workers_required == 2 and v.start_s >= ready_s:
                v.needs = ("hoist",)
    others = [item for item in EQUIPMENT_ITEMS if item != "hoist"]
    for _ in range(n_installs - n_hoists):
        item = others[int(rng.integers(len(others)))]
        taken = {(v.client, v.installs) for v in installs}
        client = int(rng.integers(len(clients)))
        while (client, item) in taken:
            client = int(rng.integers(len(clients)))
        install(client, item, INSTALL_STARTS)
    visits.extend(installs)

    def work_s(drafts: Sequence[_VisitDraft]) -> int:
        return sum((v.duration_min + profile.travel_allowance_min * 2) * _M for v in drafts)

    # Enough for the day, and for the morning's hoists (which all but one technician can install).
    morning_s = HOIST_INSTALL_STARTS[-1] + INSTALL_WINDOW_MIN * _M - HOIST_INSTALL_STARTS[0]
    n_tech = max(2, math.ceil(work_s(installs) / (profile.target_peak_load * TECHNICIAN_SHIFT.length_s)),
                 math.ceil(work_s([v for v in installs if v.installs == "hoist"])
                           / (profile.target_peak_load * morning_s)) + 1)
    distance = np.hypot(*(xy - centre).T)
    depot = int(np.argsort(distance, kind="stable")[0])
    point = (float(lat[depot]), float(lon[depot]))
    items = list(EQUIPMENT_ITEMS)
    for k in range(n_tech):
        skills = set(items) - ({items[k % len(items)]} if n_tech >= 3 else set())
        workers.append(_WorkerDraft(id=f"t{k + 1:02d}", provider_id=EQUIPMENT_PROVIDER["id"],
                                    name=f"Technician {k + 1}", shift=TECHNICIAN_SHIFT, home=point, end=point,
                                    skills=skills, gender="m" if rng.random() < MALE_DRIVER_P else "f",
                                    site=depot))


def _week_worked(rng: np.random.Generator, shift: Period, profile: DayProfile) -> int:
    """Minutes a carer on ``shift`` worked earlier in the week.

    Drawn uniformly from 0 to :attr:`DayProfile.week_worked_max_min` in steps of
    :data:`WEEK_WORKED_STEP_MIN`, then capped so that what is left of the weekly
    cap covers the rota's peak time plus :data:`WEEK_CAP_RESERVE_MIN`: carers who
    draw more end up just there, near the cap.
    """
    peak_min = sum(_rota_overlap_s(p, shift) for p in PEAKS) // _M
    most = DEFAULT_WEEKLY_CAP_MIN - peak_min - WEEK_CAP_RESERVE_MIN
    drawn = int(rng.integers(0, profile.week_worked_max_min // WEEK_WORKED_STEP_MIN + 1)) * WEEK_WORKED_STEP_MIN
    return max(0, min(drawn, most // WEEK_WORKED_STEP_MIN * WEEK_WORKED_STEP_MIN))


def _holds(worker: _WorkerDraft, visit: _VisitDraft) -> bool:
    """Whether one of the worker's availability windows (or their shift) can hold the visit in its window."""
    for window in worker.windows:
        earliest = max(visit.start_s, window.start_s)
        if earliest <= visit.end_s and earliest + visit.duration_min * _M <= window.end_s:
            return True
    return False


def _could_serve(worker: _WorkerDraft, visit: _VisitDraft, client: _ClientDraft) -> bool:
    return (worker.provider_id == _PROVIDER_IDS[visit.kind] and visit.skills <= worker.skills
            and _holds(worker, visit) and worker.id not in client.excluded
            and client.gender_preference in (None, worker.gender))


def _client_preferences(rng: np.random.Generator, clients: list[_ClientDraft], visits: list[_VisitDraft],
                        workers: list[_WorkerDraft]) -> None:
    """Give some care-only clients a gender preference or an excluded carer.

    Hairdressing and delivery clients get none: those bind every provider's workers.
    """
    by_client: dict[int, list[_VisitDraft]] = {}
    for v in visits:
        by_client.setdefault(v.client, []).append(v)
    care_only = [i for i, c in enumerate(clients) if c.care_only]
    order = [care_only[j] for j in rng.permutation(len(care_only))]
    n_pref = min(len(order), round(GENDER_PREFERENCE_P * len(clients)))
    n_excl = min(len(order), round(EXCLUSION_P * len(clients)))
    for i in order[:n_pref]:
        female = rng.random() < FEMALE_PREFERENCE_P or clients[i].double
        clients[i].gender_preference = "f" if female else "m"
    # Exclusions fall on other clients than gender preferences where there are enough.
    rest = order[n_pref:] + order[:n_pref]
    for i in rest[:n_excl]:
        client = clients[i]
        # Exclude a carer who could otherwise serve the client, so the exclusion matters.
        options = [w.id for w in workers if any(_could_serve(w, v, client) for v in by_client[i])]
        if options:
            client.excluded = [str(rng.choice(options))]


def _continuity(rng: np.random.Generator, clients: list[_ClientDraft], visits: list[_VisitDraft],
                workers: list[_WorkerDraft], xy: np.ndarray, profile: DayProfile) -> None:
    """Give each care client regular carers (``history``), and some care-only clients preferred carers.

    A client's preferred carers are their most frequent regulars.
    """
    by_client: dict[int, list[_VisitDraft]] = {}
    for v in visits:
        by_client.setdefault(v.client, []).append(v)
    _regular_carers(rng, clients, by_client, workers, xy, profile)
    for client in clients:
        if not client.care_only or rng.random() >= PREFERRED_P:
            continue
        # A client names the carers who know them best.
        if client.regulars:
            k = min(len(client.regulars), int(rng.integers(1, MAX_PREFERRED + 1)))
            client.preferred = sorted(wid for wid, _ in client.regulars[:k])


def _regular_carers(rng: np.random.Generator, clients: list[_ClientDraft],
                    by_client: dict[int, list[_VisitDraft]], workers: list[_WorkerDraft], xy: np.ndarray,
                    profile: DayProfile) -> None:
    """Give each care client 2-4 regular carers with 4-20 visits each in the last 28 days.

    Regulars are carers who can serve at least one of the client's calls today
    (provider, skills, availability, exclusion, gender preference), favouring those
    who can serve most of them and live nearby, as a coordinator's rota would.
    """
    carers = [w for w in workers if w.provider_id == PROVIDERS["care"]["id"]]
    least, most = profile.regular_carers
    for i, client in enumerate(clients):
        calls = [v for v in by_client.get(i, []) if v.kind == "care"]
        if not calls or not carers:
            continue
        score = np.array([sum(_could_serve(w, v, client) for v in calls) for w in carers], dtype=float)
        able = np.flatnonzero(score > 0)
        k = min(len(able), int(rng.integers(least, most + 1)))
        if k == 0:
            continue
        km = np.array([np.hypot(*(xy[carers[j].site] - xy[client.site])) for j in able]) / 1000
        weight = score[able] ** 2 / (1 + km)
        chosen = rng.choice(able, size=k, replace=False, p=weight / weight.sum())
        low, high = profile.history_visits
        counts = sorted((int(rng.integers(low, high + 1)) for _ in range(k)), reverse=True)
        client.regulars = [(carers[int(j)].id, n) for j, n in zip(chosen, counts, strict=True)]


# --------------------------------------------------------------------------- build and repair

def _pay(model: PayModel | None) -> dict[str, Any]:
    if model is None:
        return {}
    return {"pay": {"model": model.model, "hourly_rate": model.hourly_rate, "per_visit_rate": model.per_visit_rate,
                    "paid_time": model.paid_time}}


def _plan_dict(clients: list[_ClientDraft], visits: list[_VisitDraft], workers: list[_WorkerDraft],
               lat: np.ndarray, lon: np.ndarray, date: dt.date, network: str | None, seed: int,
               profile: DayProfile) -> dict[str, Any]:
    def window(start: int, end: int) -> dict[str, str]:
        return {"start": format_hhmm(start), "end": format_hhmm(end)}

    def loc(point: tuple[float, float]) -> dict[str, float]:
        return {"lat": point[0], "lon": point[1]}

    vwidth = max(4, len(str(len(visits))))
    ordered = sorted(visits, key=lambda v: (v.start_s, v.kind, v.client, v.duration_min))
    ids = {id(v): f"v{n:0{vwidth}d}" for n, v in enumerate(ordered, start=1)}

    def link(v: _VisitDraft) -> dict[str, Any]:
        if v.link is None:
            return {}
        side, other, low, high = v.link
        return {side: {"visit_id": ids[id(other)], "min_gap_min": low, "max_gap_min": high}}

    data: dict[str, Any] = {"date": date.isoformat()}
    if network is not None:
        data["network"] = network
    data["generator"] = {"module": "scheduler.generate", "seed": int(seed)}
    pay = {"care": profile.care_pay, "hairdressing": profile.hair_pay, "delivery": profile.delivery_pay}
    data["providers"] = [{**p, **_pay(pay[kind])} for kind, p in PROVIDERS.items()]
    if any(v.kind == "equipment" for v in visits):
        data["providers"].append(dict(EQUIPMENT_PROVIDER))
    data["workers"] = [
        {"id": w.id, "provider_id": w.provider_id, "name": w.name, "skills": sorted(w.skills),
         "gender": w.gender, "shift": window(w.shift.start_s, w.shift.end_s),
         "start_location": loc(w.home), "end_location": loc(w.end), "travel_mode": w.travel_mode,
         "capacity": w.capacity, "shift_pattern": w.shift.name,
         "availability": [window(a.start_s, a.end_s) for a in w.availability],
         "week_worked_min": w.week_worked_min}
        for w in workers
    ]
    data["clients"] = [
        {"id": c.id, "name": f"Client {c.id[1:]}", "location": {"lat": float(lat[c.site]), "lon": float(lon[c.site])},
         "postcode": c.postcode, "gender_preference": c.gender_preference,
         "preferred_worker_ids": list(c.preferred), "excluded_worker_ids": list(c.excluded),
         **({"equipment": [{"item": item, **({} if at is None else {"installed_from": format_hhmm(at)})}
                           for item, at in c.equipment]} if c.equipment else {})}
        for c in clients
    ]
    data["visits"] = [
        {"id": f"v{n:0{vwidth}d}", "client_id": clients[v.client].id, "kind": v.kind,
         "provider_id": v.provider_id, "window": window(v.start_s, v.end_s),
         "duration_min": v.duration_min, "required_skills": sorted(v.skills),
         "workers_required": v.workers_required, "priority": v.priority, "demand": v.demand,
         "tasks": list(v.tasks), **link(v), **({"installs": v.installs} if v.installs else {}),
         **({"needs_equipment": list(v.needs)} if v.needs else {})}
        for n, v in enumerate(ordered, start=1)
    ]
    data["history"] = [{"client_id": c.id, "worker_id": wid, "visits": n} for c in clients for wid, n in c.regulars]
    return data


def _needed(visit: Visit) -> int:
    if visit.kind != "care":
        return visit.workers_required
    return MIN_ELIGIBLE_DOUBLE if visit.workers_required == 2 else MIN_ELIGIBLE_SINGLE


def _repair(rng: np.random.Generator, clients: list[_ClientDraft], visits: list[_VisitDraft],
            workers: list[_WorkerDraft], lat: np.ndarray, lon: np.ndarray, date: dt.date,
            network: str | None, seed: int, profile: DayProfile) -> Plan:
    """Build the plan, topping up carers' skills (or dropping a gender preference nobody on
    shift can honour) until every requirement has enough workers."""
    width = max(3, len(str(len(clients))))
    for n, c in enumerate(clients, start=1):
        c.id = f"c{n:0{width}d}"
    client_index = {c.id: i for i, c in enumerate(clients)}
    care_id = PROVIDERS["care"]["id"]
    carers = [w for w in workers if w.provider_id == care_id]
    for _ in range(MAX_REPAIR_ROUNDS):
        plan = plan_from_dict(_plan_dict(clients, visits, workers, lat, lon, date, network, seed, profile))
        changed = False
        # 1. Every care visit has spare eligible carers.
        for visit in plan.visits:
            if visit.kind != "care" or len(_eligible(plan, visit)) >= _needed(visit):
                continue
            client = clients[client_index[visit.client_id]]
            pool = [w for w in carers if w.id not in client.excluded and _holds(w, _draft(visit))]
            matching = [w for w in pool if client.gender_preference in (None, w.gender)]
            if len(matching) >= _needed(visit):
                # Train the carers on shift who lack the fewest of the visit's skills.
                ranked = sorted(matching, key=lambda w: (len(visit.required_skills - w.skills), rng.random()))
                for w in ranked[: _needed(visit)]:
                    w.skills |= visit.required_skills
            elif client.gender_preference is not None:
                client.gender_preference = None  # too few carers of that gender on shift
            elif client.excluded:
                client.excluded = []  # the rota cannot spare the excluded carer
            else:
                raise RuntimeError(f"visit {visit.id!r}: only {counted(len(pool), 'carer')} on shift; "
                                   f"shift sizing should give at least {MIN_CARERS_PER_PEAK}")
            changed = True
        # 2. No skill or gender preference is busier than max_peak_load in any peak.
        care = [v for v in plan.visits if v.kind == "care"]
        travel = profile.travel_allowance_min
        for peak in PEAKS:
            for skill in CARE_SKILLS:
                demand = _demand_s([v for v in care if skill in v.required_skills], peak, travel)
                while demand > profile.max_peak_load * sum(
                        _draft_available_s(peak, w) for w in carers if skill in w.skills):
                    lacking = [w for w in carers if skill not in w.skills and _draft_available_s(peak, w)]
                    if not lacking:
                        break
                    lacking[int(rng.integers(len(lacking)))].skills.add(skill)
                    changed = True
            for gender in ("f", "m"):
                preferring = [v for v in care if peak.start_s <= v.window.start < peak.end_s
                              and plan.client(v.client_id).gender_preference == gender]
                supply = sum(_draft_available_s(peak, w) for w in carers if w.gender == gender)
                if _demand_s(preferring, peak, travel) > profile.max_peak_load * supply:
                    # Drop one preference a round: the workforce cannot honour them all.
                    clients[client_index[preferring[0].client_id]].gender_preference = None
                    changed = True
        if not changed:
            return plan
    raise RuntimeError(f"could not give every visit enough eligible workers in {MAX_REPAIR_ROUNDS} rounds")


def _draft_available_s(period: Period, worker: _WorkerDraft) -> int:
    """Time a drafted worker is available inside ``period`` (seconds)."""
    return sum(period.overlap_s(w.window) for w in worker.windows)


def _draft(visit: Visit) -> _VisitDraft:
    return _VisitDraft(client=-1, kind=visit.kind, provider_id=visit.provider_id, start_s=visit.window.start,
                       end_s=visit.window.end, duration_min=visit.duration_min, skills=set(visit.required_skills))


def _eligible(plan: Plan, visit: Visit) -> tuple[str, ...]:
    """Eligible workers (eligibility's shift rule already asks for a stint that holds the visit)."""
    result = eligibility(plan, visit)
    return result.worker_ids if result.ok else ()


def _check_plan(plan: Plan, profile: DayProfile) -> None:
    """Assert the promises of :func:`generate_plan`; a failure is a bug in this module."""
    able = {v.id: _eligible(plan, v) for v in plan.visits}
    problems = [f"visit {v.id!r} has {len(able[v.id])} eligible workers, needs {_needed(v)}"
                for v in plan.visits if len(able[v.id]) < _needed(v)]
    for name, load in peak_loads(plan, travel_allowance_min=profile.travel_allowance_min).items():
        if load > profile.max_peak_load:
            problems.append(f"peak {name} is {load:.0%} busy, above {profile.max_peak_load:.0%}")
    for v in plan.visits:
        for first, then, low, high in v.links():
            a, b = plan.visit(first), plan.visit(then)
            room = _link_room_min(_draft(a), _draft(b), a.duration_min, low, high)
            if room < LINK_MIN_ROOM_MIN:
                problems.append(f"link {first} -> {then} leaves {room} min of starts, fewer than {LINK_MIN_ROOM_MIN}")
    care = {}
    for v in plan.visits:
        if v.kind == "care":
            care.setdefault(v.client_id, []).append(v)
    for h in plan.history:
        if not any(h.worker_id in able[v.id] for v in care.get(h.client_id, [])):
            problems.append(f"history: worker {h.worker_id!r} could serve none of client {h.client_id!r}'s calls")
    if problems:
        raise RuntimeError("generated plan breaks its promises: " + "; ".join(problems))
