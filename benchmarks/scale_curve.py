"""Home-care scale curve: generated Cambridge days of 100 to 2,000 visits.

For each size: matrix time, model time, time to the first feasible roster
(from the end of the matrices: model build, first roster and OR-Tools taking
it), and the roster of a 10 s and of a 60 s search compared with that of a long
one (10 minutes by default). Each is its own run with that time limit: big days
share their time between regions and the whole day (:mod:`solver.decompose`),
so the first minute of a 10-minute run is not what a 60-second run does. The
comparison is on cost without the penalties for visits left out (travel seconds
plus continuity and balance costs), with the visits left out reported beside it,
so a penalty of a million does not hide a travel gap.
Every final roster is checked by the project's validator. Run from the
repository root::

    python benchmarks/scale_curve.py --sizes 100 300 1000 2000 --long 600 --out benchmarks/results/scale.csv

Prints a Markdown table for ``benchmarks/RESULTS.md``. It takes about
``len(sizes) * (long + 70)`` seconds, on both cores for days that are decomposed.
"""

from __future__ import annotations

import argparse
import csv
import logging
import time
from pathlib import Path

from scheduler.eligibility import eligibility
from scheduler.validate import check_roster
from solver import SolveParams, network_for, solve, travel_for
from solver.cache import default_cache_dir
from solver.generate import generate_day

NETWORK = "fixtures/networks/cambridge_drive.osm"
CHECKPOINTS_S = (10.0, 60.0)


def _cost(plan, params: SolveParams, result) -> tuple[int, int]:  # noqa: ANN001 - Plan, SolveResult
    """Return (cost without penalties, number of visits left out) of a solve's roster.

    Each node of a visit the search left out costs its priority's penalty; visits no
    one may serve never enter the model and cost nothing.
    """
    excluded = _excluded(plan)
    penalty = sum(params.penalty(plan.visit(u.visit_id).priority) * plan.visit(u.visit_id).workers_required
                  for u in result.roster.unassigned if u.visit_id not in excluded)
    return result.objective - penalty, len(result.roster.unassigned)


def _excluded(plan) -> set[str]:  # noqa: ANN001 - Plan
    return {v.id for v in plan.visits if not eligibility(plan, v).ok}


def measure(n_visits: int, long_s: float, seed: int) -> dict[str, object]:
    """Generate a day, solve it with each time limit and compare with the long run."""
    cache = default_cache_dir()
    plan = generate_day(NETWORK, seed=seed, n_visits=n_visits, cache_dir=cache)
    road = network_for(plan, cache_dir=cache)
    t = time.perf_counter()
    travel = travel_for(plan, road, cache_dir=None)  # no cache: time the matrices themselves
    matrix_s = time.perf_counter() - t
    params = SolveParams(time_limit_s=long_s, seed=seed)
    result = solve(plan, params=params, travel=travel)
    violations = check_roster(plan, result.roster, travel=travel)
    model_s = result.timings.get("model_s", float("nan"))
    cost_long, out_long = _cost(plan, params, result)
    row: dict[str, object] = {
        "visits": n_visits, "workers": len(plan.workers), "matrix_s": round(matrix_s, 2),
        "model_s": round(model_s, 2),
        "first_feasible_s": round(model_s + (result.first_solution_s or float("nan")), 2),
        "long_s": long_s, "objective_long": result.objective, "cost_long": cost_long, "left_out_long": out_long,
        "assigned": result.roster.kpis.assigned, "travel_h": round(result.roster.kpis.travel_s / 3600, 1),
        "solutions": result.roster.meta.get("solutions"),
        "valid": not violations,
    }
    for cp in CHECKPOINTS_S:
        short_params = params.replace(time_limit_s=cp)
        short = solve(plan, params=short_params, travel=travel)
        row["valid"] = row["valid"] and not check_roster(plan, short.roster, travel=travel)
        cost, out = _cost(plan, short_params, short)
        row[f"cost_{cp:g}s"] = cost
        row[f"left_out_{cp:g}s"] = out
        row[f"vs_long_{cp:g}s_pct"] = round(100.0 * (cost - cost_long) / cost_long, 2) if cost_long else None
    return row


def main() -> None:
    """Measure each size and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000, 2000])
    parser.add_argument("--long", type=float, default=600.0, help="the reference run's time limit (s)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="also write a CSV")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    rows = []
    for n in args.sizes:
        row = measure(n, args.long, args.seed)
        rows.append(row)
        print(row, flush=True)
        if args.out:
            with open(args.out, "w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
    print("\n| visits | workers | matrix (s) | model (s) | first feasible (s) | cost after 10 s | after 60 s "
          "| assigned | valid |\n|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    for r in rows:
        print(f"| {r['visits']} | {r['workers']} | {r['matrix_s']} | {r['model_s']} | {r['first_feasible_s']} "
              f"| {_pct(r['vs_long_10s_pct'])} | {_pct(r['vs_long_60s_pct'])} | {r['assigned']}/{r['visits']} "
              f"| {'yes' if r['valid'] else 'NO'} |")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}%"


if __name__ == "__main__":
    main()
