"""``homecare publish-week``: send a week solved on files to the roster service and publish it.

:func:`publish_week` does the work over an HTTP client (``httpx.Client`` with the
service's base URL and a coordinator's key), so that a benchmark or a script can
call it; the command wraps it with a progress bar and one line per date.

For each date (``plan-YYYY-MM-DD.json`` of the plans folder and
``roster-YYYY-MM-DD.json`` of the rosters folder, as ``homecare generate --days``
and ``homecare solve-week`` write them) it submits the plan (``POST /plans``),
stores the roster for it (``POST /plans/{id}/rosters``: the service checks it on
every rule with its own travel) and publishes it (``POST /rosters/{id}/publish``).

Re-running is safe: a date whose published roster is this roster already (or a
roster made from it by front-door bookings and cancellations) is left as it is
(``unchanged``), so bookings made since are kept and nothing is submitted twice. A
date where another roster is published (a coordinator's solve, another week) is
refused unless ``replace`` is given, since publishing would take that roster's
bookings away from its providers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from homecare_cli.common import EXIT_INVALID, _fail, console, out
from scheduler.text import counted

if TYPE_CHECKING:
    import httpx

    from scheduler.roster import Roster

__all__ = ["DayPublished", "PublishError", "publish_week", "publish_week_command"]

_PLAN = re.compile(r"plan-(\d{4}-\d{2}-\d{2})\.json")


class PublishError(Exception):
    """The week cannot be published at all: the service does not answer, or refuses the key."""


@dataclasses.dataclass(frozen=True, slots=True)
class DayPublished:
    """What publishing one date did.

    ``state``: ``published`` (``roster_id`` now published for ``providers``),
    ``unchanged`` (this roster, or one bookings made from it, is published already),
    ``refused`` (another roster is published; ``replace`` publishes this one) or
    ``invalid`` (a file or the service's checks refused it: ``problems``).
    """

    date: dt.date
    state: str
    message: str
    roster_id: str | None = None
    providers: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the date's roster is published now (anew or already)."""
        return self.state in ("published", "unchanged")


def week_files(plans_dir: Path, rosters_dir: Path) -> list[tuple[dt.date, Path, Path]]:
    """Return (date, plan file, roster file) of each ``plan-YYYY-MM-DD.json`` of ``plans_dir``, by date.

    Raises
    ------
    PublishError
        A folder is missing, or holds no plans.
    """
    from scheduler.generate import week_roster_file

    for folder, what in ((plans_dir, "plans"), (rosters_dir, "rosters")):
        if not folder.is_dir():
            raise PublishError(f"{folder}: no such folder of {what}")
    found = []
    for file in sorted(plans_dir.glob("plan-*.json")):
        match = _PLAN.fullmatch(file.name)
        if match is None:
            continue
        try:
            date = dt.date.fromisoformat(match.group(1))
        except ValueError:
            continue
        found.append((date, file, rosters_dir / week_roster_file(date)))
    if not found:
        raise PublishError(f"{plans_dir}: no plan-YYYY-MM-DD.json files; write a week with homecare generate --days 7")
    return found


def publish_week(client: httpx.Client, plans_dir: Path, rosters_dir: Path, *, replace: bool = False,
                 on_date: Callable[[DayPublished], None] | None = None) -> list[DayPublished]:
    """Submit, store and publish each date's plan and roster of a solved week; see the module's docstring.

    Parameters
    ----------
    client
        An HTTP client with the service's ``base_url`` and a coordinator's key (``X-API-Key``).
    plans_dir
        The folder of ``plan-YYYY-MM-DD.json`` files.
    rosters_dir
        The folder of ``roster-YYYY-MM-DD.json`` files (``homecare solve-week --out``).
    replace
        Publish a date's roster even where another roster is published for it.
    on_date
        Called with each date's result as soon as it is known.

    Returns
    -------
    list[DayPublished]
        One per date, in date order. A date whose files or roster are refused does
        not stop the others.

    Raises
    ------
    PublishError
        The service does not answer, refuses the key (401) or its role (403), or
        answers something unexpected.
    """
    done = []
    for date, plan_file, roster_file in week_files(plans_dir, rosters_dir):
        result = _publish_date(client, date, plan_file, roster_file, replace=replace)
        done.append(result)
        if on_date is not None:
            on_date(result)
    return done


def _publish_date(client: httpx.Client, date: dt.date, plan_file: Path, roster_file: Path, *,
                  replace: bool) -> DayPublished:
    from scheduler.errors import PlanError
    from scheduler.io import roster_from_dict

    plan_data, problem = _read_json(plan_file)
    if problem is None:
        roster_data, problem = _read_json(roster_file)
    if problem is not None:
        return DayPublished(date, "invalid", problem, problems=(problem,))
    try:
        mine = roster_from_dict(roster_data)
    except PlanError as exc:
        return _invalid(date, roster_file, [str(p) for p in exc.problems])
    published, rosters = _published(client, date)
    ours, others = [], []
    for summary in published:
        origin = _origin(summary, rosters)
        (ours if origin is not None and _same(client, origin, mine) else others).append(summary)
    if published and not others:
        changed = [r["id"] for r in ours if r["purpose"] != "import"]
        return DayPublished(date, "unchanged", f"this roster is published already ({_roster_list(ours)})"
                            + (f", with front-door bookings since in {', '.join(changed)}" if changed else ""),
                            roster_id=ours[0]["id"], providers=_providers(ours))
    if others and not replace:
        return DayPublished(date, "refused", f"another roster is published ({_roster_list(others)}); "
                            "--replace publishes this one instead (that roster's bookings leave the published day)")
    answer = _call(client, "POST", "/plans", json=plan_data)
    if answer.status_code == 422:
        return _invalid(date, plan_file, _problems(answer))
    plan_id = _expect(answer, 201)["id"]
    answer = _call(client, "POST", f"/plans/{plan_id}/rosters", json=roster_data)
    if answer.status_code == 422:
        return _invalid(date, roster_file, _problems(answer))
    roster_id = _expect(answer, 201)["id"]
    summary = _expect(_call(client, "POST", f"/rosters/{roster_id}/publish", json={}), 200)
    providers = tuple(summary["published_for"])
    return DayPublished(date, "published", f"{roster_id} for {', '.join(providers)}",
                        roster_id=roster_id, providers=providers)


def _read_json(path: Path) -> tuple[Any, str | None]:
    try:
        return json.loads(path.read_text(encoding="utf-8")), None
    except FileNotFoundError:
        hint = " (solve the week first: homecare solve-week)" if path.name.startswith("roster-") else ""
        return None, f"{path}: no such file{hint}"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{path}: not readable JSON ({exc})"


def _invalid(date: dt.date, path: Path, problems: list[str]) -> DayPublished:
    return DayPublished(date, "invalid", f"{path}: refused, {counted(len(problems), 'problem')}: {problems[0]}",
                        problems=tuple(problems))


def _published(client: httpx.Client, date: dt.date) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Return the date's published rosters (summaries), and every roster of the date by id."""
    rows: list[dict[str, Any]] = []
    while True:
        page = _expect(_call(client, "GET", "/rosters", params={"date": date.isoformat(), "limit": 1000,
                                                                "offset": len(rows)}), 200)
        rows += page["data"]
        if not page["data"] or len(rows) >= page["count"]:
            break
    return [r for r in rows if r["state"] == "published"], {r["id"]: r for r in rows}


def _origin(summary: dict[str, Any], rosters: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Return the imported roster a published one was made from by bookings and cancellations (itself if imported)."""
    seen = set()
    while summary is not None and summary["id"] not in seen:
        seen.add(summary["id"])
        if summary["purpose"] == "import":
            return summary
        if summary["purpose"] != "frontdoor" or summary["previous_roster_id"] is None:
            return None
        summary = rosters.get(summary["previous_roster_id"])
    return None


def _same(client: httpx.Client, summary: dict[str, Any], mine: Roster) -> bool:
    """Whether a stored roster has the same routes and unassigned visits as ``mine``."""
    from scheduler.io import roster_from_dict

    theirs = roster_from_dict(_expect(_call(client, "GET", f"/rosters/{summary['id']}"), 200)["roster"])
    return theirs.routes == mine.routes and theirs.unassigned == mine.unassigned


def _roster_list(rows: Iterable[dict[str, Any]]) -> str:
    return "; ".join(f"{r['id']} for {', '.join(r['published_for'])}" for r in rows)


def _providers(rows: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(sorted({p for r in rows for p in r["published_for"]}))


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Send a request; a service that does not answer or refuses the key is a :class:`PublishError`."""
    import httpx

    try:
        answer = client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise PublishError(f"cannot reach the roster service at {client.base_url} ({exc.__class__.__name__}: "
                           f"{exc or 'no answer'}); is `homecare serve` running there?") from None
    if answer.status_code == 401:
        raise PublishError(f"the service refused the key (401: {_detail(answer)}); give a coordinator's key with "
                           "--key (homecare keys create --role coordinator)")
    if answer.status_code == 403:
        raise PublishError(f"the key may not {method} {path} (403: {_detail(answer)}); publishing a week needs a "
                           "coordinator's key")
    return answer


def _expect(answer: httpx.Response, status: int) -> Any:
    if answer.status_code != status:
        raise PublishError(f"{answer.request.method} {answer.request.url.path} answered {answer.status_code}: "
                           f"{_detail(answer)}")
    return answer.json()


def _detail(answer: httpx.Response) -> str:
    try:
        detail = answer.json().get("detail", answer.text)
    except (ValueError, AttributeError):
        detail = answer.text
    return str(detail)[:300]


def _problems(answer: httpx.Response) -> list[str]:
    """Return the problems of a 422 answer, one line each (record, id, message)."""
    detail = answer.json().get("detail")
    if not isinstance(detail, list) or not detail:
        return [str(detail)]
    lines = []
    for p in detail:
        who = p.get("record_kind") or "record"
        if p.get("record_id"):
            who += f" {p['record_id']!r}"
        lines.append(f"{who}: {p.get('message')}")
    return lines


def publish_week_command(
    plans_dir: Annotated[Path, typer.Argument(metavar="PLANS_DIR", help="Folder of plan-YYYY-MM-DD.json files (homecare generate --days).")],
    rosters_dir: Annotated[Path, typer.Argument(metavar="ROSTERS_DIR", help="Folder of roster-YYYY-MM-DD.json files (homecare solve-week --out).")],
    url: Annotated[str, typer.Option(help="The roster service's base URL.")] = "http://127.0.0.1:8000",
    key: Annotated[Optional[str], typer.Option(envvar="HOMECARE_API_KEY", show_envvar=True, help="A coordinator's API key.")] = None,  # noqa: UP007
    replace: Annotated[bool, typer.Option("--replace", help="Publish even where another roster is published for the date.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer (checking a roster takes a few).")] = 120.0,
) -> None:
    """Publish a solved week to the roster service: for each date, submit the plan, store its roster (checked
    by the service on every rule) and publish it; one line per date.

    Re-running leaves a date whose roster is published already as it is (bookings
    made since are kept); a date with another roster published is refused unless
    --replace. Exits 1 if a date was refused, 2 if the service cannot be used.
    """
    import httpx
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if not key:
        raise _fail("give a coordinator's API key with --key or HOMECARE_API_KEY (homecare keys create --role coordinator)")
    try:
        dates = week_files(plans_dir, rosters_dir)
    except PublishError as exc:
        raise _fail(str(exc)) from None
    colour = {"published": "green", "unchanged": "cyan", "refused": "yellow", "invalid": "red"}
    with (httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=timeout) as client,
          Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=console, transient=True) as progress):
        task = progress.add_task("publishing", total=len(dates))

        def said(day: DayPublished) -> None:
            progress.advance(task)
            progress.console.print(f"{day.date} {day.date:%a}: [{colour[day.state]}]{day.state}[/] {escape(day.message)}",
                                   highlight=False, soft_wrap=True)
            for p in day.problems[1:]:
                progress.console.print(f"  - {p}", highlight=False, markup=False, soft_wrap=True)

        try:
            done = publish_week(client, plans_dir, rosters_dir, replace=replace, on_date=said)
        except PublishError as exc:
            raise _fail(str(exc)) from None
    bad = [d for d in done if not d.ok]
    fresh = sum(d.state == "published" for d in done)
    out.print(f"{counted(len(done), 'date')}: {fresh} published, {len(done) - fresh - len(bad)} unchanged"
              + (f", {len(bad)} refused" if bad else ""), highlight=False)
    if bad:
        raise typer.Exit(EXIT_INVALID)
