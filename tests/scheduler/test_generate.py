"""Tests of the day generator (:mod:`scheduler.generate`) and the bundled Cambridge plan."""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from scheduler.eligibility import eligibility
from scheduler.generate import (
    CARE_AVAILABILITY,
    CARE_SHIFTS,
    CENTRAL_RADIUS_M,
    DELIVERY_SLOTS,
    HAIR_PERIOD,
    LAST_CALL_MARGIN_MIN,
    LINK_MIN_ROOM_MIN,
    MIN_ELIGIBLE_DOUBLE,
    MIN_ELIGIBLE_SINGLE,
    PEAKS,
    SPLIT_SHIFT_AVAILABILITY,
    VAN_FILL_TARGET,
    WEEK_CAP_RESERVE_MIN,
    DayProfile,
    generate_plan,
    peak_loads,
)
from scheduler.io import load_plan, plan_to_dict
from scheduler.model import (
    DEFAULT_WEEKLY_CAP_MIN,
    BreakRule,
    PayModel,
    Plan,
    TimeWindow,
    Visit,
    Worker,
)
from tests.helpers import ROOT

FIXTURE = ROOT / "fixtures" / "plans" / "cambridge_weekday.json"
CAMBRIDGE_NETWORK = "fixtures/networks/cambridge_drive.osm"
SEEDS = (0, 1, 2)


def _sites(n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic candidate sites scattered over about 8 x 8 km of Cambridge."""
    rng = np.random.default_rng(12345)
    return 52.205 + rng.uniform(-0.036, 0.036, n), 0.125 + rng.uniform(-0.058, 0.058, n)


SITE_LAT, SITE_LON = _sites()


def _generate(seed: int = 0, **kwargs) -> Plan:
    return generate_plan(SITE_LAT, SITE_LON, seed=seed, **kwargs)


@pytest.fixture(scope="module")
def days() -> dict[int, Plan]:
    """A default-sized day (300 visits) for each of a few seeds."""
    return {seed: _generate(seed) for seed in SEEDS}


@pytest.fixture(scope="module")
def fixture_plan() -> Plan:
    """The bundled Cambridge weekday plan, loaded as a user would."""
    return load_plan(FIXTURE)


def _kind_of(plan: Plan) -> dict[str, str]:
    return {p.id: p.kind for p in plan.providers}


def _workers_of(plan: Plan, kind: str) -> list:
    kinds = _kind_of(plan)
    return [w for w in plan.workers if kinds[w.provider_id] == kind]


def _metres_from_centre(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    x = np.radians(lon - lon0) * np.cos(np.radians(lat0)) * 6_371_000
    y = np.radians(lat - lat0) * 6_371_000
    return np.hypot(x, y)


def _in_peak(start_s: int) -> bool:
    return any(p.start_s <= start_s < p.end_s for p in PEAKS)


def _peak(visit: Visit) -> str:
    return next(p.name for p in PEAKS if p.start_s <= visit.window.start < p.end_s)


def _available_for(worker: Worker, visit: Visit) -> bool:
    """Whether one of the worker's availability windows (or the shift) can hold the visit in its window."""
    for w in worker.availability or (worker.shift,):
        earliest = max(w.start, visit.window.start)
        if earliest <= visit.window.end and earliest + visit.duration_s <= w.end:
            return True
    return False


def _able(plan: Plan, visit: Visit) -> list[str]:
    """Workers eligible for the visit and available when it can start."""
    result = eligibility(plan, visit)
    return [w for w in result.worker_ids if _available_for(plan.worker(w), visit)] if result.ok else []


# --------------------------------------------------------------------------- reproducibility

def test_generate_plan_same_seed_gives_equal_plans():
    """Two runs with the same seed give equal plans, down to their JSON form."""
    first, second = _generate(seed=42), _generate(seed=42)
    assert first == second
    assert plan_to_dict(first) == plan_to_dict(second)


def test_generate_plan_different_seed_gives_different_plans():
    """Another seed gives another day."""
    assert plan_to_dict(_generate(seed=1)) != plan_to_dict(_generate(seed=2))


# --------------------------------------------------------------------------- composition

@pytest.mark.parametrize("seed", SEEDS)
def test_generate_plan_counts_and_kind_mix(days, seed):
    """300 visits by default, from three providers of different kinds, mostly care."""
    plan = days[seed]
    kinds = Counter(v.kind for v in plan.visits)
    assert len(plan.visits) == 300
    assert sorted(p.kind for p in plan.providers) == ["care", "delivery", "hairdressing"]
    assert kinds["care"] > 0.85 * len(plan.visits)
    assert kinds["hairdressing"] > 0 and kinds["delivery"] > 0
    assert 2 <= len(_workers_of(plan, "hairdressing")) <= 3
    assert 3 <= len(_workers_of(plan, "delivery")) <= 4
    assert len(_workers_of(plan, "care")) > 0.8 * len(plan.workers)
    assert all(re.fullmatch(r"v\d{4}", v.id) for v in plan.visits)
    assert all(re.fullmatch(r"c\d{3}", c.id) for c in plan.clients)
    assert all(re.fullmatch(r"w\d{2,}", w.id) for w in plan.workers)
    assert {v.client_id for v in plan.visits} == {c.id for c in plan.clients}


def test_generate_plan_n_visits_is_exact_for_small_days():
    """Small days have exactly the visits asked for and still every provider."""
    for n in (1, 7, 40):
        plan = _generate(seed=3, n_visits=n)
        assert len(plan.visits) == n
        assert len({p.kind for p in plan.providers}) == 3


def test_generate_plan_clients_get_one_to_four_care_calls(days):
    """No client has more than four care calls, nor two in one peak."""
    for plan in days.values():
        calls = Counter(v.client_id for v in plan.visits if v.kind == "care")
        assert set(calls.values()) <= {1, 2, 3, 4}
        peaks = Counter((v.client_id, next(p.name for p in PEAKS if p.start_s <= v.window.start < p.end_s))
                        for v in plan.visits if v.kind == "care")
        assert max(peaks.values()) == 1


# --------------------------------------------------------------------------- care visits

def test_generate_plan_care_windows_start_inside_peaks(days):
    """Every care window starts (and ends) inside one of the four demand peaks and lasts 60 min."""
    for plan in days.values():
        for v in plan.visits:
            if v.kind != "care":
                continue
            assert _in_peak(v.window.start), v
            peak = next(p for p in PEAKS if p.start_s <= v.window.start < p.end_s)
            assert v.window.end <= peak.end_s
            assert v.window.length_s == 3600


def test_generate_plan_bed_calls_leave_time_to_get_home(days):
    """A bed call can always end a quarter of an hour before 22:00, when most carers' shifts end."""
    for plan in days.values():
        for v in plan.visits:
            if v.kind == "care" and _peak(v) == "bed":
                assert v.window.start + v.duration_s <= 22 * 3600 - LAST_CALL_MARGIN_MIN * 60, v


def test_generate_plan_uses_every_peak(days):
    """Breakfast and bed are the busiest peaks, and every peak has visits."""
    for plan in days.values():
        per_peak = Counter(p.name for v in plan.visits if v.kind == "care"
                           for p in PEAKS if p.start_s <= v.window.start < p.end_s)
        assert set(per_peak) == {p.name for p in PEAKS}
        assert per_peak["breakfast"] > per_peak["lunch"] and per_peak["bed"] > per_peak["tea"]


def test_generate_plan_double_handed_share_near_fifteen_percent(days):
    """About 15% of care visits are double-handed; they need a hoist and are never 15 min."""
    for plan in days.values():
        care = [v for v in plan.visits if v.kind == "care"]
        doubles = [v for v in care if v.workers_required == 2]
        assert 0.12 <= len(doubles) / len(care) <= 0.18
        assert all("hoist" in v.required_skills and v.duration_min >= 30 for v in doubles)
        assert all(v.priority == "mandatory" for v in doubles)


def test_generate_plan_care_durations_mostly_thirty_minutes(days):
    """About 65% of care visits last 30 min; a few are 15-min medication checks."""
    care = [v for plan in days.values() for v in plan.visits if v.kind == "care"]
    lengths = Counter(v.duration_min for v in care)
    assert set(lengths) <= {15, 30, 45, 60}
    assert 0.55 <= lengths[30] / len(care) <= 0.75
    assert 0 < lengths[15] / len(care) <= 0.12
    assert all("medication" in v.required_skills for v in care if v.duration_min == 15)


def test_generate_plan_care_priorities_mostly_mandatory(days):
    """Care visits are mostly mandatory, some high (only those needing no skill), none lower."""
    care = [v for plan in days.values() for v in plan.visits if v.kind == "care"]
    priorities = Counter(v.priority for v in care)
    assert set(priorities) == {"mandatory", "high"}
    assert priorities["mandatory"] > 0.75 * len(care)
    assert all(v.priority == "mandatory" for v in care if v.required_skills)


# --------------------------------------------------------------------------- other providers

def test_generate_plan_hair_windows_inside_ten_to_four(days):
    """Hairdresser visits start and end inside 10:00-16:00, last 45-60 min, are normal or low."""
    for plan in days.values():
        for v in plan.visits:
            if v.kind == "hairdressing":
                assert HAIR_PERIOD.start_s <= v.window.start <= v.window.end <= HAIR_PERIOD.end_s
                assert v.window.end + v.duration_s <= HAIR_PERIOD.end_s
                assert v.duration_min in (45, 60)
                assert v.priority in ("normal", "low")


def test_generate_plan_deliveries_in_two_hour_slots_from_one_depot(days):
    """Deliveries sit in 2-hour slots; vans share one depot and can carry every crate."""
    slots = {(s.start_s, s.end_s) for s in DELIVERY_SLOTS}
    for plan in days.values():
        drops = [v for v in plan.visits if v.kind == "delivery"]
        assert all((v.window.start, v.window.end) in slots for v in drops)
        assert all(v.window.length_s == 2 * 3600 for v in drops)
        assert all(10 <= v.duration_min <= 15 and 1 <= v.demand <= 4 and v.priority == "high" for v in drops)
        vans = _workers_of(plan, "delivery")
        depots = {(w.start_location, w.end_location) for w in vans}
        assert len(depots) == 1 and vans[0].start_location == vans[0].end_location
        assert all(w.capacity == 20 for w in vans)
        assert sum(v.demand for v in drops) <= VAN_FILL_TARGET * sum(w.capacity for w in vans)
        assert all(v.demand == 0 for v in plan.visits if v.kind != "delivery")


# --------------------------------------------------------------------------- workers and clients

def test_generate_plan_carers_shifts_modes_and_genders(days):
    """Carers work the named shifts, mostly drive, mostly women; walkers live near the centre."""
    shifts = {(s.start_s, s.end_s) for s in CARE_SHIFTS}
    for plan in days.values():
        carers = _workers_of(plan, "care")
        used = {(w.shift.start, w.shift.end) for w in carers}
        assert used <= shifts
        split = next(s for s in CARE_SHIFTS if s.name == "split day")
        assert sum((w.shift.start, w.shift.end) == (split.start_s, split.end_s) for w in carers) > len(carers) / 2
        modes = Counter(w.travel_mode for w in carers)
        assert modes["drive"] > 0.75 * len(carers)
        assert Counter(w.gender for w in carers)["f"] > 0.6 * len(carers)
        assert all(w.start_location == w.end_location for w in carers)
        centre = (SITE_LAT.mean(), SITE_LON.mean())
        for w in carers:
            if w.travel_mode != "drive":
                d = _metres_from_centre(np.array([w.start_location.lat]), np.array([w.start_location.lon]), *centre)
                assert d[0] <= CENTRAL_RADIUS_M + 50


def test_generate_plan_client_preferences(days):
    """About 10% of clients state a gender (mostly 'f'); some exclude or prefer carers."""
    for plan in days.values():
        prefs = Counter(c.gender_preference for c in plan.clients if c.gender_preference)
        assert 0.04 <= sum(prefs.values()) / len(plan.clients) <= 0.15
        assert prefs["f"] >= prefs["m"]
        assert any(c.excluded_worker_ids for c in plan.clients)
        assert any(c.preferred_worker_ids for c in plan.clients)
        carers = {w.id for w in _workers_of(plan, "care")}
        for c in plan.clients:
            assert set(c.preferred_worker_ids) <= carers
            assert c.excluded_worker_ids <= carers


def test_generate_plan_postcodes_look_like_cambridge(days):
    """Postcodes read like 'CB1 3AB' and client names like 'Client 042'."""
    for plan in days.values():
        assert all(re.fullmatch(r"CB[1-5] \d[A-Z]{2}", c.postcode) for c in plan.clients)
        assert all(c.name == f"Client {c.id[1:]}" for c in plan.clients)


# --------------------------------------------------------------------------- feasibility

@pytest.mark.parametrize("n_visits", [25, 120, 300])
@pytest.mark.parametrize("seed", SEEDS)
def test_generate_plan_every_visit_has_enough_eligible_workers(n_visits, seed):
    """Every visit is servable, care visits with spare carers (2, or 3 when double-handed) who
    are available (split shifts) when it can start."""
    plan = _generate(seed=seed, n_visits=n_visits)
    for v in plan.visits:
        result = eligibility(plan, v)
        assert result.ok, result.reason
        assert len(_able(plan, v)) >= v.workers_required, v
        if v.kind == "care":
            need = MIN_ELIGIBLE_DOUBLE if v.workers_required == 2 else MIN_ELIGIBLE_SINGLE
            assert len(_able(plan, v)) >= need, v


def test_generate_plan_peaks_are_busy_but_not_overbooked(days):
    """In every peak, care visits plus travel demand at most the profile's maximum of carer
    time on shift, and the busiest peak is near the target (the workforce is not padded)."""
    profile = DayProfile()
    for plan in days.values():
        loads = peak_loads(plan)
        assert set(loads) == {p.name for p in PEAKS}
        assert max(loads.values()) <= profile.max_peak_load
        assert max(loads.values()) >= profile.target_peak_load - 0.1


def test_generate_plan_n_workers_sets_the_workforce():
    """A larger ``n_workers`` than needed gives exactly that many workers, the extras carers."""
    sized = _generate(seed=5, n_visits=100)
    bigger = _generate(seed=5, n_visits=100, n_workers=len(sized.workers) + 7)
    assert len(bigger.workers) == len(sized.workers) + 7
    assert len(_workers_of(bigger, "care")) == len(_workers_of(sized, "care")) + 7


def test_generate_plan_raises_when_workers_too_few():
    """Too small a workforce for the demand is refused, naming the smallest that works."""
    with pytest.raises(ValueError, match=r"`n_workers`=30 is too few for 300 visits.*n_workers >= \d+"):
        _generate(seed=0, n_visits=300, n_workers=30)
    # One visit and one hairdresser are singular ("1 visits", "1 hairdressers" before).
    with pytest.raises(ValueError, match=r"too few for 1 visit: .*needs 6 workers \(3 carers, 1 hairdresser, 2 vans\)"):
        _generate(seed=0, n_visits=1, n_workers=1)


def test_generate_plan_rejects_bad_arguments():
    """Unequal or empty site arrays and a non-positive visit count are refused."""
    with pytest.raises(ValueError, match="equal length"):
        generate_plan([52.2, 52.21], [0.1], seed=0)
    with pytest.raises(ValueError, match="at least one site"):
        generate_plan([], [], seed=0)
    with pytest.raises(ValueError, match="n_visits"):
        _generate(n_visits=0)


def test_day_profile_rejects_bad_shares():
    """A profile checks its shares and loads on construction."""
    with pytest.raises(ValueError, match="double_handed_share"):
        DayProfile(double_handed_share=1.5)
    with pytest.raises(ValueError, match="target_peak_load"):
        DayProfile(target_peak_load=0.7, max_peak_load=0.6)


@pytest.mark.parametrize("kwargs, name", [
    ({"split_shift_share": 1.5}, "split_shift_share"),
    ({"grocery_link_share": -0.1}, "grocery_link_share"),
    ({"week_worked_max_min": 49 * 60}, "week_worked_max_min"),
    ({"regular_carers": (4, 2)}, "regular_carers"),
    ({"history_visits": (0, 5)}, "history_visits"),
    ({"grocery_gap_min": (-5, 60)}, "grocery_gap_min"),
    ({"hair_gap_min": -1}, "hair_gap_min"),
])
def test_day_profile_rejects_bad_care_rule_knobs(kwargs, name):
    """The care-rule knobs are checked too, naming the argument."""
    with pytest.raises(ValueError, match=name):
        DayProfile(**kwargs)


# --------------------------------------------------------------------------- care rules

def test_generate_plan_history_gives_each_care_client_regular_carers(days):
    """Each care client has 2-4 regular carers with 4-20 visits in 28 days, each able to serve one of
    its calls today; only care clients have history; preferred carers are their most frequent regulars."""
    for plan in days.values():
        care_calls: dict[str, list[Visit]] = {}
        for v in plan.visits:
            if v.kind == "care":
                care_calls.setdefault(v.client_id, []).append(v)
        regulars: dict[str, list[tuple[str, int]]] = {}
        for h in plan.history:
            regulars.setdefault(h.client_id, []).append((h.worker_id, h.visits))
        assert set(regulars) == set(care_calls)
        for client_id, entries in regulars.items():
            ids = [w for w, _ in entries]
            assert 2 <= len(entries) <= 4 and len(set(ids)) == len(ids)
            assert all(4 <= n <= 20 for _, n in entries)
            for wid in ids:
                assert any(wid in _able(plan, v) for v in care_calls[client_id]), (client_id, wid)
                assert plan.familiar(client_id, wid)
            client = plan.client(client_id)
            assert not set(ids) & client.excluded_worker_ids
            most = [w for w, _ in sorted(entries, key=lambda e: -e[1])]
            assert set(client.preferred_worker_ids) == set(most[:len(client.preferred_worker_ids)])
        assert sum(bool(c.preferred_worker_ids) for c in plan.clients) >= 5


def test_generate_plan_links_groceries_before_lunch_and_hair_after_breakfast(days):
    """Links join visits at one client: groceries end 0-60 min before the lunch call, a haircut starts
    30+ min after the breakfast call ends, and both windows leave room for the gap."""
    seen = Counter()
    for plan in days.values():
        for v in plan.visits:
            for first_id, then_id, low, high in v.links():
                first, then = plan.visit(first_id), plan.visit(then_id)
                assert first.client_id == then.client_id
                if v.kind == "delivery":
                    assert v.before is not None and v.after is None
                    assert then.kind == "care" and _peak(then) == "lunch" and (low, high) == (0, 60)
                else:
                    assert v.kind == "hairdressing" and v.after is not None and v.before is None
                    assert first.kind == "care" and _peak(first) == "breakfast" and (low, high) == (30, None)
                # Some start of `then` keeps the gap after some start of `first`, for a while.
                d = first.duration_s
                latest = then.window.end if high is None else min(then.window.end, first.window.end + d + high * 60)
                assert latest - max(then.window.start, first.window.start + d + low * 60) >= LINK_MIN_ROOM_MIN * 60
                seen[v.kind] += 1
        assert all(v.kind in ("delivery", "hairdressing") for v in plan.visits if v.after or v.before)
    assert seen["delivery"] >= 6 and seen["hairdressing"] >= 3


def test_generate_plan_split_shifts_are_availability_inside_the_shift(days):
    """About the profile's share of all-day carers work split shifts: two availability windows
    (07:00-14:00, 16:00-22:00) inside a 07:00-22:00 shift; nobody else has availability windows."""
    split = [(p.start_s, p.end_s) for p in SPLIT_SHIFT_AVAILABILITY]
    for plan in days.values():
        carers = _workers_of(plan, "care")
        on_split = [w for w in carers if w.availability]
        all_day = [w for w in carers if (w.shift.start, w.shift.end) == (7 * 3600, 22 * 3600)]
        assert 0.2 <= len(on_split) / len(all_day) <= 0.4
        for w in on_split:
            assert [(a.start, a.end) for a in w.availability] == split
            assert all(w.shift.start <= a.start < a.end <= w.shift.end for a in w.availability)
            assert w.extra["shift_pattern"] == "split shift"
        assert not any(w.availability for w in plan.workers if w not in on_split)


def test_generate_plan_sizing_counts_only_available_time():
    """With every all-day carer on a split shift the day still holds: peaks are sized on available
    time, and every visit has enough eligible carers available when it can start."""
    profile = DayProfile(split_shift_share=1.0)
    plan = _generate(seed=4, profile=profile)
    carers = _workers_of(plan, "care")
    assert sum(bool(w.availability) for w in carers) > 0.8 * len(carers)
    assert max(peak_loads(plan).values()) <= profile.max_peak_load
    for v in plan.visits:
        need = (MIN_ELIGIBLE_DOUBLE if v.workers_required == 2 else MIN_ELIGIBLE_SINGLE) if v.kind == "care" \
            else v.workers_required
        assert len(_able(plan, v)) >= need, v
    # The afternoon lull is not counted: a carer available 07:00-14:00 and 16:00-22:00 adds
    # nothing between 14:00 and 16:00, though on shift.
    lull = [w for w in carers if w.availability]
    assert all(not any(a.start < 16 * 3600 and 14 * 3600 < a.end for a in w.availability) for w in lull)


def test_generate_plan_week_worked_leaves_each_rota_its_peak_time(days):
    """Carers have 0-40 h worked earlier in the week, in 15-min steps; what is left of the 48 h cap
    always covers their rota's peak time plus an hour, and a few carers are near the cap (35 h or more)."""
    for plan in days.values():
        carers = _workers_of(plan, "care")
        worked = [w.week_worked_min for w in carers]
        assert all(0 <= m <= 40 * 60 and m % 15 == 0 for m in worked)
        for w in carers:
            peak_s = sum(p.overlap_s(a) for p in PEAKS for a in (w.availability or (w.shift,)))
            room = DEFAULT_WEEKLY_CAP_MIN - w.week_worked_min
            assert room >= peak_s // 60 + WEEK_CAP_RESERVE_MIN, w
            assert plan.day_limit_min(w) is None or plan.day_limit_min(w) >= peak_s // 60
        assert 1 <= sum(m >= 35 * 60 for m in worked) <= len(carers) // 3
        assert len(set(worked)) > len(carers) // 2
        assert all(w.week_worked_min == 0 for w in plan.workers if w not in carers)


def test_generate_plan_pay_models_and_break_rules(days):
    """The care agency pays contact time only; the hairdresser and the supermarket pay by the hour
    worked; every provider keeps the default break rule."""
    for plan in days.values():
        pay = {p.kind: p.pay for p in plan.providers}
        assert pay["care"] == PayModel("hourly", hourly_rate=15.0, paid_time="contact")
        assert pay["hairdressing"].model == pay["delivery"].model == "hourly"
        assert pay["hairdressing"].paid_time == pay["delivery"].paid_time == "span"
        assert all(p.break_rule == BreakRule() for p in plan.providers)
    plan = _generate(seed=0, n_visits=40, profile=DayProfile(care_pay=PayModel("per_visit", per_visit_rate=9.0)))
    assert {p.kind: p.pay for p in plan.providers}["care"].model == "per_visit"


def test_care_rotas_leave_room_for_rest_breaks_outside_peaks():
    """Each stint longer than 6 h has a 20-min stretch of its break window outside every peak."""
    rule = BreakRule()
    for shift in CARE_SHIFTS:
        for stint in CARE_AVAILABILITY.get(shift.name, (shift,)):
            if stint.length_s <= rule.after_min * 60:
                continue
            window = rule.window_for(TimeWindow(stint.start_s, stint.end_s))
            starts = range(window.start, window.end + 1, 60)
            assert any(not any(p.start_s < t + rule.duration_min * 60 and t < p.end_s for p in PEAKS)
                       for t in starts), shift


# --------------------------------------------------------------------------- bundled plan

def test_cambridge_fixture_loads_with_expected_composition(fixture_plan):
    """The bundled plan loads, names the Cambridge network, and has the generator's properties."""
    plan = fixture_plan
    assert plan.date.isoformat() == "2026-11-24"
    assert plan.network == CAMBRIDGE_NETWORK
    assert len(plan.visits) == 300
    assert sorted(p.kind for p in plan.providers) == ["care", "delivery", "hairdressing"]
    assert 2 <= len(_workers_of(plan, "hairdressing")) <= 3
    assert 3 <= len(_workers_of(plan, "delivery")) <= 4
    care = [v for v in plan.visits if v.kind == "care"]
    assert 0.12 <= sum(v.workers_required == 2 for v in care) / len(care) <= 0.18
    assert all(_in_peak(v.window.start) for v in care)
    assert max(peak_loads(plan).values()) <= DayProfile().max_peak_load
    assert 28 <= len(_workers_of(plan, "care")) <= 34  # "about 30 workers" (issue 2)
    for v in plan.visits:
        assert eligibility(plan, v).ok
        assert len(_able(plan, v)) >= v.workers_required
    # Care rules (issue 3): links, split shifts, history, hours this week, pay.
    links = Counter(v.kind for v in plan.visits if v.after or v.before)
    assert links["delivery"] >= 2 and links["hairdressing"] >= 1
    assert 5 <= sum(bool(w.availability) for w in _workers_of(plan, "care")) <= 12
    assert {h.client_id for h in plan.history} == {v.client_id for v in care}
    assert max(w.week_worked_min for w in plan.workers) >= 35 * 60
    assert all(p.pay is not None for p in plan.providers)
    # Every site lies in central Cambridge.
    lat = np.array([c.location.lat for c in plan.clients])
    lon = np.array([c.location.lon for c in plan.clients])
    assert (_metres_from_centre(lat, lon, 52.2046, 0.1373) < 4500).all()


def _make_plans() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_plans", ROOT / "fixtures" / "plans" / "make_plans.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_generate_day_reproduces_cambridge_fixture(fixture_plan, network_cache_dir: Path):
    """Regenerating from the Cambridge network with the recorded seed gives the bundled plan,
    whose homes all lie on central nodes that every travel mode can route between.

    This is the one test that loads the Cambridge network.
    """
    from solver.generate import SITE_RADIUS_M, candidate_sites
    from solver.network import load_network

    make_plans = _make_plans()
    assert make_plans.PLANS[FIXTURE.name]["network_path"] == CAMBRIDGE_NETWORK
    plan = make_plans.make_plan(FIXTURE.name, cache_dir=network_cache_dir)
    assert plan.network == CAMBRIDGE_NETWORK
    assert plan == fixture_plan
    assert plan_to_dict(plan) == plan_to_dict(fixture_plan)

    network = load_network(ROOT / CAMBRIDGE_NETWORK, cache_dir=network_cache_dir)
    sites = candidate_sites(network)
    for mode in ("drive", "walk", "cycle"):
        assert np.isin(sites, network.mode(mode).routable).all()
    d = _metres_from_centre(network.lat[sites], network.lon[sites], network.lat.mean(), network.lon.mean())
    assert d.max() <= SITE_RADIUS_M * 1.01
    on_sites = set(zip(network.lat[sites].tolist(), network.lon[sites].tolist()))
    homes = [(c.location.lat, c.location.lon) for c in plan.clients]
    homes += [(w.start_location.lat, w.start_location.lon) for w in plan.workers]
    assert set(homes) <= on_sites
