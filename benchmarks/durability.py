"""Cost of fsynced SQLite commits: plan submissions per second and commit latency, NORMAL against FULL.

A plan submission (``POST /plans``) stores the plan with its members in one
transaction and writes one audit row in another; this script makes exactly
those two writes (``crud.create_plan`` then ``crud.audit``) for the bundled
Cambridge weekday (300 visits, about 0.2 MB of JSON), one after another, on a
fresh SQLite file in a folder on disk, once with ``PRAGMA synchronous=NORMAL``
(before) and once with ``FULL`` (now). It also times single audit-row commits,
the smallest write the service makes (every audited read makes one). Plan
parsing and HTTP are left out: they cost the same in both modes, so the
difference shown is the price of the fsyncs alone.

Run: ``python benchmarks/durability.py [--plans 200] [--rows 1000] [--dir FOLDER]``
(the folder must be on the disk the service would use, not a tmpfs).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import api.db
from api import crud
from api.db import Database, migrate
from api.security import Principal
from scheduler.io import load_plan, plan_to_dict

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "fixtures" / "plans" / "cambridge_weekday.json"
WHO = Principal("bench", "benchmark", "planner")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(mode: str, folder: Path, *, plans: int, rows: int) -> dict[str, float]:
    """Time ``plans`` submissions and ``rows`` audit-row commits on a new database in ``folder``."""
    api.db.SQLITE_SYNCHRONOUS = mode
    db = Database(f"sqlite:///{folder / f'{mode.lower()}.db'}")
    migrate(db)
    plan = load_plan(PLAN)
    data = plan_to_dict(plan)
    submit: list[float] = []
    started = time.perf_counter()
    for _ in range(plans):
        t0 = time.perf_counter()
        record = crud.create_plan(db=db, plan=plan, data=data, created_by=None)
        crud.audit(db=db, who=WHO, action="submit_plan", resource=f"plan {record.id}")
        submit.append(time.perf_counter() - t0)
    submit_s = time.perf_counter() - started
    commit: list[float] = []
    for i in range(rows):
        t0 = time.perf_counter()
        crud.audit(db=db, who=WHO, action="read_roster", resource=f"roster ro_{i}")
        commit.append(time.perf_counter() - t0)
    with db.session() as session:
        level = session.connection().exec_driver_sql("PRAGMA synchronous").scalar()
    db.dispose()
    return {"synchronous": level, "plans_per_s": plans / submit_s, "submit_p50_ms": 1000 * statistics.median(submit),
            "submit_p95_ms": 1000 * _percentile(submit, 0.95), "commit_p50_ms": 1000 * statistics.median(commit),
            "commit_p95_ms": 1000 * _percentile(commit, 0.95)}


def main() -> None:
    """Measure both modes and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=200, help="plan submissions per mode")
    parser.add_argument("--rows", type=int, default=1000, help="audit-row commits per mode")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the database files (on disk)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir or ROOT, prefix=".durability-") as tmp:
        results = {mode: run(mode, Path(tmp), plans=args.plans, rows=args.rows) for mode in ("NORMAL", "FULL")}
    print(f"{platform.node()}: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"SQLite in {args.dir or ROOT}; {args.plans} submissions of {PLAN.name}, {args.rows} audit rows")
    print("| synchronous | plans/s | submit p50 ms | submit p95 ms | commit p50 ms | commit p95 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for mode, r in results.items():
        print(f"| {mode} ({r['synchronous']}) | {r['plans_per_s']:.1f} | {r['submit_p50_ms']:.2f} | "
              f"{r['submit_p95_ms']:.2f} | {r['commit_p50_ms']:.2f} | {r['commit_p95_ms']:.2f} |")


if __name__ == "__main__":
    main()
