"""The front door's domain side: reading a request, the slot grid, green, ranking, the resident's words."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.errors import PlanError
from scheduler.model import Location, TimeWindow
from scheduler.offers import (
    RESIDENT_WORDS,
    SLOT_MIN,
    Offer,
    Recurrence,
    Slot,
    in_residents_words,
    mark_green,
    rank,
    recurring_dates,
    request_from_dict,
    slot_starts,
)
from scheduler.rules import UNASSIGNED_CODES
from scheduler.timeutil import parse_hhmm

MON = dt.date(2026, 11, 23)
WEEK = tuple(MON + dt.timedelta(days=i) for i in range(14))


def test_request_defaults_dates_and_slot_by_kind():
    """With no dates the quoter's are searched; the slot length is the kind's (60 min for a delivery)."""
    req = request_from_dict({"client_id": "c1", "kind": "delivery", "duration_min": 10}, dates=WEEK[:3])
    assert req.dates == WEEK[:3]
    assert req.slot_min == SLOT_MIN["delivery"] == 60
    assert req.workers_required == 1 and req.recurrence is None and req.new_client is None
    care = request_from_dict({"client_id": "c1", "kind": "care", "duration_min": 30, "dates": ["2026-11-24"]},
                             dates=WEEK)
    assert care.slot_min == 30 and care.dates == (dt.date(2026, 11, 24),)


def test_request_reads_new_client_preferred_times_and_recurrence():
    """A new client's home and preference, the preferred times and a fortnightly repeat are read."""
    req = request_from_dict({
        "client": {"location": {"lat": 51.52, "lon": -0.14}, "postcode": "W1T 1AA", "gender_preference": "f"},
        "kind": "hairdressing", "duration_min": 45, "required_skills": ["colour"],
        "preferred_times": [{"start": "14:00", "end": "17:00"}, {"start": "09:00", "end": "12:00"}],
        "recurrence": {"weekdays": ["tue", "Thursday"], "every_n_weeks": 2}, "slot_min": 60})
    assert req.new_client is not None and req.new_client.location == Location(51.52, -0.14)
    assert req.new_client.gender_preference == "f" and req.new_client.postcode == "W1T 1AA"
    assert req.preferred_times == (TimeWindow(parse_hhmm("09:00"), parse_hhmm("12:00")),
                                   TimeWindow(parse_hhmm("14:00"), parse_hhmm("17:00")))
    assert req.recurrence == Recurrence(frozenset({1, 3}), 2)
    assert req.required_skills == frozenset({"colour"}) and req.slot_s == 3600


def test_request_gathers_every_problem_naming_record_request_and_field():
    """Every problem is reported at once, each naming record ``request`` and its field."""
    with pytest.raises(PlanError) as info:
        request_from_dict({"kind": "taxi", "duration_min": 0, "workers_required": 3, "slot_min": 7,
                           "dates": ["2026-13-01"], "preferred_times": [{"start": "10:00", "end": "09:00"}],
                           "recurrence": {"weekdays": ["someday"], "every_n_weeks": 0}, "colour": "red"})
    fields = {p.field for p in info.value.problems}
    assert {p.record_kind for p in info.value.problems} == {"request"}
    assert {"colour", "kind", "duration_min", "workers_required", "slot_min", "dates[0]", "preferred_times[0].end",
            "recurrence.weekdays[0]", "recurrence.every_n_weeks", "client_id"} <= fields


def test_request_refuses_both_client_id_and_client_and_a_bad_location():
    """A request names one client: an id, or a new one with a location on the globe."""
    with pytest.raises(PlanError) as info:
        request_from_dict({"client_id": "c1", "client": {"location": {"lat": 95, "lon": 0}, "gender_preference": "z"},
                           "kind": "care", "duration_min": 30})
    fields = {p.field for p in info.value.problems}
    assert {"client", "client.location.lat", "client.gender_preference"} <= fields


def test_recurring_dates_counts_weeks_from_the_first_dates_week():
    """Fortnightly on Tuesdays and Fridays from a Wednesday start: that week's Friday, then two weeks on."""
    dates = WEEK[2:]  # Wednesday 25 November onwards
    got = recurring_dates(Recurrence(frozenset({1, 4}), 2), dates)
    assert got == [dt.date(2026, 11, 27)]
    weekly = recurring_dates(Recurrence(frozenset({1, 4}), 1), dates)
    assert weekly == [dt.date(2026, 11, 27), dt.date(2026, 12, 1), dt.date(2026, 12, 4)]


def test_slot_starts_keeps_the_first_minute_the_worker_can_make_in_each_window():
    """A worker free to start 09:10-10:40 gets the 09:00, 09:30, 10:00 and 10:30 windows, starting 09:10 in the first."""
    got = slot_starts(parse_hhmm("09:10"), parse_hhmm("10:40"), 1800)
    assert got == [(parse_hhmm("09:00"), parse_hhmm("09:10")), (parse_hhmm("09:30"), parse_hhmm("09:30")),
                   (parse_hhmm("10:00"), parse_hhmm("10:00")), (parse_hhmm("10:30"), parse_hhmm("10:30"))]
    morning = (TimeWindow(parse_hhmm("09:30"), parse_hhmm("10:30")),)
    assert [t for t, _ in slot_starts(parse_hhmm("09:10"), parse_hhmm("10:40"), 1800, morning)] == [
        parse_hhmm("09:30"), parse_hhmm("10:00")]


def _offer(date: dt.date, hhmm: str, extra: int, workers: int = 1) -> Offer:
    t = parse_hhmm(hhmm)
    ids = tuple(f"w{i}" for i in range(workers))
    return Offer((Slot(date, t, t + 1800, t, ids, (0,) * workers, extra, 0.0, False, "care-1"),))


def test_green_is_little_travel_or_the_days_lowest_quartile_within_ten_minutes():
    """Green: at most 5 min per worker, or in the date's lowest quartile and at most 10 min per worker."""
    day = MON
    offers = [_offer(day, "09:00", 200), _offer(day, "09:30", 900), _offer(day, "10:00", 1200),
              _offer(day, "10:30", 1500), _offer(day, "11:00", 1800), _offer(day, "11:30", 700, workers=2)]
    green = {o.window_start: o.green for o in mark_green(offers)}
    assert green[parse_hhmm("09:00")] and green[parse_hhmm("11:30")]  # 200 s; 350 s per worker
    assert not green[parse_hhmm("09:30")]  # 900 s: over 5 min and above the quartile
    far = mark_green([_offer(day, "09:00", 550), _offer(day, "09:30", 580), _offer(day, "10:00", 1400)])
    assert [o.green for o in far] == [True, False, False]  # 550 s: the quartile and within 10 min
    farther = mark_green([_offer(day, "09:00", 700), _offer(day, "09:30", 1300)])
    assert [o.green for o in farther] == [False, False]  # the quartile, but over 10 min


def test_rank_puts_green_first_then_least_travel_then_earliest():
    """Ranking: green, then extra travel, then date and time."""
    offers = mark_green([_offer(MON, "15:00", 100), _offer(MON, "09:00", 2000), _offer(MON, "08:00", 100),
                         _offer(WEEK[1], "07:00", 2000), _offer(MON, "10:00", 1700)])
    got = [(o.date, o.window_start) for o in rank(offers)]
    assert got[:2] == [(MON, parse_hhmm("08:00")), (MON, parse_hhmm("15:00"))]
    assert got[2:] == [(MON, parse_hhmm("10:00")), (MON, parse_hhmm("09:00")), (WEEK[1], parse_hhmm("07:00"))]


def test_residents_words_name_the_service_and_the_day():
    """"no hairdresser works on Tuesdays in your area", from code ``no_provider``."""
    said = in_residents_words("no_provider", kind="hairdressing", date=dt.date(2026, 11, 24))
    assert said == "no hairdresser works on Tuesday 24 November in your area"
    assert in_residents_words("busy", kind="care", date=MON) == \
        "every carer who could come is fully booked on Monday 23 November"


def test_every_unassigned_code_has_resident_words():
    """Each public code a worker's day or eligibility can give has a sentence (no code or brace leaks through)."""
    for code in UNASSIGNED_CODES:
        if code == "search":
            continue
        assert code in RESIDENT_WORDS, code
        said = in_residents_words(code, kind="delivery", date=MON)
        assert "{" not in said and "_" not in said
