"""Generated equipment (the County Equipment Service) and a generated week of plans (scheduler.generate)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from scheduler.eligibility import eligibility
from scheduler.generate import DayProfile, generate_plan, generate_week, week_file, write_week
from scheduler.io import load_plan, plan_to_dict
from scheduler.rules.equipment import sources
from scheduler.validate import validate_plan
from tests.scheduler.test_generate import SITE_LAT, SITE_LON

ROOT = Path(__file__).resolve().parents[2]
MONDAY = dt.date(2026, 12, 7)


@pytest.fixture(scope="module")
def equipped():
    """A 300-visit day with 2% installations."""
    return generate_plan(SITE_LAT, SITE_LON, seed=3, profile=DayProfile(equipment_share=0.02))


@pytest.fixture(scope="module")
def week():
    """A week of small days from Monday 7 December 2026."""
    return generate_week(SITE_LAT, SITE_LON, seed=5, n_visits=200, start=MONDAY)


def test_equipment_is_off_by_default_and_the_day_is_unchanged():
    """Without equipment_share the day has no equipment service; with it, installations count among n_visits."""
    plain = generate_plan(SITE_LAT, SITE_LON, seed=3, n_visits=120)
    on = generate_plan(SITE_LAT, SITE_LON, seed=3, n_visits=120, profile=DayProfile(equipment_share=0.05))

    assert "equipment" not in {p.kind for p in plain.providers}
    assert not any(v.needs_equipment or v.installs for v in plain.visits)
    assert {p.kind for p in on.providers} == {"care", "hairdressing", "delivery", "equipment"}
    assert len(on.visits) == len(plain.visits) == 120


def test_equipment_provider_technicians_and_installations(equipped):
    """The County Equipment Service's technicians can install every item; installations last 45-90 min."""
    kit = next(p for p in equipped.providers if p.kind == "equipment")
    technicians = [w for w in equipped.workers if w.provider_id == kit.id]
    installs = [v for v in equipped.visits if v.installs]

    assert kit.name == "County Equipment Service" and len(technicians) >= 2
    assert len(installs) == 6 and all(v.kind == "equipment" and v.provider_id == kit.id for v in installs)
    assert all(45 <= v.duration_min <= 90 and v.required_skills == {v.installs} for v in installs)
    for item in {v.installs for v in installs}:
        assert sum(item in w.skills for w in technicians) >= 2
    assert all(len(eligibility(equipped, v).worker_ids) >= 1 for v in installs)


def test_transfers_need_a_hoist_that_is_in_place_in_time(equipped):
    """Double-handed transfers need a hoist; each can be served (installed earlier, or installed before its window)."""
    transfers = [v for v in equipped.visits if v.needs_equipment]

    assert transfers and all(v.needs_equipment == {"hoist"} and v.workers_required == 2 for v in transfers)
    new = [v for v in transfers if sources(equipped, v)[0].installations]
    assert new, "some transfers wait for a hoist installed today"
    for v in transfers:
        assert eligibility(equipped, v).ok, v.id
        (source,) = sources(equipped, v)
        assert source.earliest() <= v.window.start


def test_equipment_day_is_deterministic():
    """The same seed gives the same day with equipment."""
    a = generate_plan(SITE_LAT, SITE_LON, seed=4, n_visits=150, profile=DayProfile(equipment_share=0.03))
    b = generate_plan(SITE_LAT, SITE_LON, seed=4, n_visits=150, profile=DayProfile(equipment_share=0.03))
    assert plan_to_dict(a) == plan_to_dict(b)


def test_week_has_a_valid_plan_per_date_with_the_same_clients(week):
    """Seven plans, one per date in order, each valid, with the same client ids."""
    assert [p.date for p in week] == [MONDAY + dt.timedelta(days=i) for i in range(7)]
    for plan in week:
        validate_plan(plan)
    assert len({tuple(c.id for c in p.clients) for p in week}) == 1


def test_week_care_recurs_every_day(week):
    """Every care visit recurs every day, same id, client and window."""
    care = [{(v.id, v.client_id, str(v.window)) for v in p.visits if v.kind == "care"} for p in week]
    assert care[0] and all(day == care[0] for day in care)


def test_week_hairdresser_weekly_and_deliveries_twice(week):
    """Each haircut is on one weekday, Monday to Friday; each delivery on two days three apart."""
    days_of: dict[str, list[int]] = {}
    kind = {}
    for plan in week:
        for v in plan.visits:
            if v.kind in ("hairdressing", "delivery"):
                days_of.setdefault(v.id, []).append(plan.date.weekday())
                kind[v.id] = v.kind
    hair = [d for vid, d in days_of.items() if kind[vid] == "hairdressing"]
    drops = [d for vid, d in days_of.items() if kind[vid] == "delivery"]
    assert hair and all(len(d) == 1 and d[0] < 5 for d in hair)
    assert drops and all(len(d) == 2 and d[1] - d[0] == 3 for d in drops)


def test_week_weekend_has_fewer_staff(week):
    """No hairdressers or technicians at the weekend and no vans on Sunday; the carers work every day."""
    per_day = [Counter({p.kind: 0 for p in plan.providers}) + Counter(plan.provider(w.provider_id).kind
                                                                   for w in plan.workers) for plan in week]
    weekday, saturday, sunday = per_day[0], per_day[5], per_day[6]
    assert sum(saturday.values()) < sum(weekday.values()) and sum(sunday.values()) < sum(saturday.values())
    assert saturday["hairdressing"] == saturday["equipment"] == sunday["delivery"] == 0
    assert len({c["care"] for c in per_day}) == 1


def test_week_installations_happen_once_and_hoists_stay(week):
    """An installation is on one date; its client's hoist is in place (installed earlier) on the dates after."""
    installed: dict[tuple[str, str], dt.date] = {}
    for plan in week:
        for v in plan.visits:
            if v.installs:
                assert (v.client_id, v.installs) not in installed
                installed[(v.client_id, v.installs)] = plan.date
    assert installed
    for (client_id, item), day in installed.items():
        for plan in week:
            has = {e.item: e.installed_from for e in plan.client(client_id).equipment}
            assert (item in has and has[item] is None) == (plan.date > day), (client_id, item, plan.date)


def test_week_keeps_history_and_is_deterministic(week):
    """Each date carries the same history (continuity); the same seed gives the same week."""
    assert week[0].history and all(p.history == week[0].history for p in week)
    again = generate_week(SITE_LAT, SITE_LON, seed=5, n_visits=200, start=MONDAY)
    assert [plan_to_dict(p) for p in again] == [plan_to_dict(p) for p in week]


def test_write_week_names_files_by_date(week, tmp_path):
    """write_week writes plan-YYYY-MM-DD.json per date, and they read back equal."""
    files = write_week(week[:2], tmp_path / "w")

    assert [f.name for f in files] == ["plan-2026-12-07.json", "plan-2026-12-08.json"]
    assert load_plan(files[1]) == week[1]
    assert week_file(MONDAY) == "plan-2026-12-07.json"


def test_generate_week_rejects_no_days():
    """days below 1 is refused, naming the argument."""
    with pytest.raises(ValueError, match="days"):
        generate_week(SITE_LAT, SITE_LON, seed=1, days=0)


def test_bundled_week_is_seven_small_plans_with_equipment():
    """fixtures/plans/week holds seven dates of 150-300 visits, with installations and hoists."""
    files = sorted((ROOT / "fixtures" / "plans" / "week").glob("plan-*.json"))
    plans = [load_plan(f) for f in files]

    assert len(plans) == 7 and [f.name for f in files] == [week_file(p.date) for p in plans]
    assert all(150 <= len(p.visits) <= 300 for p in plans)
    assert any(v.installs for p in plans for v in p.visits)
    assert any(v.needs_equipment for p in plans for v in p.visits)


@pytest.mark.slow
def test_make_plans_reproduces_the_bundled_week(network_cache_dir: Path):
    """Regenerating the week from the Cambridge network and its seed gives the bundled files."""
    from tests.scheduler.test_generate import _make_plans

    plans = _make_plans().make_week("week", cache_dir=network_cache_dir)
    folder = ROOT / "fixtures" / "plans" / "week"

    assert [plan_to_dict(p) for p in plans] == [plan_to_dict(load_plan(folder / week_file(p.date))) for p in plans]
