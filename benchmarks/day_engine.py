"""The worker-day engine (:mod:`scheduler.day`) on a published 1,000-visit day.

What quoting a slot to a resident (issue 23) will call: "where can this visit
start in this worker's day, at what extra travel, or why not". The day is the
generated 1,000-visit Cambridge day of ``benchmarks/scale_curve.py`` (seed 1),
with the first roster :func:`solver.construct.construct_routes` builds for it
(one pass), decoded as a solve does. Every worker's day is built once
(:class:`scheduler.day.WorkerDay`, not timed); then, for each visit of a sample:

* **one day**: :meth:`WorkerDay.ask` for the visit in one eligible worker's day
  (every eligible worker not serving it, one question each);
* **every day**: the same for all its eligible workers (single-handed visits),
  or all of them and :func:`scheduler.day.pairs` to the first common minute
  (double-handed);
* **insert**: :meth:`WorkerDay.insert` at the cheapest place, and the
  :meth:`WorkerDay.remove` that undoes it (incremental: no rebuild of the day).

It also times one pass of the first roster (the engine's :class:`scheduler.day.Day`
at work), the median of ``--passes``. Run from the repository root::

    python benchmarks/day_engine.py --sample 200 --passes 5

Prints p50 and p99 (microseconds) of each, for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from scheduler.day import WorkerDay, pairs
from scheduler.eligibility import eligibility
from solver import SolveParams, network_for, travel_for
from solver.cache import default_cache_dir
from solver.construct import construct_routes
from solver.decode import decode
from solver.generate import generate_day
from solver.improve import search_parameters
from solver.model import build_model, restore

NETWORK = "fixtures/networks/cambridge_drive.osm"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _row(name: str, seconds: list[float]) -> str:
    us = [s * 1e6 for s in seconds]
    return f"| {name} | {len(us)} | {_pct(us, 0.5):,.0f} | {_pct(us, 0.99):,.0f} |"


def main() -> None:
    """Build the day and its first roster, then time the engine's questions."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--visits", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sample", type=int, default=200, help="visits asked about")
    ap.add_argument("--passes", type=int, default=5, help="first-roster passes timed")
    args = ap.parse_args()

    cache = default_cache_dir()
    plan = generate_day(NETWORK, seed=args.seed, n_visits=args.visits, cache_dir=cache)
    travel = travel_for(plan, network_for(plan, cache_dir=cache), cache_dir=cache)
    model = build_model(plan, travel, SolveParams(seed=args.seed))
    passes = []
    for _ in range(args.passes):
        t = time.perf_counter()
        routes = construct_routes(model, model.node_allowed, rounds=1)
        passes.append(time.perf_counter() - t)
    model.routing.CloseModelWithParameters(search_parameters(model.params))
    built, _ = decode(model, restore(model, routes))
    by_worker = {r.worker_id: r for r in built}
    serving: dict[str, set[str]] = {}
    starts: dict[str, int] = {}
    for r in built:
        for s in r.stops:
            serving.setdefault(s.visit_id, set()).add(r.worker_id)
            starts[s.visit_id] = min(s.start, starts.get(s.visit_id, s.start))
    days = {w.id: WorkerDay(plan, w, by_worker.get(w.id), travel) for w in plan.workers}

    rng = random.Random(args.seed)
    single = [v for v in plan.visits if v.workers_required == 1]
    double = [v for v in plan.visits if v.workers_required == 2]
    asked = rng.sample(single, min(args.sample, len(single))) + rng.sample(double, min(args.sample, len(double)))
    one, every_single, every_double, inserts, removes = [], [], [], [], []
    offered = refused = 0
    for v in asked:
        others = [wid for wid in eligibility(plan, v).worker_ids if wid not in serving.get(v.id, set())]
        answers = []
        t_all = time.perf_counter()
        for wid in others:
            t = time.perf_counter()
            answers.append(days[wid].ask(v, starts=starts))
            one.append(time.perf_counter() - t)
        if v.workers_required == 2:
            next(pairs(answers), None)
            every_double.append(time.perf_counter() - t_all)
        else:
            every_single.append(time.perf_counter() - t_all)
        for a in answers:
            offered += bool(a.places)
            refused += a.refusal is not None
        best = min((a for a in answers if a.places), key=lambda a: a.cheapest.travel_s, default=None)
        if best is not None and v.workers_required == 1:
            day, place = days[best.worker_id], best.cheapest
            t = time.perf_counter()
            day.insert(v, place.position, place.earliest)
            inserts.append(time.perf_counter() - t)
            t = time.perf_counter()
            day.remove(v.id)
            removes.append(time.perf_counter() - t)

    print(f"{args.visits}-visit day (seed {args.seed}), {len(plan.workers)} workers, "
          f"{sum(len(r.stops) for r in built)} stops in the first roster; "
          f"{offered} days with room, {refused} refusals")
    print(f"first roster, one pass: median {statistics.median(passes):.3f} s, min {min(passes):.3f} s "
          f"({args.passes} passes)")
    print("| question | n | p50 (µs) | p99 (µs) |")
    print("|---|---:|---:|---:|")
    print(_row("one worker's day (ask)", one))
    print(_row("single-handed visit, every eligible day", every_single))
    print(_row("double-handed visit, every eligible day + pairs", every_double))
    print(_row("insert at the cheapest place", inserts))
    print(_row("remove (undo the insert)", removes))


if __name__ == "__main__":
    main()
