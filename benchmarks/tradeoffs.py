"""Measure the travel/continuity trade-off and the effect of fair workload on a plan.

Run from the repository root (it takes a few minutes: one solve per setting)::

    python benchmarks/tradeoffs.py [PLAN] [--time-limit 30]

Prints Markdown tables for the README.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scheduler.bundled import default_plan
from scheduler.io import load_plan
from scheduler.validate import check_roster
from solver import SolveParams, network_for, solve, travel_for
from solver.cache import default_cache_dir


def main() -> None:
    """Solve the plan at several continuity and balance weights and print what changed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", nargs="?", type=Path, default=None)
    parser.add_argument("--time-limit", type=float, default=30.0)
    args = parser.parse_args()
    plan = load_plan(args.plan or default_plan())
    travel = travel_for(plan, network_for(plan, cache_dir=default_cache_dir()), cache_dir=default_cache_dir())

    def run(**kw):
        result = solve(plan, params=SolveParams(time_limit_s=args.time_limit, **kw), travel=travel)
        assert check_roster(plan, result.roster, travel=travel) == [], "roster violates the contract"
        return result.roster.kpis

    print(f"Continuity trade-off ({len(plan.visits)} visits, {args.time_limit:g} s each)\n")
    print("| continuity_weight_s | travel (min) | continuity | distinct workers per client | assigned |")
    print("|---|---|---|---|---|")
    for weight in (0, 300, 1200, 3600):
        k = run(continuity_weight_s=weight)
        print(f"| {weight} | {k.travel_s / 60:.0f} | {k.continuity:.1%} | {k.distinct_workers_per_client:.2f} "
              f"| {k.assigned}/{k.visits} |")
    print("\nFair workload\n")
    print("| balance_weight_s | travel (min) | workload spread (min) | workload std (min) | assigned |")
    print("|---|---|---|---|---|")
    for weight in (0, 30, 120):
        k = run(balance_weight_s=weight)
        print(f"| {weight} | {k.travel_s / 60:.0f} | {k.workload_spread_min:.0f} | {k.workload_std_min:.0f} "
              f"| {k.assigned}/{k.visits} |")


if __name__ == "__main__":
    main()
