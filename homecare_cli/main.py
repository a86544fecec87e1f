"""The ``homecare`` command line: solve, validate and generate plans.

The CLI is the application shell on top of ``scheduler``, ``solver`` and ``api``; it
reaches into ``solver`` and ``api`` inside its commands, never at import time, so
``homecare --help`` stays quick.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from homecare_cli.common import (
    DEFAULT_MAX_TIME_LIMIT_S,
    EXIT_ERROR as EXIT_ERROR,
    EXIT_INVALID as EXIT_INVALID,
    SNAP_WARNING_M,
    _check_out_file,
    _check_out_folder,
    _fail,
    _invalid,
    _load_plan,
    _load_roster,
    console,
    out,
)
from scheduler.bundled import default_plan
from scheduler.errors import PlanError, SchedulerError
from scheduler.text import counted
from scheduler.timeutil import format_hhmm

if TYPE_CHECKING:
    from scheduler.model import Plan
    from scheduler.roster import Replan, Roster
    from solver import PlanTravel, SolveParams

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


_STAGE_LABELS = {"network": "Loading road network", "matrix": "Travel matrices", "model": "Building model",
                 "search": "Searching", "decode": "Writing roster"}


class _RichReporter:
    """Shows network loading, matrices and the search as Rich progress bars.

    On a terminal the bars are live; otherwise (a log file, a pipe) the bars are off
    and each stage is one plain line as it starts, so a log shows how far a run got.
    """

    def __init__(self, progress: Progress, time_limit_s: float, visit_nodes: int | None = None,
                 plain: bool = False):
        self.p = progress
        self.limit = time_limit_s
        self.tasks: dict[str, int] = {}
        self.current: str | None = None
        self.t0 = time.perf_counter()
        self.plain = plain

    def _finish_current(self) -> None:
        if self.current and self.current in self.tasks:
            task = self.tasks[self.current]
            self.p.update(task, completed=self.p.tasks[task].total or 1)

    def stage(self, name: str, detail: str = "") -> None:
        self._finish_current()
        if name.startswith("matrix"):
            self.current = None
            return
        total = self.limit if name == "search" else 1
        label = f"{_STAGE_LABELS.get(name, name)} {detail}".strip()
        if self.plain:
            console.print(label, highlight=False, soft_wrap=True)
        self.tasks[name] = self.p.add_task(label, total=total)
        self.current = name
        self.t0 = time.perf_counter()

    def advance(self, name: str, done: float, total: float) -> None:
        if name not in self.tasks:
            self.tasks[name] = self.p.add_task(f"Travel matrix ({name.split(':')[-1]})", total=total)
        self.p.update(self.tasks[name], completed=done, total=total)

    def search(self, progress) -> None:  # noqa: ANN001 - solver.Progress
        task = self.tasks.get("search")
        if task is not None:
            # The solution the search sits on now, and the best so far if that is another.
            best = progress.best_objective
            also = f" (best so far {best:,})" if best is not None and best != progress.objective else ""
            self.p.update(
                task, completed=min(progress.elapsed_s, self.limit),
                description=(f"Searching: {progress.assigned_nodes}/{progress.total_nodes} places filled, "
                             f"objective {progress.objective:,}{also}"))

    def finish(self, plan: Plan, roster: Roster) -> None:
        """Show the final state: places filled and the objective of the roster written (``meta.objective``)."""
        self._finish_current()
        places = sum(v.workers_required for v in plan.visits)
        filled = sum(len(r.stops) for r in roster.routes)
        objective = roster.meta.get("objective")
        how = "stopped by Ctrl-C" if roster.meta.get("interrupted") else "done"
        text = (f"Search {how}: {filled}/{counted(places, 'place')} filled, "
                + (f"objective {objective:,}" if objective is not None else f"no search ({roster.meta.get('solver')})"))
        task = self.tasks.get("search")
        if task is not None:
            self.p.update(task, description=text, completed=self.p.tasks[task].total)
        if self.plain or (task is None and not self.p.disable):
            console.print(text, highlight=False, soft_wrap=True)


def _worker_table(plan: Plan, roster: Roster) -> Table:
    table = Table(title=f"Roster for {roster.date}", show_lines=False,
                  caption="span h: first arrival to last visit end, waits and breaks included "
                          "(homecare pay's 'working' time leaves out long waits and breaks)")
    for col, justify in [("worker", "left"), ("provider", "left"), ("mode", "left"), ("shift", "left"),
                         ("visits", "right"), ("day", "left"), ("span h", "right"), ("travel min", "right"),
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
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", help="Search time limit (seconds; default: the --params file's time_limit_s, else 30).")] = None,  # noqa: UP007
    max_time_limit: Annotated[float, typer.Option("--max-time-limit", help="Longest search allowed (seconds), as the roster service's HOMECARE_MAX_TIME_LIMIT_S; at most 86400.")] = DEFAULT_MAX_TIME_LIMIT_S,
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

    Ctrl-C during the search stops it: the best roster found so far is checked and
    written. A second Ctrl-C quits at once, without a roster (exit 130).
    """
    from scheduler.io import write_roster
    from solver import run
    from solver.cache import default_cache_dir

    plan = _load(plan_path)
    params = _solve_params(params_file, time_limit=time_limit, max_time_limit=max_time_limit, seed=seed)
    _check_out_folder(out_dir, f"--out {out_dir}")
    cache = None if no_cache else (cache_dir or default_cache_dir())
    locked = _locks(plan, keep, lock_before, lock_visits, lock_workers)
    if not quiet:
        console.print(f"Plan {plan.source}: {counted(len(plan.visits), 'visit')}, "
                      f"{counted(len(plan.workers), 'worker')}, {counted(len(plan.providers), 'provider')}, "
                      f"{plan.date}", highlight=False, soft_wrap=True)
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
               TimeElapsedColumn()]
    plain = not quiet and not console.is_terminal
    with Progress(*columns, console=console, transient=False, disable=quiet or plain) as progress:
        reporter = _RichReporter(progress, params.time_limit_s, plain=plain)
        travel = _check_plan(plan, network=network, params=params, cache_dir=cache, reporter=reporter)
        # From here on the first Ctrl-C stops the search and keeps its best roster; before,
        # while the network loads, Ctrl-C quits as usual.
        with _interrupt_stops_search() as stop:
            try:
                # The pipeline of the roster service's jobs too (solver.run); the plan checks ran above.
                result = run(plan, params=params, travel=travel, reporter=reporter, locked=locked.locked,
                             locked_before=locked.locked_before, stop=stop)
            except PlanError as exc:
                raise _invalid(f"plan {plan.source or plan_path}", exc) from None
            except SchedulerError as exc:
                raise _fail(str(exc)) from None
            reporter.finish(plan, result.roster)
            roster, violations = result.roster, result.violations
            try:
                json_path = write_roster(roster, out_dir / "roster.json")
                csv_path = write_roster(roster, out_dir / "roster.csv", plan=plan)
            except OSError as exc:
                raise _fail(f"--out {out_dir}: cannot write the roster ({exc.strerror or exc})") from None
    snap = travel.snap_report()
    if snap["max_m"] > SNAP_WARNING_M:
        console.print(f"[yellow]warning:[/] {snap['worst']} is {snap['max_m']:.0f} m from the nearest road; "
                      "check its coordinates (travel is measured from the nearest road node)", highlight=False)
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
    if roster.meta.get("interrupted"):
        out.print(f"Search stopped by Ctrl-C after {result.runtime_s:.1f} s: the roster is the best found by then",
                  highlight=False)
    out.print(f"Wrote {json_path} and {csv_path}", highlight=False)
    if violations:
        console.print(f"[bold red]{counted(len(violations), 'roster violation')}[/] (please report this):",
                      highlight=False)
        for v in violations:
            console.print(f"  - {v}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID)


def _solve_params(params_file: Path | None, *, time_limit: float | None, max_time_limit: float,
                  seed: int) -> SolveParams:
    """Return the search parameters: the ``--params`` file's, with the command line's time limit and seed.

    The time limit is ``--time-limit``, else the file's ``time_limit_s``, else 30 s; it
    must be a positive number of seconds no longer than ``--max-time-limit``.
    """
    from solver.params import TIME_LIMIT_CEILING_S

    if not (math.isfinite(max_time_limit) and 0 < max_time_limit <= TIME_LIMIT_CEILING_S):
        raise _fail(f"--max-time-limit {max_time_limit:g}: give a number of seconds above 0 and at most "
                    f"{TIME_LIMIT_CEILING_S:g} (a day)")
    params = _read_params(params_file)
    limit = params.time_limit_s if time_limit is None else time_limit
    source = "--time-limit" if time_limit is not None else f"time_limit_s in {params_file}"
    if not (math.isfinite(limit) and limit > 0):
        raise _fail(f"{source} {limit:g}: give a positive number of seconds")
    if limit > max_time_limit:
        raise _fail(f"{source} {limit:g} is longer than the longest search allowed, {max_time_limit:g} s; "
                    f"ask for less, or allow it with --max-time-limit {limit:g}")
    try:
        return params.replace(time_limit_s=limit, seed=seed)
    except SchedulerError as exc:
        raise _fail(str(exc)) from None


def _read_params(params_file: Path | None) -> SolveParams:
    """Return the ``--params`` file's parameters (defaults if none), or print why not and exit 2."""
    from solver import SolveParams

    try:
        return SolveParams.from_toml(params_file) if params_file else SolveParams()
    except FileNotFoundError:
        raise _fail(f"--params: no parameter file at {params_file}") from None
    except OSError as exc:
        raise _fail(f"--params {params_file}: cannot read it ({exc.strerror or exc})") from None
    except SchedulerError as exc:
        raise _fail(f"--params {exc}") from None


def _check_plan(plan: Plan, *, network: str | None, params: SolveParams | None, cache_dir: Path | None,
                reporter: _RichReporter | None = None, hint: str = "") -> PlanTravel:
    """Run :func:`solver.check_plan`, the checks ``solve`` and ``validate`` share, or print why not and exit."""
    from solver import check_plan

    try:
        return check_plan(plan, network=network, params=params, cache_dir=cache_dir, reporter=reporter)
    except PlanError as exc:
        raise _invalid(f"plan {plan.source}", exc) from None
    except SchedulerError as exc:
        raise _fail(f"{exc}{hint}") from None


@contextmanager
def _interrupt_stops_search() -> Iterator[threading.Event]:
    """Make the first Ctrl-C stop the search (the best roster so far is kept) and a second one quit.

    The handler only sets a flag, which the search reads in its own callbacks
    (:class:`solver.StopFlag`): nothing calls into OR-Tools from the handler. The
    second Ctrl-C stops the region processes, if any, and exits with code 130.
    """
    stop = threading.Event()

    def on_interrupt(signum: int, frame: object) -> None:
        if stop.is_set():
            os.write(2, b"\ninterrupted again: quitting without a roster\n")
            for child in multiprocessing.active_children():
                child.kill()
            os._exit(130)
        stop.set()
        console.print("Stopping the search (Ctrl-C): the best roster found so far will be checked and "
                      "written. Ctrl-C again quits without it.", highlight=False, soft_wrap=True)

    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield stop
        return
    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


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
        console.print(f"{counted(len(replan.dropped), 'stop')} of workers or visits no longer in the plan "
                      "are re-planned", highlight=False)
    return replan


@app.command()
def validate(
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN", help="Plan JSON file or CSV folder.")],
    roster_path: Annotated[Optional[Path], typer.Argument(metavar="[ROSTER]", help="Roster JSON to check against the plan.")] = None,  # noqa: UP007
    network: Annotated[Optional[str], typer.Option(help="Road network instead of the plan's.")] = None,  # noqa: UP007
    no_travel: Annotated[bool, typer.Option("--no-travel", help="Skip the checks that need the road network (the plan's locations, the roster's travel times).")] = False,
    params_file: Annotated[Optional[Path], typer.Option("--params", help="TOML file of solver parameters (snap_limit_m), as given to solve.")] = None,  # noqa: UP007
    cache_dir: Annotated[Optional[Path], typer.Option(help="Cache for networks and matrices.")] = None,  # noqa: UP007
) -> None:
    """Check a plan as solve would, and a roster against it; exit 1 on any problem.

    The plan gets the same checks as in solve: its records, its road network, and
    every location within snap_limit_m of a road (solver.check_plan).
    """
    from solver.cache import default_cache_dir

    plan = _load(plan_path)
    params = _read_params(params_file)
    travel = None
    if no_travel:
        from scheduler.validate import validate_plan

        try:
            validate_plan(plan)
        except PlanError as exc:
            raise _invalid(f"plan {plan_path}", exc) from None
    else:
        travel = _check_plan(plan, network=network, params=params, cache_dir=cache_dir or default_cache_dir(),
                             hint=" (use --no-travel to skip the road network checks)")
    checked = "road network not checked" if no_travel else "road network checked"
    out.print(f"plan {plan_path}: valid ({counted(len(plan.visits), 'visit')}, "
              f"{counted(len(plan.workers), 'worker')}; {checked})", highlight=False, soft_wrap=True)
    if roster_path is None:
        return
    from scheduler.validate import check_roster

    roster = _load_roster(roster_path)
    violations = check_roster(plan, roster, travel=travel)
    if violations:
        out.print(f"roster {roster_path}: {counted(len(violations), 'violation')}", highlight=False, soft_wrap=True)
        for v in violations:
            out.print(f"  - {v}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID)
    checked = "every rule" if travel else "every rule but travel times"
    out.print(f"roster {roster_path}: valid ({checked} checked)", highlight=False, soft_wrap=True)


@app.command()
def generate(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the plan JSON (with --days: a folder, one plan-YYYY-MM-DD.json per date).")],
    network: Annotated[Optional[str], typer.Option(help="Road network file (default: the bundled Cambridge network).")] = None,  # noqa: UP007
    visits: Annotated[int, typer.Option(help="Number of visits (with --days: of the week's base day).")] = 300,
    workers: Annotated[Optional[int], typer.Option(help="Number of workers (default: as few as the demand needs with some slack; not with --days).")] = None,  # noqa: UP007
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same plan.")] = 1,
    date: Annotated[str, typer.Option(help="Plan date (with --days: the first date), YYYY-MM-DD.")] = "2026-11-24",
    days: Annotated[Optional[int], typer.Option("--days", help="Write a week of plans: this many dates from --date, the same clients' recurring care, shifts by weekday.")] = None,  # noqa: UP007
) -> None:
    """Generate a realistic day (or, with --days, a week) of visits on a road network (reproducible by seed)."""
    import datetime as dt

    from scheduler.bundled import resolve_path
    from scheduler.generate import write_week
    from scheduler.io import write_plan
    from solver.cache import default_cache_dir
    from solver.generate import generate_day, generate_week

    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise _fail(f"--date {date!r} is not YYYY-MM-DD") from None
    if days is not None and workers is not None:
        raise _fail("--workers: a week sizes its workforce from the demand; leave --workers out with --days")
    if days is None:
        _check_out_file(out_path, "--out")
    else:
        _check_out_folder(out_path, f"--out {out_path}")
    source = network or "fixtures/networks/cambridge_drive.osm"
    path = resolve_path(source)
    where = str(source) if network else source
    try:
        if days is not None:
            plans = generate_week(where, seed=seed, n_visits=visits, start=day, days=days,
                                  cache_dir=default_cache_dir(), network_file=path)
        else:
            plan = generate_day(where, seed=seed, n_visits=visits, n_workers=workers, date=day,
                                cache_dir=default_cache_dir(), network_file=path)
    except (SchedulerError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if days is not None:
        for plan, file in zip(plans, write_week(plans, out_path), strict=True):
            out.print(f"Wrote {file}: {plan.date:%a}, {counted(len(plan.visits), 'visit')}, "
                      f"{counted(len(plan.workers), 'worker')}", highlight=False)
        out.print(f"{counted(len(plans), 'plan')} in {out_path}, seed {seed}", highlight=False)
        return
    write_plan(plan, out_path)
    out.print(f"Wrote {out_path}: {counted(len(plan.visits), 'visit')}, {counted(len(plan.workers), 'worker')}, "
              f"seed {seed}", highlight=False)


@app.command("solve-week")
def solve_week(
    plan_dir: Annotated[Path, typer.Argument(help="Folder of plan-YYYY-MM-DD.json files (homecare generate --days).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for roster-YYYY-MM-DD.json and .csv, one per date.")] = Path("out/week"),
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", help="Search time limit per date (seconds; default: the --params file's time_limit_s, else 30).")] = None,  # noqa: UP007
    max_time_limit: Annotated[float, typer.Option("--max-time-limit", help="Longest search allowed per date (seconds).")] = DEFAULT_MAX_TIME_LIMIT_S,
    seed: Annotated[int, typer.Option(help="Search seed (0: plan order).")] = 0,
    params_file: Annotated[Optional[Path], typer.Option("--params", help="TOML file of solver parameters.")] = None,  # noqa: UP007
    cache_dir: Annotated[Optional[Path], typer.Option(help="Cache for networks and matrices (default ~/.cache/homecare).")] = None,  # noqa: UP007
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the cache.")] = False,
) -> None:
    """Solve each date of a week: check the plan, solve it, validate the roster, write it; one line per date.

    Each date goes through the same pipeline as solve (solver.run). Exits 1 if a
    roster breaks a rule (every date is still solved and written).
    """
    from scheduler.generate import week_roster_file
    from scheduler.io import write_roster
    from solver import run
    from solver.cache import default_cache_dir

    if not plan_dir.is_dir():
        raise _fail(f"{plan_dir}: no such folder of plans")
    files = sorted(plan_dir.glob("plan-*.json"))
    if not files:
        raise _fail(f"{plan_dir}: no plan-YYYY-MM-DD.json files; write a week with homecare generate --days 7")
    params = _solve_params(params_file, time_limit=time_limit, max_time_limit=max_time_limit, seed=seed)
    _check_out_folder(out_dir, f"--out {out_dir}")
    cache = None if no_cache else (cache_dir or default_cache_dir())
    broken = 0
    for file in files:
        plan = _load_plan(file)
        travel = _check_plan(plan, network=None, params=params, cache_dir=cache)
        try:
            result = run(plan, params=params, travel=travel)
        except PlanError as exc:
            raise _invalid(f"plan {file}", exc) from None
        except SchedulerError as exc:
            raise _fail(f"{file}: {exc}") from None
        roster, violations = result.roster, result.violations
        name = Path(week_roster_file(plan.date)).stem
        try:
            write_roster(roster, out_dir / f"{name}.json")
            write_roster(roster, out_dir / f"{name}.csv", plan=plan)
        except OSError as exc:
            raise _fail(f"--out {out_dir}: cannot write the roster ({exc.strerror or exc})") from None
        served = len(plan.visits) - len(roster.unassigned)
        state = "valid" if not violations else f"{counted(len(violations), 'violation')}"
        out.print(f"{plan.date} {plan.date:%a}: {served}/{len(plan.visits)} visits served, "
                  f"{len(roster.unassigned)} unassigned, {state}, {result.runtime_s:.1f} s "
                  f"-> {out_dir / name}.json", highlight=False)
        for v in violations:
            console.print(f"  - {v}", highlight=False, markup=False, soft_wrap=True)
        broken += bool(violations)
    out.print(f"{counted(len(files), 'date')} solved into {out_dir}" + (f"; {broken} with violations" if broken else ""),
              highlight=False)
    if broken:
        raise typer.Exit(EXIT_INVALID)


# Care-rule reports (pay, explain) and the roster service's commands (serve, keys, db);
# the solver, FastAPI, uvicorn and SQLAlchemy are imported inside those commands only.
from homecare_cli.bench import register as _register_bench  # noqa: E402
from homecare_cli.care import register as _register_care  # noqa: E402
from homecare_cli.frontdoor import register as _register_frontdoor  # noqa: E402
from homecare_cli.service import register as _register_api  # noqa: E402
from homecare_cli.view import register as _register_view  # noqa: E402

_register_care(app)
_register_bench(app)
_register_view(app)
_register_api(app)
_register_frontdoor(app)


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
