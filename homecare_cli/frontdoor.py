"""The front door on files: ``offer``, ``book`` and ``cancel`` against published plans and rosters.

:func:`register` adds the commands to the ``homecare`` Typer app. Each reads
one or more (``--plan``, ``--roster``) pairs, a date each, computes their travel
over the plan's road network (cached) and calls :mod:`solver.offers`, the
functions the roster service's routes call too. Exit codes follow
``homecare``'s: 1 for an invalid request or plan, or a stale offer; 2 for other
errors (a missing file, an unreadable network).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.table import Table

from homecare_cli.common import (
    EXIT_INVALID,
    _check_out_folder,
    _fail,
    _invalid,
    _load_plan,
    _load_roster,
    console,
    out,
)
from homecare_cli.publish import publish_week_command
from scheduler.errors import PlanError, SchedulerError
from scheduler.text import counted
from scheduler.timeutil import format_hhmm

if TYPE_CHECKING:
    from scheduler.offers import OfferRequest, Quote
    from solver.offers import Published

__all__ = ["register"]

PlanOpt = Annotated[list[Path], typer.Option("--plan", help="A published plan (JSON); repeat with --roster, one pair per date.")]
RosterOpt = Annotated[list[Path], typer.Option("--roster", help="The published roster of the --plan given at the same place.")]
RequestArg = Annotated[Path, typer.Argument(metavar="REQUEST", help="The request (JSON, docs/frontdoor.md).")]
NetworkOpt = Annotated[Optional[str], typer.Option(help="Road network instead of the plans'.")]  # noqa: UP007
CacheOpt = Annotated[Optional[Path], typer.Option(help="Cache for networks and matrices (default ~/.cache/homecare).")]  # noqa: UP007


def _days(plans: list[Path], rosters: list[Path], network: str | None, cache_dir: Path | None
          ) -> tuple[list[Published], Any]:
    """Read each (plan, roster) pair, check they match, and compute the plans' travel; also the road network."""
    from scheduler.validate import check_roster
    from solver import check_plan, network_for
    from solver.cache import default_cache_dir
    from solver.offers import Published

    if len(plans) != len(rosters) or not plans:
        raise _fail(f"give one --roster per --plan (got {len(plans)} --plan, {len(rosters)} --roster)")
    cache = cache_dir or default_cache_dir()
    days, road = [], None
    for plan_path, roster_path in zip(plans, rosters, strict=True):
        plan = _load_plan(plan_path)
        roster = _load_roster(roster_path)
        if roster.date != plan.date:
            raise _fail(f"roster {roster_path} is for {roster.date}, plan {plan_path} for {plan.date}")
        try:
            road = road if road is not None and network is None else network_for(plan, network, cache_dir=cache)
            travel = check_plan(plan, network=road, cache_dir=cache)
        except PlanError as exc:
            raise _invalid(f"plan {plan_path}", exc) from None
        except SchedulerError as exc:
            raise _fail(str(exc)) from None
        broken = check_roster(plan, roster, travel=travel)
        if broken:
            raise _fail(f"roster {roster_path} breaks {counted(len(broken), 'rule')} of plan {plan_path} (first: "
                        f"{broken[0]}); publish a valid roster first")
        days.append(Published(plan, roster, travel))
    dates = [d.date for d in days]
    if len(set(dates)) != len(dates):
        raise _fail("two --plan files are for the same date; give one per date")
    return days, road


def _request(path: Path, days: list[Published]) -> OfferRequest:
    from scheduler.offers import request_from_dict

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(f"no request at {path}") from None
    except (OSError, ValueError) as exc:
        raise _fail(f"request {path} is not readable JSON ({exc})") from None
    try:
        return request_from_dict(data, dates=[d.date for d in days])
    except PlanError as exc:
        raise _invalid(f"request {path}", exc) from None


def _quote(request: OfferRequest, days: list[Published], road: Any, where: str) -> Quote:
    from solver.offers import quote

    try:
        return quote(request, days, network=road)
    except PlanError as exc:
        raise _invalid(where, exc) from None
    except SchedulerError as exc:
        raise _fail(str(exc)) from None


def _table(q: Quote) -> list[Table]:
    """One table per date: the offers of that date in rank order, numbered as ``book --offer`` takes them."""
    tables: dict[Any, Table] = {}
    for n, o in enumerate(q.offers, 1):
        table = tables.get(o.date)
        if table is None:
            table = tables[o.date] = Table(title=f"{o.date:%A %d %B %Y}" + (
                f" (and {len(o.slots) - 1} more dates)" if len(o.slots) > 1 else ""))
            for col, justify in [("offer", "right"), ("slot", "left"), ("", "left"), ("extra travel", "right"),
                                 ("extra cost £", "right"), ("known worker", "left"), ("provider", "left")]:
                table.add_column(col, justify=justify)
        table.add_row(str(n), f"{format_hhmm(o.window_start)}-{format_hhmm(o.window_end)}",
                      "[green]green[/]" if o.green else "", f"{o.extra_travel_s / 60:.1f} min",
                      f"{o.extra_cost:.2f}", "yes" if o.known_worker else "", o.provider_id)
    return [tables[d] for d in sorted(tables)]


def offer(
    request_path: RequestArg,
    plans: PlanOpt,
    rosters: RosterOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print the quote as JSON (offers with their slots and workers).")] = False,
    network: NetworkOpt = None,
    cache_dir: CacheOpt = None,
) -> None:
    """Quote slots for a request: every start window the published rosters have room for, ranked, green marked.

    Offers are numbered in rank order (green first, then least added travel, then
    the earliest); give the number to ``homecare book --offer``. When nobody can
    come, says why in the resident's words and exits 1.
    """
    days, road = _days(plans, rosters, network, cache_dir)
    request = _request(request_path, days)
    q = _quote(request, days, road, f"request {request_path}")
    if as_json:
        out.print_json(json.dumps(q.to_dict()))
    else:
        for table in _table(q):
            out.print(table)
        if q.offers:
            greens = sum(o.green for o in q.offers)
            out.print(f"{counted(len(q.offers), 'offer')}, {greens} green (little added travel: near visits "
                      "already planned)", highlight=False)
    if not q.offers:
        console.print(f"no offer: {q.reason}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID)


def _write(days: list[Published], out_dir: Path) -> list[Path]:
    """Write each day's plan and roster (``plan.json``, ``roster.json``; a folder per date for several)."""
    import dataclasses

    from scheduler.bundled import resolve_path
    from scheduler.io import write_plan, write_roster

    written = []
    for day in days:
        folder = out_dir if len(days) == 1 else out_dir / day.date.isoformat()
        plan = day.plan
        if plan.network:  # keep the network reachable from the new folder
            plan = dataclasses.replace(plan, network=str(resolve_path(plan.network, near=plan.source).resolve()))
        plan_path = write_plan(plan, folder / "plan.json")
        roster = dataclasses.replace(day.roster, meta={**day.roster.meta, "plan": str(plan_path.resolve())})
        written += [plan_path, write_roster(roster, folder / "roster.json")]
    return written


def book_offer(
    request_path: RequestArg,
    plans: PlanOpt,
    rosters: RosterOpt,
    number: Annotated[int, typer.Option("--offer", min=1, help="The offer's number, as homecare offer printed it.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the new plan.json and roster.json.")],
    quoted: Annotated[Optional[Path], typer.Option("--quoted", help="The quote the number refers to (homecare offer --json): the offer is re-checked against the rosters as they are now.")] = None,  # noqa: UP007
    network: NetworkOpt = None,
    cache_dir: CacheOpt = None,
) -> None:
    """Book an offer: add the visit to the plan and insert it in the roster exactly where it was quoted.

    Without --quoted the request is quoted now and offer --offer of that quote is
    booked. With --quoted, the offer as quoted then is re-checked: if the roster
    changed so that it no longer holds, nothing is booked, fresh offers are
    printed and the exit code is 1.
    """
    from scheduler.offers import Offer
    from solver.offers import book

    _check_out_folder(out_dir, f"--out {out_dir}")
    days, road = _days(plans, rosters, network, cache_dir)
    request = _request(request_path, days)
    if quoted is not None:
        try:
            listed = json.loads(quoted.read_text(encoding="utf-8"))["offers"]
            chosen = Offer.from_dict(listed[number - 1])
        except FileNotFoundError:
            raise _fail(f"no quote at {quoted}") from None
        except IndexError:
            raise _fail(f"--offer {number}: the quote {quoted} has {len(listed)} offers") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise _fail(f"--quoted {quoted} is not a quote written by homecare offer --json ({exc})") from None
    else:
        q = _quote(request, days, road, f"request {request_path}")
        if not q.offers:
            raise _fail(f"no offer to book: {q.reason}", EXIT_INVALID)
        if number > len(q.offers):
            raise _fail(f"--offer {number}: there are {counted(len(q.offers), 'offer')}")
        chosen = q.offers[number - 1]
    try:
        booking = book(request, chosen, days, network=road)
    except PlanError as exc:
        raise _invalid(f"request {request_path}", exc) from None
    except SchedulerError as exc:
        raise _fail(str(exc)) from None
    if booking.stale:
        console.print("[bold red]stale offer[/]: the roster changed since it was quoted; nothing was booked. "
                      "Fresh offers:", highlight=False, soft_wrap=True)
        fresh = booking.fresh
        if fresh is not None and fresh.offers:
            for table in _table(fresh):
                out.print(table)
        elif fresh is not None:
            console.print(f"no offer: {fresh.reason}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID)
    try:
        # An installation also changes the later dates' plans (the item is in place there).
        written = _write([*booking.days, *booking.later], out_dir)
    except OSError as exc:
        raise _fail(f"--out {out_dir}: cannot write ({exc.strerror or exc})") from None
    for slot, vid in zip(chosen.slots, booking.visit_ids, strict=True):
        out.print(f"Booked {vid} for client {booking.client_id} on {slot.date}: slot "
                  f"{format_hhmm(slot.window_start)}-{format_hhmm(slot.window_end)}, starting {format_hhmm(slot.start)} "
                  f"({slot.provider_id})", highlight=False)
    out.print("Wrote " + ", ".join(str(p) for p in written), highlight=False, soft_wrap=True)


def cancel_visit(
    visit_id: Annotated[str, typer.Argument(metavar="VISIT", help="The visit to cancel (e.g. booked-1).")],
    plans: PlanOpt,
    rosters: RosterOpt,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the new plan.json and roster.json.")],
    network: NetworkOpt = None,
    cache_dir: CacheOpt = None,
) -> None:
    """Cancel a visit: take it out of the plan and the roster; every other stop stays as it was."""
    from solver.offers import cancel

    _check_out_folder(out_dir, f"--out {out_dir}")
    days, _ = _days(plans, rosters, network, cache_dir)
    if len(days) != 1:
        raise _fail("cancel works on one --plan and --roster")
    try:
        day = cancel(visit_id, days[0])
    except PlanError as exc:
        raise _fail(str(exc.problems[0])) from None
    written = _write([day], out_dir)
    out.print(f"Cancelled {visit_id} on {day.date}. Wrote " + ", ".join(str(p) for p in written), highlight=False,
              soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``offer``, ``book``, ``cancel`` and ``publish-week`` commands to a Typer app (``homecare``).

    Parameters
    ----------
    app
        The application to extend.
    """
    app.command("offer")(offer)
    app.command("book")(book_offer)
    app.command("cancel")(cancel_visit)
    app.command("publish-week")(publish_week_command)
