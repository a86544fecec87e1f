"""Stopping a search early (:func:`solver.solve`'s ``stop`` flag, set by ``homecare solve``'s Ctrl-C handler).

The flag is read by the search itself (its at-solution callback, the regions' loop),
so a stop returns the best roster found so far, valid, within a moment.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
import time

import pytest

from scheduler.validate import check_roster
from solver import SolveParams, decompose, solve, travel_for
from solver.generate import generate_day
from tests.helpers import LONDON_OSM, client, make_plan, visit, worker


@pytest.fixture
def small_plan():
    """Return a three-visit London plan (one double-handed visit)."""
    return make_plan(network=str(LONDON_OSM), workers=[worker("w1"), worker("w2", start_location="queen_sq")],
                     clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq")],
                     visits=[visit("v1", "c1"), visit("v2", "c2", window=("09:00", "11:00")),
                             visit("v3", "c1", window=("12:00", "13:00"), workers_required=2)])


@pytest.fixture(scope="module")
def london_day(london_network, network_cache_dir):
    """Return a generated day of 120 visits on the central-London network, with its travel."""
    plan = generate_day(LONDON_OSM, seed=3, n_visits=120, cache_dir=network_cache_dir, radius_m=1500)
    return plan, travel_for(plan, london_network)


def test_solve_stop_mid_search_returns_the_best_roster_so_far(small_plan, london_network):
    """A stop one second into a 30 s search returns at once, flagged ``interrupted``, with a valid roster."""
    travel = travel_for(small_plan, london_network)
    stop = threading.Event()
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    t0 = time.perf_counter()
    result = solve(small_plan, params=SolveParams(time_limit_s=30), travel=travel, stop=stop)
    timer.cancel()
    assert time.perf_counter() - t0 < 10
    assert result.roster.meta["interrupted"] is True
    assert result.roster.meta["objective"] == result.objective is not None
    assert check_roster(small_plan, result.roster, travel=travel) == []


def test_solve_without_a_stop_is_not_flagged(small_plan, london_network):
    """A search that runs its time is not marked ``interrupted``."""
    travel = travel_for(small_plan, london_network)
    result = solve(small_plan, params=SolveParams(time_limit_s=0.5), travel=travel, stop=threading.Event())
    assert "interrupted" not in result.roster.meta
    assert check_roster(small_plan, result.roster, travel=travel) == []


def test_solve_stop_during_regions_starts_no_more_regions(london_day, monkeypatch, caplog):
    """A stop while a big day is improved region by region (two processes) ends the regions and the search."""
    plan, travel = london_day
    monkeypatch.setattr(decompose, "REGION_WORKERS", 4)
    monkeypatch.setattr(decompose, "REGION_TIME_S", 0.3)
    caplog.set_level(logging.INFO, logger="homecare")
    params = SolveParams(time_limit_s=40, seed=1, decompose_from_visits=len(plan.visits), decompose_share=0.9,
                         processes=2)
    stop = threading.Event()
    timer = threading.Timer(3.0, stop.set)
    timer.start()
    t0 = time.perf_counter()
    result = solve(plan, params=params, travel=travel, stop=stop)
    timer.cancel()
    assert time.perf_counter() - t0 < 12
    assert re.search(r"regions: \d+ searched", caplog.text)
    assert result.roster.meta["interrupted"] is True
    assert check_roster(plan, result.roster, travel=travel) == []


def test_region_processes_leave_ctrl_c_to_the_parent(london_day):
    """Region processes ignore SIGINT; the parent decides what a Ctrl-C means.

    A terminal's Ctrl-C reaches the whole process group, and a KeyboardInterrupt inside
    OR-Tools' callbacks would abort a region process.
    """
    plan, travel = london_day
    day = decompose.DayContext(plan, travel, SolveParams(), [])
    pool = decompose._executor(day, 2)
    try:
        handlers = {pool.submit(signal.getsignal, signal.SIGINT).result(timeout=60) for _ in range(4)}
    finally:
        pool.shutdown()
    assert handlers == {signal.SIG_IGN}
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN  # this process keeps its handler
