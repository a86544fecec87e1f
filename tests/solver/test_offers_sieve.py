"""Quoting least travel first (scheduler.day.Sieve, solver.offers._least_travel_first) on a real published day.

The sieve bounds every position of every worker day at once; a day is then asked
only where a place could still be the best of a slot window. These tests hold it
to the engine on the bundled week's first date, solved on Cambridge's roads (stints,
rest breaks, full days): every place the engine gives lies inside its position's
bounds at the travel the sieve says, one position asked alone answers as among all,
and quotes are the same as asking every place, for known and new clients.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from scheduler.day import Sieve, WorkerDay
from scheduler.io import load_plan
from scheduler.model import Location, TimeWindow
from scheduler.offers import NewClient, OfferRequest
from scheduler.validate import check_roster
from solver import network_for, run, travel_for
from solver.offers import Published, quote
from solver.params import SolveParams

WEEK = Path(__file__).resolve().parents[2] / "fixtures" / "plans" / "week"


@pytest.fixture(scope="module")
def week_day(network_cache_dir: Path) -> tuple[Published, Published, object]:
    """The bundled week's first two dates, each solved for 3 s and checked, and the road network."""
    days = []
    network = None
    for path in sorted(WEEK.glob("plan-*.json"))[:2]:
        plan = load_plan(path)
        network = network_for(plan, cache_dir=network_cache_dir)
        travel = travel_for(plan, network, cache_dir=network_cache_dir)
        result = run(plan, params=SolveParams(time_limit_s=3, seed=1), travel=travel)
        assert check_roster(plan, result.roster, travel=travel) == []
        days.append(Published(plan, result.roster, travel))
    return days[0], days[1], network


def _visits(day: Published, n: int, seed: int):  # noqa: ANN202
    """Random visits of the day's clients: windows, durations, demand as a quote asks them."""
    rng = random.Random(seed)
    plan = day.plan
    for i in range(n):
        base = rng.choice(plan.visits)
        start = rng.choice(range(6, 20)) * 3600
        window = TimeWindow(start, min(86_400 - 3600, start + rng.choice([1, 3, 8]) * 3600))
        yield dataclasses.replace(base, id=f"asked-{i}", window=window, duration_min=rng.choice([10, 30, 45, 60]),
                                  workers_required=1, pinned_worker_id=None)


def test_every_place_lies_in_its_positions_bounds_at_the_sieves_travel(week_day):
    """Each place of every worker day lies in a candidate position's bounds, at the travel the sieve says.

    A position asked alone gives that position's places and no others; candidates
    come least travel first.
    """
    day, _, _ = week_day
    plan, travel = day.plan, day.travel
    mode = plan.workers[0].travel_mode
    index = {loc: i for i, loc in enumerate(travel.locations)}
    matrix = travel.matrix(mode).time_s
    rows = matrix.tolist()
    ids = [w.id for w in plan.workers if w.travel_mode == mode]
    days = [WorkerDay(plan, plan.worker(wid), day.roster.route(wid), travel, rows=(index, rows)) for wid in ids]
    sieve = Sieve(days, matrix)
    asked = placed = 0
    for visit in _visits(day, 40, seed=7):
        here = index[plan.visit_location(visit)]
        found = sieve.candidates(visit, here, range(len(days)))
        assert [c[0] for c in found] == sorted(c[0] for c in found)
        bounds = {(i, p): (cost, lo, hi) for cost, i, p, lo, hi in found}
        for i, wd in enumerate(days):
            every = wd.places(visit)
            for place in every:
                cost, lo, hi = bounds[(i, place.position)]
                assert lo <= place.earliest <= place.latest <= hi
                assert cost == place.travel_s
                placed += 1
            for (j, p) in bounds:
                if j == i:
                    assert wd.places(visit, positions=(p,)) == [x for x in every if x.position == p]
                    asked += 1
    assert placed > 100 and asked > placed  # real days: many places, and bounds wider than the places


def _requests(day: Published, network, n: int, seed: int) -> list[OfferRequest]:  # noqa: ANN001
    rng = random.Random(seed)
    plan = day.plan
    kinds = sorted({p.kind for p in plan.providers})
    out = []
    for i in range(n):
        kind = rng.choice(kinds)
        times = ()
        if i % 3 == 0:
            start = rng.choice(range(7, 17)) * 3600
            times = (TimeWindow(start, start + 3 * 3600),)
        new = None
        client_id = rng.choice(plan.clients).id
        if i % 5 == 0:
            node = rng.randrange(len(network.lat))
            new, client_id = NewClient(Location(float(network.lat[node]), float(network.lon[node]))), None
        out.append(OfferRequest(kind=kind, duration_min=rng.choice([15, 30, 60]), dates=(), slot_min=30,
                                client_id=client_id, new_client=new, preferred_times=times))
    return out


def test_quotes_least_travel_first_equal_asking_every_place(week_day, monkeypatch):
    """The same offers, windows, workers, starts and travel as when every worker day is asked at every position."""
    import solver.offers as offers

    first, second, network = week_day
    days = [first, second]
    requests = _requests(first, network, 30, seed=3)
    sieved = [quote(r, days, network=network) for r in requests]
    monkeypatch.setattr(offers, "_least_travel_first", lambda *a, **k: False)
    every = [quote(r, days, network=network) for r in requests]
    assert sieved == every
    assert sum(len(q.offers) for q in every) > 100
