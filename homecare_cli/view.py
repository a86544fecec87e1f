"""The ``map`` and ``ics`` commands: look at a solved roster as a route map or a worker's calendar.

:func:`register` adds them to the ``homecare`` Typer app. Both read a roster and
the plan it was solved from (``--plan``, else the roster's ``meta.plan``, else
the bundled Cambridge weekday). ``map`` needs the road network and reaches into
:mod:`solver` inside the command only.

Exit codes follow ``homecare``'s: 1 when the roster does not belong to the plan,
2 for other errors (a missing file, an unknown worker, an unreadable network).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from homecare_cli.care import _load_pair
from homecare_cli.common import _check_out_file, _fail, out
from scheduler.bundled import default_plan
from scheduler.errors import SchedulerError
from scheduler.text import counted

__all__ = ["register"]


def _bundled() -> Path | None:
    try:
        return default_plan()
    except FileNotFoundError:
        return None


def draw_map(
    roster_path: Annotated[Path, typer.Argument(metavar="ROSTER", help="Roster JSON written by homecare solve.")],
    out_path: Annotated[Path, typer.Option("--out", help="Image to write: .png, or .svg (one group per worker's route).")] = Path("map.png"),
    plan_path: Annotated[Optional[Path], typer.Option("--plan", help="The plan the roster serves (default: the roster's meta.plan, else the bundled Cambridge weekday).")] = None,  # noqa: UP007
    worker_ids: Annotated[Optional[list[str]], typer.Option("--worker", help="Draw only this worker's routes (repeat for more).")] = None,  # noqa: UP007
    network: Annotated[Optional[str], typer.Option(help="Road network instead of the plan's.")] = None,  # noqa: UP007
    width: Annotated[int, typer.Option(min=400, max=8000, help="Image width (pixels).")] = 1600,
    height: Annotated[int, typer.Option(min=300, max=8000, help="Image height (pixels).")] = 1200,
    cache_dir: Annotated[Optional[Path], typer.Option(help="Cache for networks (default ~/.cache/homecare).")] = None,  # noqa: UP007
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the cache.")] = False,
) -> None:
    """Draw each worker's routes over the road network as a PNG or SVG map.

    Roads in light grey, one colour per worker, stops as dots, starts and ends
    as squares, unassigned visits as red crosses, a legend, and the map data
    attribution (© OpenStreetMap contributors, ODbL).
    """
    from solver import network_for
    from solver.cache import default_cache_dir
    from solver.plot import draw_roster, save_figure

    if out_path.suffix.lower() not in (".png", ".svg"):
        raise _fail(f"--out {out_path}: give a .png or .svg file")
    _check_out_file(out_path, "--out")
    t0 = time.perf_counter()
    plan, roster = _load_pair(roster_path, plan_path, fallback=_bundled())
    cache = None if no_cache else (cache_dir or default_cache_dir())
    try:
        road = network_for(plan, network, cache_dir=cache)
        fig = draw_roster(plan, roster, road, worker_ids=worker_ids, size_px=(width, height))
        save_figure(fig, out_path)
    except SchedulerError as exc:
        raise _fail(str(exc)) from None
    routed = {r.worker_id: len(r.stops) for r in roster.routes if r.stops}
    for wid in worker_ids or ():
        if not routed.get(wid):
            out.print(f"note: worker {wid} has no visits in this roster", highlight=False)
    drawn = [w for w in routed if worker_ids is None or w in worker_ids]
    routes = counted(len(drawn), "worker's route", "workers' routes")
    out.print(f"Wrote {out_path} ({width}x{height}): {routes}, "
              f"{counted(sum(routed[w] for w in drawn), 'stop')}, {len(roster.unassigned)} unassigned, "
              f"in {time.perf_counter() - t0:.1f} s", highlight=False)


def ics(
    roster_path: Annotated[Path, typer.Argument(metavar="ROSTER", help="Roster JSON written by homecare solve.")],
    worker_id: Annotated[str, typer.Option("--worker", help="The worker whose day to export.")],
    plan_path: Annotated[Optional[Path], typer.Option("--plan", help="The plan the roster serves (default: the roster's meta.plan, else the bundled Cambridge weekday).")] = None,  # noqa: UP007
    out_path: Annotated[Optional[Path], typer.Option("--out", help="Calendar file to write (default: WORKER-DATE.ics).")] = None,  # noqa: UP007
) -> None:
    """Write a worker's day as an iCalendar file: one event per visit and per rest break.

    Times are UTC, converted from the roster's Europe/London times; importing the
    file again after a re-plan updates the same events.
    """
    from scheduler.ics import worker_calendar

    plan, roster = _load_pair(roster_path, plan_path, fallback=_bundled())
    try:
        data = worker_calendar(plan, roster, worker_id)
    except SchedulerError as exc:
        raise _fail(str(exc)) from None
    path = out_path or Path(f"{worker_id}-{roster.date.isoformat()}.ics")
    _check_out_file(path, "--out")
    path.write_bytes(data)
    route = roster.route(worker_id)
    visits = len(route.stops) if route else 0
    if not visits:
        out.print(f"note: worker {worker_id} has no visits in this roster: the calendar has no "
                  "events", highlight=False)
    breaks = len(route.breaks) if route else 0
    out.print(f"Wrote {path}: {worker_id}'s {counted(visits, 'visit')} and {counted(breaks, 'break')} on "
              f"{roster.date.isoformat()}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``map`` and ``ics`` commands to a Typer app (``homecare``).

    Parameters
    ----------
    app
        The application to extend.
    """
    app.command("map")(draw_map)
    app.command("ics")(ics)
