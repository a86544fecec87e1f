"""Home-care scale curve: generated Cambridge days of 100 to 2,000 visits.

For each size: matrix time, model time, time to the first feasible roster
(from the end of the matrices: model build, first roster and OR-Tools taking
it), and the best roster after 10 s and 60 s of search compared with the best
after a long run (10 minutes by default), all read off one search's
trajectory. The comparison is on cost without the penalties for visits left
out (travel seconds plus continuity and balance costs), with the visits left
out reported beside it, so a penalty of a million does not hide a travel gap.
Every final roster is checked by the project's validator. Run from the
repository root::

    python benchmarks/scale_curve.py --sizes 100 300 1000 2000 --long 600 --out benchmarks/results/scale.csv

Prints a Markdown table for ``benchmarks/RESULTS.md``. It takes about
``len(sizes) * long`` seconds on one core.
"""

from __future__ import annotations

import argparse
import logging
import csv
import time
from pathlib import Path

from scheduler.validate import check_roster
from solver import SolveParams, network_for, solve, travel_for
from solver.cache import default_cache_dir
from solver.generate import generate_day

NETWORK = "fixtures/networks/cambridge_drive.osm"
CHECKPOINTS_S = (10.0, 60.0)


class _Trajectory:
    """Records (elapsed, best objective, its penalties) at each progress report of the search."""

    def __init__(self) -> None:
        self.points: list[tuple[float, int, int]] = []

    def stage(self, name: str, detail: str = "") -> None:
        pass

    def advance(self, name: str, done: float, total: float) -> None:
        pass

    def search(self, progress) -> None:  # noqa: ANN001 - solver.routing.Progress
        if progress.best_objective is not None and progress.best_penalty is not None:
            self.points.append((progress.elapsed_s, progress.best_objective, progress.best_penalty))

    def best_at(self, t: float) -> tuple[int, int] | None:
        """Return (cost without penalties, penalties) of the best roster found by ``t`` seconds."""
        seen = [(best, penalty) for at, best, penalty in self.points if at <= t]
        if not seen:
            return None
        best, penalty = min(seen)
        return best - penalty, penalty


def measure(n_visits: int, long_s: float, seed: int) -> dict[str, object]:
    """Generate a day, solve it for ``long_s`` seconds and read the trajectory."""
    cache = default_cache_dir()
    plan = generate_day(NETWORK, seed=seed, n_visits=n_visits, cache_dir=cache)
    road = network_for(plan, cache_dir=cache)
    t = time.perf_counter()
    travel = travel_for(plan, road, cache_dir=None)  # no cache: time the matrices themselves
    matrix_s = time.perf_counter() - t
    trajectory = _Trajectory()
    result = solve(plan, params=SolveParams(time_limit_s=long_s, seed=seed), travel=travel, reporter=trajectory)
    violations = check_roster(plan, result.roster, travel=travel)
    model_s = result.timings.get("model_s", float("nan"))
    final = trajectory.best_at(float("inf"))
    row: dict[str, object] = {
        "visits": n_visits, "workers": len(plan.workers), "matrix_s": round(matrix_s, 2),
        "model_s": round(model_s, 2),
        "first_feasible_s": round(model_s + (result.first_solution_s or float("nan")), 2),
        "long_s": long_s, "objective_long": result.objective, "cost_long": final[0] if final else None,
        "assigned": result.roster.kpis.assigned, "travel_h": round(result.roster.kpis.travel_s / 3600, 1),
        "solutions": result.roster.meta.get("solutions"),
        "valid": not violations,
    }
    for cp in CHECKPOINTS_S:
        best = trajectory.best_at(cp)
        row[f"cost_{cp:g}s"] = best[0] if best else None
        row[f"penalty_{cp:g}s"] = best[1] if best else None
        row[f"vs_long_{cp:g}s_pct"] = (round(100.0 * (best[0] - final[0]) / final[0], 2)
                                       if best and final and final[0] else None)
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
