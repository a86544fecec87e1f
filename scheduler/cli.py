"""The ``homecare`` command line: solve, validate and generate plans.

The CLI is the application shell: it is the one module of ``scheduler`` that
reaches into ``solver`` (inside its commands, never at import time).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from scheduler.bundled import default_plan
from scheduler.cli_common import (
    EXIT_ERROR as EXIT_ERROR,
    EXIT_INVALID as EXIT_INVALID,
    SNAP_WARNING_M,
    _fail,
    _load_plan,
    _load_roster,
    console,
    out,
)
from scheduler.errors import PlanError, SchedulerError
from scheduler.timeutil import format_hhmm

if TYPE_CHECKING:
    from scheduler.model import Plan
    from scheduler.roster import Replan, Roster

app = typer.Typer(
    name="homecare",
    help="Plan a day of home visits over real roads: every visit a worker and a time, or a reason why not.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
def _load(plan_path: Path | None) -> Plan:

    try:
        path = plan_path or default_plan()
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None
    return _load_plan(path)


class _RichReporter:
    """Shows network loading, matrices and the search as Rich progress bars."""

    def __init__(self, progress: Progress, time_limit_s: float, visit_nodes: int | None = None):
        self.p = progress
        self.limit = time_limit_s
        self.tasks: dict[str, int] = {}
        self.current: str | None = None
        self.t0 = time.perf_counter()

    def _finish_current(self) -> None:
        if self.current and self.current in self.tasks:
            task = self.tasks[self.current]
            self.p.update(task, completed=self.p.tasks[task].total or 1)

    def stage(self, name: str, detail: str = "") -> None:
        labels = {"network": "Loading road network", "matrix": "Travel matrices", "model": "Building model",
                  "search": "Searching", "decode": "Writing roster"}
        self._finish_current()
        if name.startswith("matrix"):
            self.current = None
            return
        total = self.limit if name == "search" else 1
        self.tasks[name] = self.p.add_task(f"{labels.get(name, name)} {detail}".strip(), total=total)
        self.current = name
        self.t0 = time.perf_counter()

    def advance(self, name: str, done: float, total: float) -> None:
        if name not in self.tasks:
            self.tasks[name] = self.p.add_task(f"Travel matrix ({name.split(':')[-1]})", total=total)
        self.p.update(self.tasks[name], completed=done, total=total)

    def search(self, progress) -> None:  # noqa: ANN001 - solver.Progress
        task = self.tasks.get("search")
        if task is not None:
            self.p.update(
                task, completed=min(progress.elapsed_s, self.limit),
                description=(f"Searching: {progress.assigned_nodes}/{progress.total_nodes} places filled, "
                             f"objective {progress.objective:,}"))


def _worker_table(plan: Plan, roster: Roster) -> Table:
    table = Table(title=f"Roster for {roster.date}", show_lines=False)
    for col, justify in [("worker", "left"), ("provider", "left"), ("mode", "left"), ("shift", "left"),
                         ("visits", "right"), ("day", "left"), ("work h", "right"), ("travel min", "right"),
                         ("idle min", "right"), ("travel share", "right")]:
        table.add_column(col, justify=justify)
    for route in roster.routes:
        w = plan.worker(route.worker_id)
        day = f"{format_hhmm(route.stops[0].start)}-{format_hhmm(route.stops[-1].end)}" if route.stops else "-"
        between = sum(s.travel_s for s in route.stops[1:])
        share = f"{between / (between + route.service_s):.0%}" if route.service_s else "-"
        table.add_row(w.id, w.provider_id, w.travel_mode, str(w.shift), str(len(route.stops)), day,
                      f"{route.work_s / 3600:.1f}", f"{route.travel_s / 60:.0f}", f"{route.idle_s / 60:.0f}", share)
    return table


@app.command()
def solve(
    plan_path: Annotated[Optional[Path], typer.Argument(metavar="[PLAN]", help="Plan JSON file or CSV folder (default: the bundled Cambridge weekday).")] = None,  # noqa: UP007
    network: Annotated[Optional[str], typer.Option(help="Road network (.osm, .graphml, or a place name when online) instead of the plan's.")] = None,  # noqa: UP007
    time_limit: Annotated[float, typer.Option("--time-limit", help="Search time limit (seconds).")] = 30.0,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for roster.json and roster.csv.")] = Path("out"),
    seed: Annotated[int, typer.Option(help="Search seed (0: plan order).")] = 0,
    params_file: Annotated[Optional[Path], typer.Option("--params", help="TOML file of solver parameters.")] = None,  # noqa: UP007
    cache_dir: Annotated[Optional[Path], typer.Option(help="Cache for networks and matrices (default ~/.cache/homecare).")] = None,  # noqa: UP007
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the cache.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary line.")] = False,
    keep: Annotated[Optional[Path], typer.Option("--keep", help="Roster in force: re-optimise it, keeping the stops chosen by the --lock options.")] = None,  # noqa: UP007
    lock_before: Annotated[Optional[str], typer.Option("--lock-before", help="With --keep: keep stops starting before HH:MM (done or under way).")] = None,  # noqa: UP007
    lock_visits: Annotated[Optional[str], typer.Option("--lock-visits", help="With --keep: keep these visits' stops (comma-separated ids, e.g. published ones).")] = None,  # noqa: UP007
    lock_workers: Annotated[Optional[str], typer.Option("--lock-workers", help="With --keep: keep every stop of these workers (comma-separated ids).")] = None,  # noqa: UP007
) -> None:
    """Plan the day: assign every visit a worker and a start time, and write the roster.

    With --keep, re-optimise a roster in force: stops chosen by --lock-before,
    --lock-visits and --lock-workers stay exactly as they are (worker and start);
    the rest is planned again for the plan as it is now (a worker off sick
    removed, a visit cancelled or added).
    """
    from scheduler.io import write_roster
    from scheduler.validate import check_roster
    from solver import SolveParams, network_for, solve as run_solve, travel_for
    from solver.cache import default_cache_dir

    plan = _load(plan_path)
    try:
        params = SolveParams.from_toml(params_file) if params_file else SolveParams()
        params = params.replace(time_limit_s=time_limit, seed=seed)
    except (SchedulerError, OSError) as exc:
        raise _fail(str(exc)) from None
    cache = None if no_cache else (cache_dir or default_cache_dir())
    locked = _locks(plan, keep, lock_before, lock_visits, lock_workers)
    if not quiet:
        console.print(f"Plan {plan.source}: {len(plan.visits)} visits, {len(plan.workers)} workers, "
                      f"{len(plan.providers)} providers, {plan.date}", highlight=False)
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
               TimeElapsedColumn()]
    try:
        with Progress(*columns, console=console, transient=False, disable=quiet) as progress:
            reporter = _RichReporter(progress, params.time_limit_s)
            reporter.stage("network", str(network or plan.network or ""))
            road = network_for(plan, network, cache_dir=cache)
            reporter.stage("matrix")
            travel = travel_for(plan, road, params=params, cache_dir=cache, reporter=reporter)
            result = run_solve(plan, params=params, travel=travel, reporter=reporter, locked=locked.locked,
                               locked_before=locked.locked_before)
            reporter._finish_current()
    except PlanError as exc:
        console.print(f"[bold red]invalid plan[/]: {len(exc.problems)} problem(s)", highlight=False)
        for p in exc.problems:
            console.print(f"  - {p}", highlight=False, markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    except SchedulerError as exc:
        raise _fail(str(exc)) from None
    roster = result.roster
    snap = travel.snap_report()
    if snap["max_m"] > SNAP_WARNING_M:
        console.print(f"[yellow]warning:[/] {snap['worst']} is {snap['max_m']:.0f} m from the nearest road; "
                      "check its coordinates (travel is measured from the nearest road node)", highlight=False)
    violations = check_roster(plan, roster, travel=travel, locked=locked.locked, locked_before=locked.locked_before)
    json_path = write_roster(roster, out_dir / "roster.json")
    csv_path = write_roster(roster, out_dir / "roster.csv", plan=plan)
    if not quiet:
        out.print(_worker_table(plan, roster))
        if roster.unassigned:
            table = Table(title=f"Unassigned visits ({len(roster.unassigned)})")
            for col in ("visit", "priority", "window", "reason"):
                table.add_column(col)
            for u in roster.unassigned:
                v = plan.visit(u.visit_id)
                table.add_row(v.id, v.priority, str(v.window), u.reason)
            out.print(table)
    out.print(result.summary(), highlight=False)
    out.print(f"Wrote {json_path} and {csv_path}", highlight=False)
    if violations:
        console.print(f"[bold red]{len(violations)} roster violation(s)[/] (please report this):", highlight=False)
        for v in violations:
            console.print(f"  - {v}", highlight=False, markup=False)
        raise typer.Exit(EXIT_INVALID)


def _locks(plan: Plan, keep: Path | None, before: str | None, visits: str | None,
           workers: str | None) -> Replan:
    """Read the roster in force and choose the stops to keep and the lock time (see ``solve --keep``)."""
    from scheduler.io import load_roster
    from scheduler.roster import Replan, replan_locks
    from scheduler.timeutil import parse_hhmm

    if keep is None:
        if before or visits or workers:
            raise _fail("--lock-before, --lock-visits and --lock-workers need --keep ROSTER")
        return Replan((), None)
    try:
        roster = load_roster(keep)
        cutoff = parse_hhmm(before) if before else None
    except FileNotFoundError:
        raise _fail(f"no roster at {keep}") from None
    except (PlanError, ValueError) as exc:
        raise _fail(f"--keep/--lock-before: {exc}") from None
    def split(text: str | None) -> list[str]:
        return [t.strip() for t in (text or "").split(",") if t.strip()]

    replan = replan_locks(roster, plan, before=cutoff, visit_ids=split(visits), worker_ids=split(workers))
    if replan.dropped:
        console.print(f"{len(replan.dropped)} stop(s) of workers or visits no longer in the plan are re-planned",
                      highlight=False)
    return replan


@app.command()
def validate(
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN", help="Plan JSON file or CSV folder.")],
    roster_path: Annotated[Optional[Path], typer.Argument(metavar="[ROSTER]", help="Roster JSON to check against the plan.")] = None,  # noqa: UP007
    network: Annotated[Optional[str], typer.Option(help="Road network instead of the plan's, for travel checks.")] = None,  # noqa: UP007
    no_travel: Annotated[bool, typer.Option("--no-travel", help="Skip checks that need the road network.")] = False,
    cache_dir: Annotated[Optional[Path], typer.Option(help="Cache for networks and matrices.")] = None,  # noqa: UP007
) -> None:
    """Check a plan, and a roster against it; exit 1 on any problem."""
    from scheduler.validate import check_roster
    from solver import network_for, travel_for
    from solver.cache import default_cache_dir

    plan = _load(plan_path)
    out.print(f"plan {plan_path}: valid ({len(plan.visits)} visits, {len(plan.workers)} workers)", highlight=False)
    if roster_path is None:
        return
    roster = _load_roster(roster_path)
    travel = None
    if not no_travel:
        try:
            road = network_for(plan, network, cache_dir=cache_dir or default_cache_dir())
            travel = travel_for(plan, road, cache_dir=cache_dir or default_cache_dir())
        except SchedulerError as exc:
            raise _fail(f"{exc} (use --no-travel to skip travel checks)") from None
    violations = check_roster(plan, roster, travel=travel)
    if violations:
        out.print(f"roster {roster_path}: {len(violations)} violation(s)", highlight=False)
        for v in violations:
            out.print(f"  - {v}", highlight=False, markup=False)
        raise typer.Exit(EXIT_INVALID)
    checked = "every rule" if travel else "every rule but travel times"
    out.print(f"roster {roster_path}: valid ({checked} checked)", highlight=False)


@app.command()
def generate(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the plan JSON.")],
    network: Annotated[Optional[str], typer.Option(help="Road network file (default: the bundled Cambridge network).")] = None,  # noqa: UP007
    visits: Annotated[int, typer.Option(help="Number of visits.")] = 300,
    workers: Annotated[Optional[int], typer.Option(help="Number of workers (default: as few as the demand needs with some slack).")] = None,  # noqa: UP007
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same plan.")] = 1,
    date: Annotated[str, typer.Option(help="Plan date, YYYY-MM-DD.")] = "2026-11-24",
) -> None:
    """Generate a realistic day of visits on a road network (reproducible by seed)."""
    import datetime as dt

    from scheduler.bundled import resolve_path
    from scheduler.io import write_plan
    from solver.cache import default_cache_dir
    from solver.generate import generate_day

    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise _fail(f"--date {date!r} is not YYYY-MM-DD") from None
    source = network or "fixtures/networks/cambridge_drive.osm"
    path = resolve_path(source)
    try:
        plan = generate_day(str(source) if network else source, seed=seed, n_visits=visits, n_workers=workers,
                            date=day, cache_dir=default_cache_dir(), network_file=path)
    except (SchedulerError, ValueError) as exc:
        raise _fail(str(exc)) from None
    write_plan(plan, out_path)
    out.print(f"Wrote {out_path}: {len(plan.visits)} visits, {len(plan.workers)} workers, seed {seed}", highlight=False)


# Care-rule reports (pay, explain) and the roster service's commands (serve, keys, db);
# the solver, FastAPI, uvicorn and SQLAlchemy are imported inside those commands only.
from api.cli import register as _register_api  # noqa: E402
from scheduler.cli_care import register as _register_care  # noqa: E402
from solver.bench.cli import register as _register_bench  # noqa: E402
from scheduler.cli_view import register as _register_view  # noqa: E402

_register_care(app)
_register_bench(app)
_register_view(app)
_register_api(app)


def main() -> None:
    """Run the command line (entry point of ``homecare``)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
