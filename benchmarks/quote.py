"""Quoting slots to residents and booking them (issue 23): speed, correctness, and what green saves.

The week: the generated 1,000-visit Cambridge day (``solver.generate.generate_day``,
seed 1, as ``benchmarks/day_engine.py``), solved once (``solver.run``, a short
search, checked valid) and published on 7 consecutive dates (the same plan and
roster each date: a week of recurring care). Plans and rosters are cached under
the temp folder (``homecare-quote-bench``), matrices in the usual cache.

Four measurements, each over random requests (a seeded ``random.Random``):

* **quote, single-handed**: one quote over the 7 days, every provider of the
  kind (care, hairdressing or delivery as the day's visits are), an existing
  client, a duration, sometimes a required skill or preferred times; p50/p99.
* **quote, double-handed**: the same for care visits needing two carers.
* **quote, new client**: single-handed, a new client at a random road node
  (their home's travel is added to the 7 days' matrices first, SciPy Dijkstra,
  and the worker days are built afresh for the plan with them in it).

Worker days are built once per published day (``solver.offers.warm``, timed
apart, as a publish would); the quotes reuse them.
* **bookings**: quote (10% new clients, 15% double-handed), pick a random offer,
  book it into its date's roster (the week fills up as it goes); each booking is checked: the stop(s) start at the
  quoted minute inside the quoted window with the quoted worker(s), the
  roster's travel grew by exactly the quoted extra travel, and
  ``check_roster`` finds nothing.
* **green vs earliest**: for each request, the extra travel of the first
  ranked offer (green first) against the earliest offer; the mean of each.

Run from the repository root::

    python benchmarks/quote.py --quotes 300 --bookings 1000 --green 1000

``--week fixtures/plans/week`` uses the bundled week instead (its own plan on
each date, each solved once for ``--time-limit`` seconds and cached)::

    python benchmarks/quote.py --week fixtures/plans/week --time-limit 10 --quotes 300 --bookings 1000 --green 1000

Answers stay the same when the quoting code changes: ``--record FILE`` writes the
quotes (every offer: date, window, start, workers, positions, extra travel, cost,
green; or the reason and codes) of ``--answers`` fixed random requests (seed
``--seed``: 70% single-handed, 20% double-handed, 10% new clients) as JSON lines,
and ``--check FILE`` quotes the same requests and says which differ (exit 1)::

    python benchmarks/quote.py --record /tmp/answers.jsonl --answers 400
    python benchmarks/quote.py --check /tmp/answers.jsonl --answers 400
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from scheduler.io import load_plan, load_roster, write_plan, write_roster
from scheduler.model import Location
from scheduler.offers import OfferRequest
from scheduler.validate import check_roster
from solver import SolveParams, network_for, run, travel_for
from solver.cache import default_cache_dir
from solver.generate import candidate_sites, generate_day
from solver.offers import Published, book, quote, warm

NETWORK = "fixtures/networks/cambridge_drive.osm"
FIRST = dt.date(2026, 11, 23)  # a Monday


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _week(visits: int, seed: int, time_limit: float, days: int) -> tuple[list[Published], object]:
    """The published week (cached), and the road network."""
    cache = default_cache_dir()
    folder = Path(tempfile.gettempdir()) / "homecare-quote-bench" / f"v{visits}-s{seed}-t{time_limit:g}"
    plan_path, roster_path = folder / "plan.json", folder / "roster.json"
    if plan_path.exists() and roster_path.exists():
        plan, roster = load_plan(plan_path), load_roster(roster_path)
        network = network_for(plan, cache_dir=cache)
        travel = travel_for(plan, network, cache_dir=cache)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        plan = generate_day(NETWORK, seed=seed, n_visits=visits, cache_dir=cache, date=FIRST)
        network = network_for(plan, cache_dir=cache)
        travel = travel_for(plan, network, cache_dir=cache)
        result = run(plan, params=SolveParams(time_limit_s=time_limit, seed=seed), travel=travel)
        assert not result.violations, result.violations[:3]
        plan, roster = plan, result.roster
        write_plan(plan, plan_path)
        write_roster(roster, roster_path)
        plan = load_plan(plan_path)
        roster = load_roster(roster_path)
    assert check_roster(plan, roster, travel=travel) == []
    week = []
    for i in range(days):
        date = FIRST + dt.timedelta(days=i)
        week.append(Published(dataclasses.replace(plan, date=date), dataclasses.replace(roster, date=date), travel))
    return week, network


def _bundled_week(folder: Path, time_limit: float, seed: int) -> tuple[list[Published], object]:
    """A week of plans (``plan-YYYY-MM-DD.json``, as the bundled ``fixtures/plans/week/``), each date solved once
    (cached) and published as it is: every date has its own plan, roster and travel."""
    cache = default_cache_dir()
    out = Path(tempfile.gettempdir()) / "homecare-quote-bench" / f"week-{folder.resolve().name}-t{time_limit:g}-s{seed}"
    out.mkdir(parents=True, exist_ok=True)
    week, network = [], None
    for plan_path in sorted(folder.glob("plan-*.json")):
        plan = load_plan(plan_path)
        network = network_for(plan, cache_dir=cache)
        travel = travel_for(plan, network, cache_dir=cache)
        roster_path = out / plan_path.name.replace("plan-", "roster-")
        if not roster_path.exists():
            result = run(plan, params=SolveParams(time_limit_s=time_limit, seed=seed), travel=travel)
            assert not result.violations, result.violations[:3]
            write_roster(result.roster, roster_path)
        roster = load_roster(roster_path)
        assert check_roster(plan, roster, travel=travel) == []
        week.append(Published(plan, roster, travel))
    if not week:
        raise SystemExit(f"no plan-YYYY-MM-DD.json in {folder}")
    return week, network


def _request(rng: random.Random, week: list[Published], *, double: bool = False,
             new_at: Location | None = None) -> OfferRequest:
    plan = week[0].plan
    if double:
        kind = "care"
    else:
        kind = rng.choice(["care", "care", "hairdressing", "delivery"])
    skills: frozenset[str] = frozenset()
    if kind == "care" and rng.random() < 0.3:
        seen = sorted({s for v in plan.visits if v.kind == "care" for s in v.required_skills})
        if seen:
            skills = frozenset({rng.choice(seen)})
    times = ()
    if rng.random() < 0.3:
        from scheduler.model import TimeWindow

        start = rng.choice(range(8, 18)) * 3600
        times = (TimeWindow(start, start + 3 * 3600),)
    from scheduler.offers import SLOT_MIN, NewClient

    return OfferRequest(
        kind=kind, duration_min=rng.choice([30, 45, 60] if kind != "delivery" else [10, 15]),
        dates=tuple(d.date for d in week), slot_min=SLOT_MIN[kind],
        client_id=None if new_at else rng.choice(plan.clients).id,
        new_client=NewClient(new_at) if new_at else None, required_skills=skills,
        workers_required=2 if double else 1, preferred_times=times)


def main() -> None:
    """Build (or load) the week, then time quotes, book offers and compare green with earliest."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--visits", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=20.0, help="search of the published roster (s)")
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--quotes", type=int, default=300, help="quotes timed of each sort")
    ap.add_argument("--bookings", type=int, default=1000)
    ap.add_argument("--green", type=int, default=1000, help="requests for green vs earliest")
    ap.add_argument("--record", type=Path, help="write the quotes of --answers fixed requests here, then stop")
    ap.add_argument("--check", type=Path, help="compare the quotes of the same requests with this file, then stop")
    ap.add_argument("--answers", type=int, default=400, help="fixed requests for --record and --check")
    ap.add_argument("--week", type=Path, help="a folder of a week's plans (e.g. fixtures/plans/week, the bundled "
                    "week), each date solved for --time-limit s, instead of the generated day on --days dates")
    ap.add_argument("--wage-mode", choices=("penalty", "hard", "price", "off"),
                    help="publish the week with this minimum_wage mode (default: the generated plan's, penalty)")
    args = ap.parse_args()

    t = time.perf_counter()
    if args.week:
        week, network = _bundled_week(args.week, args.time_limit, args.seed)
        args.days = len(week)
    else:
        week, network = _week(args.visits, args.seed, args.time_limit, args.days)
    if args.wage_mode:
        week = [dataclasses.replace(d, plan=dataclasses.replace(
            d.plan, minimum_wage=dataclasses.replace(d.plan.minimum_wage, mode=args.wage_mode))) for d in week]
    print(f"week ready in {time.perf_counter() - t:.1f} s: {args.days} dates x {len(week[0].plan.visits)} visits "
          f"({sum(len(d.plan.visits) for d in week)} in all), "
          f"{len(week[0].plan.workers)} workers, minimum_wage {week[0].plan.minimum_wage.mode}; "
          f"{platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    t = time.perf_counter()
    warm(week)
    print(f"worker days built (as a publish would, solver.offers.warm): {time.perf_counter() - t:.2f} s for "
          f"{args.days} dates")
    rng = random.Random(args.seed)
    sites = candidate_sites(network)

    def newcomer() -> OfferRequest:
        site = int(rng.choice(list(sites)))
        return _request(rng, week, new_at=Location(float(network.lat[site]), float(network.lon[site])))

    if args.record or args.check:
        sys.exit(_answers(args, week, network, sites))

    rows = []
    for name, make in (("single-handed", lambda: _request(rng, week)),
                       ("double-handed", lambda: _request(rng, week, double=True)),
                       ("single-handed, new client", newcomer)):
        times, cpu, offered = [], [], 0
        for _ in range(args.quotes):
            req = make()
            t, c = time.perf_counter(), time.process_time()
            q = quote(req, week, network=network)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            offered += bool(q.offers)
        ms, cms = [x * 1000 for x in times], [x * 1000 for x in cpu]
        rows.append(f"| {name} | {len(ms)} | {_pct(ms, 0.5):.1f} | {_pct(ms, 0.99):.1f} | {_pct(cms, 0.5):.1f} | "
                    f"{_pct(cms, 0.99):.1f} | {offered} |")
    # CPU time (this process's) alongside wall time: on a shared machine it moves less with the load.
    print("| quote (7 days) | n | p50 (ms) | p99 (ms) | CPU p50 (ms) | CPU p99 (ms) | with offers |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))

    def offered(days: list[Published], *, newcomers: float = 0.0) -> tuple[OfferRequest, object]:
        """A random request (15% double-handed, ``newcomers`` of them new clients) with offers, and its quote."""
        while True:
            if rng.random() < newcomers:
                req = newcomer()
            else:
                req = _request(rng, days, double=rng.random() < 0.15)
            q = quote(req, days, network=network)
            if q.offers:
                return req, q

    # Bookings: the week fills as it goes.
    live = list(week)
    booked = exact = valid = stale = tried = 0
    while tried < args.bookings:
        req, q = offered(live, newcomers=0.1)
        tried += 1
        offer = rng.choice(q.offers)
        i = next(k for k, d in enumerate(live) if d.date == offer.date)
        before = live[i]
        result = book(req, offer, live, network=network)
        if result.stale:
            stale += 1
            continue
        after = result.days[0]
        booked += 1
        slot = offer.slots[0]
        vid = result.visit_ids[0]
        places = {(r.worker_id, s.start) for r in after.roster.routes for s in r.stops if s.visit_id == vid}
        visit = after.plan.visit(vid)
        grew = after.roster.kpis.travel_s - before.roster.kpis.travel_s
        exact += (places == {(w, slot.start) for w in slot.worker_ids}
                  and (visit.window.start, visit.window.end) == (slot.window_start, slot.window_end)
                  and grew == slot.extra_travel_s)
        valid += check_roster(after.plan, after.roster, travel=after.travel) == []
        live[i] = after
    if tried:
        print(f"bookings: {tried} tried, {booked} booked, {stale} stale, {exact} inserted exactly as quoted "
              f"(worker, start, window, extra travel to the second), {valid} valid rosters")

    # Green vs earliest, on the published week as it was.
    green_s, early_s, n = [], [], 0
    while n < args.green:
        req, q = offered(week)
        n += 1
        green_s.append(q.offers[0].extra_travel_s)
        early_s.append(min(q.offers, key=lambda o: (o.date, o.window_start, o.extra_travel_s)).extra_travel_s)
    if not n:
        return
    g, e = statistics.mean(green_s), statistics.mean(early_s)
    print(f"green vs earliest over {n} requests: mean extra travel {g / 60:.2f} min (greenest) vs "
          f"{e / 60:.2f} min (earliest): {1 - g / e:.0%} less")


def _answers(args: argparse.Namespace, week: list[Published], network: object, sites: object) -> int:
    """Write (``--record``) or compare (``--check``) the quotes of fixed random requests; return the exit code."""
    rng = random.Random(args.seed + 1000)
    lines = []
    for i in range(args.answers):
        roll = rng.random()
        if roll < 0.1:
            site = int(rng.choice(list(sites)))
            req = _request(rng, week, new_at=Location(float(network.lat[site]), float(network.lon[site])))
        else:
            req = _request(rng, week, double=roll < 0.3)
        lines.append(json.dumps({"n": i, **quote(req, week, network=network).to_dict()}, sort_keys=True))
    if args.record:
        args.record.write_text("\n".join(lines) + "\n")
        offered = sum(bool(json.loads(x)["offers"]) for x in lines)
        print(f"recorded {len(lines)} quotes ({offered} with offers) in {args.record}")
        return 0
    old = args.check.read_text().splitlines()
    differ = [i for i, (a, b) in enumerate(zip(old, lines, strict=False)) if a != b]
    if len(old) != len(lines):
        print(f"{args.check} has {len(old)} quotes, this run {len(lines)}")
        return 1
    if differ:
        print(f"{len(differ)} of {len(lines)} quotes differ, first: request {differ[0]}")
        return 1
    print(f"all {len(lines)} quotes are byte-identical to {args.check}")
    return 0


if __name__ == "__main__":
    main()
