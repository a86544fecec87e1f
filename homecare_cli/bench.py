"""``homecare bench``: run benchmark instance sets against best-known solutions and peer solvers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    """Add the ``bench`` command to the ``homecare`` app."""

    @app.command()
    def bench(
        suite: Annotated[str, typer.Argument(help="solomon, homberger or mankowska")] = "solomon",
        path: Annotated[Optional[Path], typer.Argument(
            help="Instance file or folder (default: the bundled Solomon subset). The full sets are in "
                 "benchmarks-data: solomon/instances, homberger/instances, hhc/mankowska2014/instances_txt_kummer")] = None,
        time_limit: Annotated[list[float], typer.Option(
            "--time-limit", "-t", help="Seconds per instance and solver; repeat for a gap-vs-time curve")] = [10.0],  # noqa: B006
        solvers: Annotated[str, typer.Option(help="Comma-separated: ours, pyvrp, vroom")] = "ours",
        instances: Annotated[Optional[str], typer.Option(help="Only these instances (comma-separated names)")] = None,
        bks: Annotated[Optional[Path], typer.Option(help="Best-known table (default: found beside the instances)")] = None,
        out: Annotated[Path, typer.Option(help="Folder for results.csv, results.md and gap_vs_time.png")] = Path("bench-out"),
        workers: Annotated[int, typer.Option(help="Parallel searches for ours (the best is kept)")] = 2,
        seed: Annotated[int, typer.Option(help="Seed for every solver")] = 0,
    ) -> None:
        """Run an instance set; report objective, gap to best-known, vehicles and time to first feasible solution.

        Every solution is re-checked by our own checker. VRPTW uses the DIMACS
        convention (arcs truncated to one decimal, distance only); Mankowska uses
        its own objective (distance + total + maximum tardiness) / 3.
        """
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from homecare_cli.common import _fail, console, out as stdout
        from scheduler.text import counted
        from solver.bench import harness
        from solver.bench.instances import InstanceError
        from solver.bench.peers import PeerMissing, require
        from solver.params import TIME_LIMIT_CEILING_S

        if suite not in harness.SUITES:
            raise _fail(f"unknown suite {suite!r}; choose from {', '.join(harness.SUITES)}")
        chosen = [s.strip() for s in solvers.split(",") if s.strip()]
        bad = [t for t in time_limit if not (math.isfinite(t) and 0 < t <= TIME_LIMIT_CEILING_S)]
        if bad:
            raise _fail(f"--time-limit {bad[0]:g}: give a number of seconds above 0 and at most "
                        f"{TIME_LIMIT_CEILING_S:.0f} (a day)")
        try:
            for name in chosen:
                if name != "ours":
                    require(name)
            root = path or _bundled_solomon(suite)
            files = harness.list_instances(suite, root, instances.split(",") if instances else None)
            table = harness.load_bks(suite, bks or harness.find_bks(suite, root))
        except (InstanceError, PeerMissing, OSError) as exc:
            raise _fail(str(exc)) from None
        rows = []
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as progress:
            task = progress.add_task(f"{suite}: {counted(len(files), 'instance')}", total=len(files) * len(chosen) * len(time_limit))

            def on_row(row, done: int, total: int) -> None:  # noqa: ANN001 - BenchRow
                gap = f"{row.gap_pct:+.2f}%" if row.feasible else "INFEASIBLE"
                progress.update(task, completed=done,
                                description=f"{suite}: {row.instance} {row.solver} {row.time_limit_s:g}s {gap}")
                rows.append(row)

            try:
                harness.run_suite(suite, files, solvers=chosen, time_limits=time_limit, bks=table, seed=seed,
                                  workers=workers, on_row=on_row)
            except (InstanceError, PeerMissing) as exc:
                raise _fail(str(exc)) from None
            finally:
                if rows:
                    paths = harness.write_reports(rows, out, title=f"{suite} ({counted(len(files), 'instance')})")
        for s in harness.summarise(rows):
            if s["group"] == "all":
                stdout.print(f"{s['solver']:>6} {s['time_limit_s']:>5g}s: {s['feasible']}/{s['instances']} feasible, "
                             f"mean gap {s['mean_gap_pct']:.2f}%, {s['at_bks']} at best-known", highlight=False)
        stdout.print(f"Wrote {paths['csv']}, {paths['md']}, {paths['plot']}", highlight=False)
        infeasible = [r for r in rows if not r.feasible]
        if infeasible:
            raise typer.Exit(code=1)


def _bundled_solomon(suite: str) -> Path:
    from scheduler.bundled import resolve_path

    if suite != "solomon":
        raise OSError(f"no bundled {suite} instances; give the folder of the full set")
    found = resolve_path("fixtures/bench/solomon")
    if not found.is_dir():
        raise OSError("the bundled Solomon subset fixtures/bench/solomon is missing from this installation")
    return found
