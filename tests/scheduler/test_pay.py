"""The pay check (:mod:`scheduler.pay`) on hand-made rosters whose right answer is worked out by hand.

Every leg between two distinct places takes 10 minutes (:class:`tests.helpers.FixedTravel`),
and every roster built here passes :func:`scheduler.validate.check_roster` with that oracle.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scheduler.errors import ConfigError, UnknownReferenceError
from scheduler.io import plan_from_dict, write_plan, write_roster
from scheduler.model import PayModel, Plan
from scheduler.pay import DEFAULT_NMW, pay_check, pay_report, working_time
from scheduler.roster import Break, Roster, make_route
from scheduler.validate import check_roster
from tests.helpers import FixedTravel, client, make_roster, plan_dict, provider, stop, visit, worker

LEG_S = 600
TRAVEL = FixedTravel(LEG_S, 2000)


def _plan(pay: dict | None = None, *, availability: list | None = None, durations=(30, 30, 30),
          windows=(("08:00", "09:00"), ("09:00", "10:00"), ("10:00", "11:00")), **kw) -> Plan:
    """One carer (07:30-16:00) and one visit per window, each at its own client."""
    places = ("fitzroy_sq", "warren_st", "gordon_sq", "russell_sq")
    extra = {} if availability is None else {"availability": availability}
    return plan_from_dict(plan_dict(
        providers=[provider("care-1", **({"pay": pay} if pay else {}))],
        workers=[worker("w1", shift=("07:30", "16:00"), **extra)],
        clients=[client(f"c{i}", location=places[i]) for i in range(len(windows))],
        visits=[visit(f"v{i}", f"c{i}", window=w, duration_min=d)
                for i, (w, d) in enumerate(zip(windows, durations, strict=True))],
        **kw,
    ))


def _roster(plan: Plan, starts: list[str], durations=(30, 30, 30)) -> Roster:
    """Worker w1 serves v0, v1, … at these starts, each leg 10 min, arriving as early as possible."""
    stops, free = [], None
    for i, (start, minutes) in enumerate(zip(starts, durations, strict=False)):
        s = stop(f"v{i}", start, minutes, travel_s=LEG_S, travel_m=2000)
        arrival = s.start if free is None else free + LEG_S
        s = dataclasses.replace(s, arrival=arrival)
        stops.append(s)
        free = s.end
    roster = make_roster(plan, {"w1": stops})
    assert check_roster(plan, roster, travel=TRAVEL) == [], check_roster(plan, roster, travel=TRAVEL)
    return roster


def test_pay_hourly_contact_only_with_long_waits_is_below_minimum():
    """£15/h for contact only, three 30-min visits 08:00-11:00 with 35-min waits: £22.50 for 3 h of work.

    Working time 08:00-11:00 = 3 h (90 min visits, 20 min travel, 70 min waiting);
    £22.50 / 3 h = £7.50/h; shortfall 3 x £12.71 - £22.50 = £15.63.
    """
    plan = _plan({"model": "hourly", "hourly_rate": 15.0, "paid_time": "contact"})
    (row,) = pay_check(plan, _roster(plan, ["08:00", "09:15", "10:30"]))
    assert (row.worker_id, row.provider_id, row.visits) == ("w1", "care-1", 3)
    assert (row.working_s, row.contact_s, row.travel_s, row.waiting_s, row.own_time_s) == (
        3 * 3600, 90 * 60, 20 * 60, 70 * 60, 0)
    assert row.commute_s == LEG_S  # home to the first visit; no leg back home in this roster
    assert row.paid_s == 90 * 60
    assert row.pay == pytest.approx(22.50)
    assert row.effective_hourly == pytest.approx(7.50)
    assert row.below_minimum and row.shortfall == pytest.approx(15.63)


@pytest.mark.parametrize("paid_time, paid_min, pay, below", [
    ("contact", 90, 22.50, True),
    ("contact_and_travel", 110, 27.50, True),
    ("span", 180, 45.00, False),
])
def test_pay_paid_time_variants(paid_time, paid_min, pay, below):
    """The same day at £15/h: contact pays 90 min, contact and travel 110 min, the span all 180 min."""
    plan = _plan({"model": "hourly", "hourly_rate": 15.0, "paid_time": paid_time})
    (row,) = pay_check(plan, _roster(plan, ["08:00", "09:15", "10:30"]))
    assert row.paid_s == paid_min * 60
    assert row.pay == pytest.approx(pay)
    assert row.effective_hourly == pytest.approx(pay / 3)
    assert row.below_minimum is below
    assert row.shortfall == (pytest.approx(round(3 * DEFAULT_NMW - pay, 2)) if below else 0.0)


def test_pay_per_visit_with_short_visits_and_long_travel_is_below_minimum():
    """£5 a visit, three 15-min visits 20 min apart by road (two 10-min legs, waits of 10 min).

    Working time 08:00-09:25 = 85 min; £15 / (85/60 h) = £10.59/h;
    shortfall 12.71 x 85/60 - 15 = £3.01.
    """
    durations = (15, 15, 15)
    plan = _plan({"model": "per_visit", "per_visit_rate": 5.0}, durations=durations,
                 windows=(("08:00", "10:00"),) * 3)
    (row,) = pay_check(plan, _roster(plan, ["08:00", "08:35", "09:10"], durations))
    assert row.working_s == 70 * 60 + 15 * 60
    assert (row.contact_s, row.travel_s, row.waiting_s) == (45 * 60, 20 * 60, 20 * 60)
    assert row.paid_s == row.contact_s
    assert row.pay == pytest.approx(15.0)
    assert row.effective_hourly == pytest.approx(15.0 / (85 / 60))
    assert row.below_minimum and row.shortfall == pytest.approx(3.01)


def test_pay_per_visit_back_to_back_visits_is_above_minimum():
    """£5 a visit with no waiting (leave, drive 10 min, start): 65 min of work for £15, £13.85/h."""
    durations = (15, 15, 15)
    plan = _plan({"model": "per_visit", "per_visit_rate": 5.0}, durations=durations,
                 windows=(("08:00", "09:00"), ("08:00", "09:00"), ("08:00", "09:00")))
    (row,) = pay_check(plan, _roster(plan, ["08:00", "08:25", "08:50"], durations))
    assert (row.working_s, row.waiting_s) == (65 * 60, 0)
    assert row.effective_hourly == pytest.approx(15 / (65 / 60))
    assert not row.below_minimum and row.shortfall == 0.0


def test_pay_long_wait_is_own_time_unless_every_wait_counts():
    """A 90-min wait is the carer's own time by default (60-min threshold), working time with None."""
    plan = _plan({"model": "hourly", "hourly_rate": 12.71, "paid_time": "contact_and_travel"},
                 windows=(("08:00", "09:00"), ("10:00", "11:00")), durations=(30, 30))
    roster = _roster(plan, ["08:00", "10:10"], (30, 30))
    (default,) = pay_check(plan, roster)
    assert (default.working_s, default.waiting_s, default.own_time_s) == (70 * 60, 0, 90 * 60)
    assert not default.below_minimum  # paid for visits and travel at the minimum rate: exactly the minimum
    (strict,) = pay_check(plan, roster, own_time_gap_min=None)
    assert (strict.working_s, strict.waiting_s, strict.own_time_s) == (160 * 60, 90 * 60, 0)
    assert strict.below_minimum and strict.shortfall == pytest.approx(12.71 * 90 / 60, abs=0.01)


def test_pay_split_shift_break_is_never_working_time():
    """The gap between two availability windows is off duty even when every wait counts."""
    plan = _plan({"model": "hourly", "hourly_rate": 14.0, "paid_time": "contact"},
                 availability=[{"start": "08:00", "end": "12:00"}, {"start": "14:00", "end": "16:00"}],
                 windows=(("11:00", "11:30"), ("14:00", "15:00")), durations=(30, 30))
    (row,) = pay_check(plan, _roster(plan, ["11:00", "14:00"], (30, 30)), own_time_gap_min=None)
    assert (row.contact_s, row.travel_s, row.waiting_s, row.own_time_s) == (3600, 600, 0, 140 * 60)
    assert row.working_s == 70 * 60
    assert row.pay == pytest.approx(14.0) and row.below_minimum  # £14 for 70 min is £12.00/h


def test_pay_rest_break_is_not_working_time():
    """A 20-min rest break between two visits is neither waiting nor work: 70 min worked, not 90."""
    plan = _plan({"model": "hourly", "hourly_rate": 12.71, "paid_time": "span"},
                 windows=(("08:00", "09:00"), ("08:00", "10:00")), durations=(30, 30))
    stops = [stop("v0", "08:00", travel_s=LEG_S, travel_m=2000),
             stop("v1", "09:00", travel_s=LEG_S, travel_m=2000, arrival="09:00")]
    roster = make_roster(plan, [make_route("w1", stops, breaks=[Break(8 * 3600 + 1800, 8 * 3600 + 3000)])])
    assert check_roster(plan, roster, travel=TRAVEL) == []
    (row,) = pay_check(plan, roster, own_time_gap_min=None)
    assert (row.working_s, row.contact_s, row.travel_s, row.waiting_s, row.break_s) == (4200, 3600, 600, 0, 1200)
    assert not row.below_minimum  # span pay at the minimum rate is exactly the minimum


def test_pay_without_pay_model_skips_or_uses_default():
    """A provider with no pay model is skipped with a note, or assessed under the default given."""
    plan = _plan(None)
    roster = _roster(plan, ["08:00", "09:15", "10:30"])
    report = pay_report(plan, roster)
    assert report.workers == () and [s.worker_id for s in report.skipped] == ["w1"]
    assert "provider 'care-1' has no pay model: its 1 worker with visits is not checked" in report.notes()[0]
    assert report.summary().endswith("; 1 worker not checked (no pay model)")
    assert pay_check(plan, roster) == []
    (row,) = pay_check(plan, roster, default_pay=PayModel("hourly", hourly_rate=15.0, paid_time="contact"))
    assert row.assumed and row.pay == pytest.approx(22.50)


def test_pay_report_summary_counts_workers_below_and_total_shortfall():
    """Two carers below the minimum: the summary counts both and adds their shortfalls."""
    data = plan_dict(
        providers=[provider("care-1", pay={"model": "hourly", "hourly_rate": 15.0, "paid_time": "contact"})],
        workers=[worker(w, shift=("07:30", "16:00"), start_location=home)
                 for w, home in (("w1", "great_portland_st"), ("w2", "queen_sq"), ("idle", "marylebone"))],
        clients=[client("c0", location="fitzroy_sq"), client("c1", location="warren_st")],
        visits=[visit("v0", "c0"), visit("v1", "c1"), visit("v2", "c0", window=("10:00", "11:00")),
                visit("v3", "c1", window=("10:00", "11:00"))],
    )
    plan = plan_from_dict(data)
    roster = make_roster(plan, {
        "w1": [stop("v0", "08:00", travel_s=LEG_S, travel_m=2000), stop("v2", "10:00", travel_s=0, travel_m=0,
                                                                        arrival="08:30")],
        "w2": [stop("v1", "08:00", travel_s=LEG_S, travel_m=2000), stop("v3", "10:00", travel_s=0, travel_m=0,
                                                                        arrival="08:30")],
        "idle": [],
    })
    assert check_roster(plan, roster, travel=TRAVEL) == []
    # Each: 08:00-10:30 with every wait counted (90 min at the same client): 150 min of work, £15 paid.
    report = pay_report(plan, roster, own_time_gap_min=None)
    assert [w.worker_id for w in report.workers] == ["w1", "w2"]  # no row for a worker with no visits
    assert len(report.below) == 2
    each = round(12.71 * 2.5 - 15.0, 2)
    assert report.total_shortfall == pytest.approx(2 * each)
    assert report.summary() == (f"2 of 2 workers paid below the minimum wage of £12.71/h for the day; "
                                f"total shortfall £{2 * each:.2f}")
    assert json.loads(json.dumps(report.to_dict()))["summary"]["below_minimum"] == 2


def test_pay_minimum_wage_is_configurable():
    """At a £7/h minimum the contact-only day above (£7.50/h) is no longer flagged."""
    plan = _plan({"model": "hourly", "hourly_rate": 15.0, "paid_time": "contact"})
    (row,) = pay_check(plan, _roster(plan, ["08:00", "09:15", "10:30"]), minimum_wage=7.0)
    assert not row.below_minimum and row.shortfall == 0.0


def test_pay_rejects_bad_arguments_and_foreign_rosters():
    """A negative minimum wage is a ConfigError; a route of an unknown worker is an unknown reference."""
    plan = _plan({"model": "hourly", "hourly_rate": 15.0})
    roster = _roster(plan, ["08:00", "09:15", "10:30"])
    with pytest.raises(ConfigError, match="minimum_wage"):
        pay_check(plan, roster, minimum_wage=-1)
    with pytest.raises(ConfigError, match="own_time_gap_min"):
        pay_check(plan, roster, own_time_gap_min=-5)
    stranger = dataclasses.replace(roster, routes=(dataclasses.replace(roster.routes[0], worker_id="nobody"),))
    with pytest.raises(UnknownReferenceError, match="nobody"):
        pay_check(plan, stranger)


def test_working_time_of_an_empty_day_is_zero():
    """A worker with no stops has no working time."""
    plan = _plan(None)
    assert working_time(plan.worker("w1"), ()).working_s == 0


# --------------------------------------------------------------------------- command line

@pytest.fixture
def pay_files(tmp_path: Path) -> tuple[Path, Path]:
    """Write the contact-only day above as a plan file and a roster file naming it in ``meta.plan``."""
    plan = _plan({"model": "hourly", "hourly_rate": 15.0, "paid_time": "contact"})
    plan_path = write_plan(plan, tmp_path / "plan.json")
    roster = dataclasses.replace(_roster(plan, ["08:00", "09:15", "10:30"]), meta={"plan": str(plan_path)})
    return plan_path, write_roster(roster, tmp_path / "roster.json")


def _app():
    import typer

    from homecare_cli.care import register

    app = typer.Typer()
    register(app)
    return app


def test_cli_pay_prints_flags_and_exits_zero(pay_files):
    """``homecare pay ROSTER`` finds the plan from the roster, shows the worker below, exits 0."""
    _, roster_path = pay_files
    result = CliRunner().invoke(_app(), ["pay", str(roster_path)])
    assert result.exit_code == 0, result.output
    assert "w1" in result.output and "7.50" in result.output and "15.63" in result.output
    assert "1 of 1 worker paid below the minimum wage of £12.71/h" in result.output


def test_cli_pay_writes_csv_and_json(pay_files, tmp_path):
    """--csv writes one row per worker; --json - prints the report; --minimum-wage changes the verdict."""
    plan_path, roster_path = pay_files
    out = tmp_path / "pay.csv"
    result = CliRunner().invoke(_app(), ["pay", str(roster_path), "--plan", str(plan_path), "--csv", str(out)])
    assert result.exit_code == 0, result.output
    (row,) = csv.DictReader(out.open())
    assert (row["worker_id"], row["below_minimum"], row["shortfall"], row["working_s"]) == ("w1", "True", "15.63",
                                                                                           "10800")
    result = CliRunner().invoke(_app(), ["pay", str(roster_path), "--json", "-", "--minimum-wage", "7"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["minimum_wage"] == 7.0 and data["summary"]["below_minimum"] == 0


def test_cli_pay_default_rate_and_missing_plan(pay_files, tmp_path):
    """A roster that names no plan needs --plan (exit 2); --per-visit-rate covers providers with none."""
    plan_path, roster_path = pay_files
    data = json.loads(roster_path.read_text())
    data["meta"] = {}
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(data))
    result = CliRunner().invoke(_app(), ["pay", str(bare)])
    assert result.exit_code == 2 and "--plan" in result.output
    plain = _plan(None)
    plain_path = write_plan(plain, tmp_path / "plain.json")
    result = CliRunner().invoke(_app(), ["pay", str(bare), "--plan", str(plain_path)])
    assert result.exit_code == 0 and "no pay model" in result.output
    result = CliRunner().invoke(_app(), ["pay", str(bare), "--plan", str(plain_path), "--per-visit-rate", "20"])
    assert result.exit_code == 0 and "£20.00/visit*" in result.output
    assert "0 of 1 worker paid below" in result.output
