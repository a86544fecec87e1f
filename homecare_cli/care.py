"""The ``pay`` and ``explain`` commands: care-rule reports on a solved roster.

:func:`register` adds them to the ``homecare`` Typer app. Both read a roster and
the plan it was solved from (the roster's ``meta.plan``, or ``--plan``); both
are reports and exit 0 once they have something to say. ``explain`` needs the
road network and reaches into :mod:`solver` inside the command only.

Exit codes follow ``homecare``'s: 1 when the roster does not belong to the plan
(unknown workers or visits, another date), 2 for other errors (a missing file,
a roster that names no plan, an unreadable network).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from homecare_cli.common import (
    EXIT_INVALID,
    _check_out_file,
    _fail,
    _load_plan,
    _load_roster,
    console,
    out,
)
from scheduler.errors import PlanError, SchedulerError
from scheduler.pay import DEFAULT_OWN_TIME_GAP_MIN
from scheduler.text import counted
from scheduler.timeutil import format_hhmm

if TYPE_CHECKING:
    from scheduler.model import Plan
    from scheduler.pay import PayReport
    from scheduler.roster import Roster

__all__ = ["register"]

#: Roster rules that mean the roster is not one of this plan's: reports would be meaningless.
_MISMATCH_RULES = ("reference", "date")
#: Columns of ``homecare pay --csv``.
PAY_CSV_COLUMNS = (
    "worker_id", "provider_id", "pay_model", "paid_time", "assumed", "visits", "working_s", "contact_s",
    "travel_s", "waiting_s", "own_time_s", "break_s", "commute_s", "paid_s", "pay", "effective_hourly",
    "minimum_wage", "below_minimum", "shortfall",
)

_PAID_LABELS = {"contact": "contact", "contact_and_travel": "contact+travel", "span": "span"}

_err = console


def _out() -> Console:
    """Return the stdout console (wide when piped, so tables are not squeezed into 80 columns)."""
    return out


def _hm(seconds: int) -> str:
    """Format a duration as ``H:MM``."""
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _load_pair(roster_path: Path, plan_path: Path | None, *,
               fallback: Path | None = None) -> tuple[Plan, Roster]:
    """Read the roster and its plan, and check they match.

    The plan is ``--plan``, else the roster's ``meta.plan`` if that file exists, else ``fallback``.
    """
    from scheduler.validate import check_roster

    roster = _load_roster(roster_path)
    if plan_path is None:
        named = roster.meta.get("plan")
        if (not named or not Path(named).exists()) and fallback is not None:
            named = fallback
        if not named:
            raise _fail(f"roster {roster_path} does not name the plan it was solved from; pass --plan PLAN")
        plan_path = Path(named)
        if not plan_path.exists():
            raise _fail(f"roster {roster_path} was solved from {plan_path}, which is missing; pass --plan PLAN")
    plan = _load_plan(plan_path)
    violations = check_roster(plan, roster)
    mismatch = [v for v in violations if v.rule in _MISMATCH_RULES]
    if mismatch:
        _err.print(f"[bold red]roster {roster_path} does not belong to plan {plan_path}[/]:", highlight=False)
        for v in mismatch[:10]:
            _err.print(f"  - {v}", highlight=False, markup=False)
        raise typer.Exit(EXIT_INVALID)
    if violations:
        _err.print(f"[yellow]warning:[/] the roster breaks {counted(len(violations), 'rule')} of the plan "
                   f"(first: {violations[0]}); run homecare validate for all", highlight=False)
    return plan, roster


# --------------------------------------------------------------------------- pay

def _pay_table(report: PayReport) -> Table:
    table = Table(title=f"Pay against the minimum wage (£{report.minimum_wage:.2f}/h); times in h:mm",
                  caption="own: waits that are the worker's own time (long gaps, split-shift breaks); "
                          "short: £ to reach the minimum")
    for col, justify in [("worker", "left"), ("pay model", "left"), ("visits", "right"), ("working", "right"),
                         ("contact", "right"), ("travel", "right"), ("waiting", "right"), ("own", "right"),
                         ("break", "right"), ("paid", "right"), ("pay £", "right"), ("£/h", "right"),
                         ("short £", "right")]:
        table.add_column(col, justify=justify, no_wrap=col == "pay model")
    for w in report.workers:
        m = w.pay_model
        model = (f"£{m.per_visit_rate:.2f}/visit" if m.model == "per_visit"
                 else f"£{m.hourly_rate:.2f}/h {_PAID_LABELS[m.paid_time]}")
        if w.assumed:
            model += "*"
        table.add_row(w.worker_id, model, str(w.visits), _hm(w.working_s), _hm(w.contact_s),
                      _hm(w.travel_s), _hm(w.waiting_s), _hm(w.own_time_s), _hm(w.break_s), _hm(w.paid_s),
                      f"{w.pay:.2f}", f"{w.effective_hourly:.2f}", f"{w.shortfall:.2f}" if w.below_minimum else "-",
                      style="bold red" if w.below_minimum else None)
    return table


def _pay_rows(report: PayReport) -> list[dict[str, Any]]:
    rows = []
    for w in report.workers:
        rows.append({
            "worker_id": w.worker_id, "provider_id": w.provider_id, "pay_model": w.pay_model.model,
            "paid_time": w.pay_model.paid_time if w.pay_model.model == "hourly" else "visits",
            "assumed": w.assumed, "visits": w.visits, "working_s": w.working_s, "contact_s": w.contact_s,
            "travel_s": w.travel_s, "waiting_s": w.waiting_s, "own_time_s": w.own_time_s,
            "break_s": w.break_s, "commute_s": w.commute_s, "paid_s": w.paid_s, "pay": f"{w.pay:.2f}",
            "effective_hourly": f"{w.effective_hourly:.2f}", "minimum_wage": f"{report.minimum_wage:.2f}",
            "below_minimum": w.below_minimum, "shortfall": f"{w.shortfall:.2f}",
        })
    return rows


def pay(
    roster_path: Annotated[Path, typer.Argument(metavar="ROSTER", help="Roster JSON written by homecare solve.")],
    plan_path: Annotated[Optional[Path], typer.Option("--plan", help="The plan the roster serves (default: the roster's meta.plan).")] = None,  # noqa: UP007
    minimum_wage: Annotated[Optional[float], typer.Option("--minimum-wage", help="Minimum hourly rate, £ (default: the plan's minimum_wage.hourly_rate, the rate the search held it to; else the National Living Wage, 21+, from April 2026).")] = None,  # noqa: UP007
    csv_path: Annotated[Optional[Path], typer.Option("--csv", help="Also write one row per worker to this CSV file ('-': standard output).")] = None,  # noqa: UP007
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Also write the report as JSON to this file ('-': standard output).")] = None,  # noqa: UP007
    hourly_rate: Annotated[Optional[float], typer.Option("--hourly-rate", help="Default pay, £ per paid hour, for providers with no pay model.")] = None,  # noqa: UP007
    per_visit_rate: Annotated[Optional[float], typer.Option("--per-visit-rate", help="Default pay, £ per visit, for providers with no pay model.")] = None,  # noqa: UP007
    paid_time: Annotated[str, typer.Option("--paid-time", help="What --hourly-rate pays: contact, contact_and_travel or span.")] = "contact_and_travel",
    own_time_gap: Annotated[int, typer.Option("--own-time-gap", help="A wait between visits this long (minutes) or longer is the worker's own time, not working time.")] = DEFAULT_OWN_TIME_GAP_MIN,
    count_all_waits: Annotated[bool, typer.Option("--count-all-waits", help="Count every wait between visits as working time (no own-time threshold).")] = False,
) -> None:
    """Check each worker's pay for the day against the minimum wage.

    Working time (visits, travel and waiting between visits) is set against paid
    time under the provider's pay model. The commute from home to the first visit
    and back is not working time; nor are rest breaks, split-shift breaks or waits
    of --own-time-gap minutes or more. Workers paid below the minimum wage are
    shown in red. Always exits 0: it is a report.
    """
    from scheduler.model import PayModel
    from scheduler.pay import pay_report

    if hourly_rate is not None and per_visit_rate is not None:
        raise _fail("give --hourly-rate or --per-visit-rate, not both")
    _check_out_file(csv_path, "--csv")
    _check_out_file(json_path, "--json")
    try:
        default = (PayModel("hourly", hourly_rate=hourly_rate, paid_time=paid_time) if hourly_rate is not None
                   else PayModel("per_visit", per_visit_rate=per_visit_rate) if per_visit_rate is not None
                   else None)
    except PlanError as exc:
        raise _fail("; ".join(p.message for p in exc.problems)) from None
    plan, roster = _load_pair(roster_path, plan_path)
    try:
        report = pay_report(plan, roster, minimum_wage=minimum_wage, default_pay=default,
                            own_time_gap_min=None if count_all_waits else own_time_gap)
    except SchedulerError as exc:
        raise _fail(str(exc)) from None
    to_stdout = "-" in (str(csv_path), str(json_path))
    out = _out()
    if not to_stdout:
        if report.workers:
            out.print(_pay_table(report))
        if any(w.assumed for w in report.workers):
            out.print("* default pay model (--hourly-rate or --per-visit-rate): the provider has none", highlight=False)
        for note in report.notes():
            out.print(f"[yellow]note:[/] {note}", highlight=False)
        gap = "every wait counts" if report.own_time_gap_min is None else \
            f"waits of {report.own_time_gap_min} min or more and split-shift breaks are own time"
        out.print(f"Working time: visits, travel and waiting between visits ({gap}); rest breaks and commutes "
                  "from home left out.", highlight=False)
        out.print(report.summary(), highlight=False)
    if csv_path is not None:
        _write_csv(_pay_rows(report), csv_path)
    if json_path is not None:
        text = json.dumps(report.to_dict(), indent=1)
        if str(json_path) == "-":
            typer.echo(text)
        else:
            Path(json_path).write_text(text + "\n", encoding="utf-8")
    if not to_stdout and (csv_path or json_path):
        out.print(f"Wrote {', '.join(str(p) for p in (csv_path, json_path) if p)}", highlight=False)


def _write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    if str(path) == "-":
        import io

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=PAY_CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        typer.echo(buffer.getvalue(), nl=False)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=PAY_CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


# --------------------------------------------------------------------------- explain

def explain(
    roster_path: Annotated[Path, typer.Argument(metavar="ROSTER", help="Roster JSON written by homecare solve.")],
    visit_id: Annotated[str, typer.Argument(metavar="VISIT_ID", help="The visit to explain.")],
    plan_path: Annotated[Optional[Path], typer.Option("--plan", help="The plan the roster serves (default: the roster's meta.plan).")] = None,  # noqa: UP007
    network: Annotated[Optional[str], typer.Option(help="Road network instead of the plan's.")] = None,  # noqa: UP007
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as JSON.")] = False,
    cache_dir: Annotated[Optional[Path], typer.Option(help="Cache for networks and matrices (default ~/.cache/homecare).")] = None,  # noqa: UP007
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the cache.")] = False,
) -> None:
    """Say why a visit went to its worker, and what the next-best alternative would cost.

    For every other worker of the visit's provider or kind: the cheapest place in
    their day as it stands (other stops keep their times) and its extra travel,
    or why there is none (not eligible: which rule; no room in their day).
    """
    from solver import network_for, travel_for
    from solver.cache import default_cache_dir
    from solver.why import explain_choice

    plan, roster = _load_pair(roster_path, plan_path)
    if not plan.has_visit(visit_id):
        raise _fail(f"visit {visit_id!r} is not in the plan")
    cache = None if no_cache else (cache_dir or default_cache_dir())
    try:
        travel = travel_for(plan, network_for(plan, network, cache_dir=cache), cache_dir=cache)
        explanation = explain_choice(plan, roster, visit_id, travel)
    except KeyError as exc:
        raise _fail(str(exc.args[0])) from None
    except PlanError as exc:
        raise _fail("; ".join(str(p) for p in exc.problems)) from None
    except SchedulerError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(explanation.to_dict(), indent=1))
        return
    out = _out()
    for line in explanation.summary():
        out.print(line, highlight=False)
    if not explanation.options:
        return
    table = Table(title=f"Workers who could serve {visit_id}")
    for col, justify in [("worker", "left"), ("status", "left"), ("start", "left"), ("where", "left"),
                         ("travel", "right"), ("continuity", "left"), ("why not", "left")]:
        table.add_column(col, justify=justify)
    styles = {"serving": "bold green", "can_take": "green", "no_room": "yellow", "not_eligible": "dim"}
    rows = [("serving", p, None) for p in explanation.serving]
    rows += [(o.status, o.place, o) for o in explanation.options]
    regulars = {h.worker_id for h in plan.history if h.client_id == explanation.visit.client_id}
    preferred = set(plan.client(explanation.visit.client_id).preferred_worker_ids)
    for status, place, option in rows:
        wid = place.worker_id if place else option.worker_id
        continuity = ", ".join(x for x, ok in (("regular", wid in regulars), ("preferred", wid in preferred)) if ok)
        table.add_row(wid, status.replace("_", " "), format_hhmm(place.start) if place else "",
                      place.where() if place else "",
                      f"{'+' if status == 'can_take' else ''}{place.travel_s / 60:.1f} min" if place else "",
                      continuity, option.reason if option else "", style=styles[status])
    out.print(table)
    if explanation.other_workers:
        out.print(f"({counted(explanation.other_workers, 'worker')} of other providers not listed)", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``pay`` and ``explain`` commands to a Typer app (``homecare``).

    Parameters
    ----------
    app
        The application to extend.
    """
    app.command("pay")(pay)
    app.command("explain")(explain)
