"""Solver quality on Solomon VRPTW instances, as pytest-benchmark runs.

Each instance is one round of ``ours`` (the two-search portfolio) with the DIMACS
checker applied; the gap to the proven optimum goes into ``extra_info``. By
default it runs the bundled six instances at 2 s each; point it at the full set
and a longer limit with::

    HOMECARE_BENCH_SOLOMON=../shared/benchmarks-data/solomon/instances \\
    HOMECARE_BENCH_LIMIT_S=10 pytest benchmarks/test_vrptw.py --benchmark-json out.json

``homecare bench`` runs the same solves with the peers and writes the reports.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from solver.bench.harness import find_bks
from solver.bench.instances import (
    check_vrptw,
    gap_pct,
    instance_files,
    load_vrptw_bks,
    read_solomon,
)
from solver.bench.vrptw import portfolio, solve_vrptw_portfolio

ROOT = Path(__file__).resolve().parents[1]
FOLDER = Path(os.environ.get("HOMECARE_BENCH_SOLOMON", ROOT / "fixtures" / "bench" / "solomon"))
LIMIT_S = float(os.environ.get("HOMECARE_BENCH_LIMIT_S", "2"))
FILES = instance_files(FOLDER)
BKS = load_vrptw_bks(find_bks("solomon", FOLDER))


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_solomon(benchmark, path):
    """Solve one instance with the portfolio; the checker must accept the routes."""
    inst = read_solomon(path)
    configs = portfolio(LIMIT_S, workers=2)
    result = benchmark.pedantic(solve_vrptw_portfolio, args=(inst, configs), rounds=1, iterations=1)
    check = check_vrptw(inst, result.routes)
    assert check.feasible, check.violations
    benchmark.extra_info.update(
        distance=check.distance, bks=BKS[inst.name], gap_pct=round(gap_pct(check.distance, BKS[inst.name]), 3),
        vehicles=check.vehicles, first_solution_s=result.first_solution_s, config=result.config)
