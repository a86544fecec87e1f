"""Run instance sets with several solvers and time limits; write CSV, Markdown and a plot.

``homecare bench`` is a thin shell over :func:`run_suite` and :func:`write_reports`.
Every objective in a report is recomputed by our independent checkers
(:func:`solver.bench.instances.check_vrptw`, :func:`solver.bench.mankowska.check_mankowska`),
never taken from a solver.
"""

from __future__ import annotations

import csv
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solver.bench.common import BenchRow
from solver.bench.instances import (
    InstanceError,
    check_vrptw,
    instance_files,
    load_vrptw_bks,
    read_solomon,
)

#: Instance sets and where their best-known table sits relative to the instance folder.
SUITES = ("solomon", "homberger", "mankowska")
SOLVERS = ("ours", "pyvrp", "vroom")
_BKS_NAMES = {"solomon": "solomon_bks.csv", "homberger": "homberger_bks.csv", "mankowska": "bks_mankowska2014.csv"}


@dataclass(frozen=True, slots=True)
class Job:
    """One solver on one instance at one time limit."""

    suite: str
    path: Path
    solver: str
    time_limit_s: float


def find_bks(suite: str, root: Path) -> Path:
    """Find the suite's best-known table in ``root`` or up to two folders above it.

    Raises
    ------
    InstanceError
        If there is none; the message says which file was looked for and where.
    """
    name = _BKS_NAMES[suite]
    start = root if root.is_dir() else root.parent
    for folder in (start, start.parent, start.parent.parent):
        if (folder / name).is_file():
            return folder / name
    raise InstanceError(f"no {name} in {start} or the two folders above it; pass --bks")


def list_instances(suite: str, root: str | Path, names: Iterable[str] | None = None) -> list[Path]:
    """List a suite's instance files under ``root``, optionally only the given names (case-insensitive)."""
    root = Path(root)
    if suite == "mankowska":
        from solver.bench.mankowska import mankowska_instances

        files = mankowska_instances(root)
    else:
        files = instance_files(root)
    if names:
        wanted = {n.upper() for n in names}
        files = [f for f in files if _name(suite, f).upper() in wanted]
        missing = wanted - {_name(suite, f).upper() for f in files}
        if missing:
            raise InstanceError(f"{root}: no instance named {', '.join(sorted(missing))}")
    return files


def _name(suite: str, path: Path) -> str:
    """Instance name as the suite's best-known table spells it (Mankowska files are named A1..G10 there)."""
    if suite == "mankowska":
        from solver.bench.mankowska import instance_name

        return instance_name(path)
    name = path.name
    for suffix in (".gz", ".txt", ".json", ".vrp"):
        name = name.removesuffix(suffix)
    return name


def run_mankowska(path: str | Path, *, time_limit_s: float, seed: int = 0, bks: float | None = None,
                  workers: int = 2) -> BenchRow:
    """Solve one instance with our OR-Tools model and check the result independently.

    Parameters
    ----------
    path
        The instance file.
    time_limit_s
        Wall-clock limit of the search (seconds).
    seed
        Seed of the search.
    bks
        Best-known objective, for the gap (``nan`` when not given).
    workers
        Searches run at once, one process each, the best kept
        (:func:`solver.bench.hhcrsp.solve_mankowska_portfolio`).

    Returns
    -------
    BenchRow
        Objective, feasibility and violations from
        :func:`solver.bench.mankowska.check_mankowska`; the
        components go in ``extra`` (``distance``, ``total_tardiness``,
        ``max_tardiness``, ``family``) with the solver's figures.
    """
    from solver.bench.hhcrsp import solve_mankowska_portfolio
    from solver.bench.mankowska import SUITE, check_mankowska, read_mankowska

    inst = read_mankowska(path)
    sol = solve_mankowska_portfolio(inst, time_limit_s=time_limit_s, seed=seed, workers=workers)
    check = check_mankowska(inst, sol)
    extra: dict[str, Any] = {
        "family": inst.name[0] if inst.name[0] in "ABCDEFG" else "",
        "distance": round(check.distance, 4),
        "total_tardiness": round(check.total_tardiness, 4),
        "max_tardiness": round(check.max_tardiness, 4),
    }
    extra.update(sol.stats)
    return BenchRow(
        suite=SUITE, instance=inst.name, solver="ours", time_limit_s=time_limit_s,
        objective=check.objective if sol.routes else math.nan, bks=math.nan if bks is None else bks,
        vehicles=check.routes_used, first_feasible_s=sol.first_feasible_s, runtime_s=sol.runtime_s,
        feasible=check.feasible and bool(sol.routes),
        violations=list(check.violations) if sol.routes else ["no solution found"], extra=extra)


def run_job(job: Job, bks: dict[str, float], *, seed: int = 0, workers: int = 1) -> BenchRow:
    """Run one job and check its solution independently."""
    if job.suite == "mankowska":
        if job.solver != "ours":
            raise InstanceError(f"{job.solver} cannot model Mankowska's synchronised double services; use ours")
        return run_mankowska(job.path, time_limit_s=job.time_limit_s, seed=seed,
                             bks=bks.get(_name(job.suite, job.path).upper()), workers=workers)
    inst = read_solomon(job.path)
    if job.solver == "ours":
        from solver.bench.vrptw import portfolio, solve_vrptw_portfolio

        result = solve_vrptw_portfolio(inst, portfolio(job.time_limit_s, workers=workers, seed=seed))
    else:
        from solver.bench import peers

        peers.require(job.solver)
        solve = peers.solve_pyvrp if job.solver == "pyvrp" else peers.solve_vroom
        result = solve(inst, time_limit_s=job.time_limit_s, seed=seed)
    check = check_vrptw(inst, result.routes)
    return BenchRow(
        suite=job.suite, instance=inst.name, solver=job.solver, time_limit_s=job.time_limit_s,
        objective=check.distance if result.routes else math.nan, bks=bks.get(inst.name, math.nan),
        vehicles=check.vehicles,
        first_feasible_s=result.first_solution_s if result.first_solution_s is not None else math.nan,
        runtime_s=result.runtime_s, feasible=check.feasible and bool(result.routes),
        violations=list(check.violations) if result.routes else ["no solution found"],
        extra={"config": result.config, "solutions": result.solutions})


def run_suite(suite: str, files: list[Path], *, solvers: Iterable[str], time_limits: Iterable[float],
              bks: dict[str, float], seed: int = 0, workers: int = 1,
              on_row: Callable[[BenchRow, int, int], None] | None = None) -> list[BenchRow]:
    """Run every solver at every time limit on every file, in that nesting (instance outermost).

    Parameters
    ----------
    on_row
        Called after each run with the row, the number done and the total.
    """
    jobs = [Job(suite, f, s, t) for f in files for t in time_limits for s in solvers]
    rows = []
    for k, job in enumerate(jobs, start=1):
        row = run_job(job, bks, seed=seed, workers=workers)
        rows.append(row)
        if on_row:
            on_row(row, k, len(jobs))
    return rows


def load_bks(suite: str, path: Path) -> dict[str, float]:
    """Read a suite's best-known table (DIMACS distances, or Mankowska's objective)."""
    if suite == "mankowska":
        from solver.bench.mankowska import load_mankowska_bks

        return {k.upper(): v for k, v in load_mankowska_bks(path).items()}
    return load_vrptw_bks(path)


def group_of(row: BenchRow) -> str:
    """Reporting group: the Solomon class, the Homberger class and size, or the Mankowska family."""
    name = row.instance.upper()
    if row.suite == "mankowska":
        return name[0]
    parts = name.split("_")
    if len(parts) == 3:
        return f"{parts[0]}_{parts[1]}"
    m = re.match(r"(RC|R|C)(\d)", name)
    return m.group(0) if m else name


def _mean(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.fmean(values) if values else math.nan


def summarise(rows: list[BenchRow]) -> list[dict[str, object]]:
    """Per (group, solver, time limit) and per (all, solver, time limit): mean gap, infeasible count, times."""
    buckets: dict[tuple[str, str, float], list[BenchRow]] = defaultdict(list)
    for row in rows:
        buckets[(group_of(row), row.solver, row.time_limit_s)].append(row)
        buckets[("all", row.solver, row.time_limit_s)].append(row)
    out = []
    for (group, solver, limit), bucket in sorted(buckets.items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
        out.append({
            "group": group, "solver": solver, "time_limit_s": limit, "instances": len(bucket),
            "feasible": sum(r.feasible for r in bucket), "mean_gap_pct": _mean([r.gap_pct for r in bucket]),
            "max_gap_pct": max((r.gap_pct for r in bucket if r.feasible), default=math.nan),
            "at_bks": sum(1 for r in bucket if r.feasible and r.gap_pct <= 1e-9),
            "mean_vehicles": _mean([float(r.vehicles) for r in bucket if r.feasible]),
            "mean_first_feasible_s": _mean([r.first_feasible_s for r in bucket]),
            "mean_runtime_s": _mean([r.runtime_s for r in bucket]),
        })
    return out


def ratios(rows: list[BenchRow]) -> dict[tuple[str, float], float]:
    """Mean over instances of our objective / the peer's objective, per (peer, time limit)."""
    ours = {(r.instance, r.time_limit_s): r.objective for r in rows if r.solver == "ours" and r.feasible}
    acc: dict[tuple[str, float], list[float]] = defaultdict(list)
    for r in rows:
        key = (r.instance, r.time_limit_s)
        if r.solver != "ours" and r.feasible and key in ours and r.objective:
            acc[(r.solver, r.time_limit_s)].append(ours[key] / r.objective)
    return {k: statistics.fmean(v) for k, v in acc.items()}


def _fmt(value: object, digits: int = 2) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:,.{digits}f}"
    return str(value)


def markdown(rows: list[BenchRow], *, title: str = "", per_instance: bool = True) -> str:
    """Render a summary table, our/peer ratios and (optionally) one row per instance as Markdown."""
    lines = [f"### {title}", ""] if title else []
    lines += ["| group | solver | limit (s) | instances | feasible | at BKS | mean gap % | max gap % "
              "| mean vehicles | first feasible (s) | runtime (s) |",
              "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for s in summarise(rows):
        group = f"**{s['group']}**" if s["group"] == "all" else s["group"]
        lines.append(f"| {group} | {s['solver']} | {_fmt(s['time_limit_s'], 0)} | {s['instances']} | {s['feasible']} "
                     f"| {s['at_bks']} | {_fmt(s['mean_gap_pct'])} | {_fmt(s['max_gap_pct'])} "
                     f"| {_fmt(s['mean_vehicles'], 1)} | {_fmt(s['mean_first_feasible_s'], 3)} "
                     f"| {_fmt(s['mean_runtime_s'], 1)} |")
    rat = ratios(rows)
    if rat:
        lines += ["", "Ours / peer objective (mean over instances; below 1 means ours is better):", ""]
        lines += [f"- {peer} at {_fmt(limit, 0)} s: {value:.4f}" for (peer, limit), value in sorted(rat.items())]
    if per_instance:
        lines += ["", "| instance | solver | limit (s) | objective | BKS | gap % | vehicles | first feasible (s) "
                  "| feasible |", "|---|---|--:|--:|--:|--:|--:|--:|---|"]
        for r in rows:
            lines.append(f"| {r.instance} | {r.solver} | {_fmt(r.time_limit_s, 0)} | {_fmt(r.objective)} "
                         f"| {_fmt(r.bks)} | {_fmt(r.gap_pct)} | {r.vehicles} | {_fmt(r.first_feasible_s, 3)} "
                         f"| {'yes' if r.feasible else 'NO: ' + '; '.join(r.violations)[:120]} |")
    return "\n".join(lines) + "\n"


def write_csv(rows: list[BenchRow], path: str | Path) -> None:
    """Write one CSV row per run (all :class:`BenchRow` fields, gap included)."""
    dicts = [r.as_dict() for r in rows]
    fields = list(dict.fromkeys(k for d in dicts for k in d))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(dicts)


def read_csv(path: str | Path) -> list[BenchRow]:
    """Read rows written by :func:`write_csv` (to re-render reports or merge runs)."""
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for d in csv.DictReader(fh):
            rows.append(BenchRow(
                suite=d["suite"], instance=d["instance"], solver=d["solver"], time_limit_s=float(d["time_limit_s"]),
                objective=float(d["objective"]), bks=float(d["bks"]), vehicles=int(d["vehicles"]),
                first_feasible_s=float(d["first_feasible_s"]), runtime_s=float(d["runtime_s"]),
                feasible=d["feasible"] == "True", violations=[v for v in d["violations"].split("; ") if v],
                extra={k[2:]: v for k, v in d.items() if k.startswith("x_")}))
    return rows


def plot_gap_vs_time(rows: list[BenchRow], path: str | Path) -> None:
    """Plot mean gap against time limit, one line per solver (log-scaled time axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    for solver in dict.fromkeys(r.solver for r in rows):
        limits = sorted({r.time_limit_s for r in rows if r.solver == solver})
        gaps = [_mean([r.gap_pct for r in rows if r.solver == solver and r.time_limit_s == t]) for t in limits]
        ax.plot(limits, gaps, marker="o", label=solver)
    ax.set_xscale("log")
    ax.set_xlabel("time limit per instance (s)")
    ax.set_ylabel("mean gap to best-known (%)")
    suites = ", ".join(sorted({r.suite for r in rows}))
    ax.set_title(f"{suites}: {len({r.instance for r in rows})} instances")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_reports(rows: list[BenchRow], out_dir: str | Path, *, title: str = "") -> dict[str, Path]:
    """Write ``results.csv``, ``results.md`` and ``gap_vs_time.png`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "results.csv", "md": out / "results.md", "plot": out / "gap_vs_time.png"}
    write_csv(rows, paths["csv"])
    paths["md"].write_text(markdown(rows, title=title), encoding="utf-8")
    plot_gap_vs_time(rows, paths["plot"])
    return paths
