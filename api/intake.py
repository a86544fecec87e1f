"""Accept a plan from a request: size limits, the road network, then the project's own loader.

A plan submitted to the service must name a road network the server can read:
a bundled one (``fixtures/networks/cambridge_drive.osm``,
``fixtures/networks/london_central_drive.osm``) or an absolute path of an OSM
XML or GraphML file on the server. Place names (which OSMnx would download) are
refused: the service does not reach the internet while solving.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scheduler.bundled import resolve_path
from scheduler.errors import PlanError, Problem, SchemaError
from scheduler.io import PLAN_LISTS, load_plan, plan_from_dict, plan_to_dict
from scheduler.model import Plan

NETWORK_SUFFIXES = (".osm", ".xml", ".graphml")
BUNDLED_NETWORKS = ("fixtures/networks/cambridge_drive.osm", "fixtures/networks/london_central_drive.osm")
CSV_FILES = ("plan", *PLAN_LISTS)


def network_problems(network: Any) -> list[Problem]:
    """Return what is wrong with a plan's ``network`` for this server (nothing if it is usable)."""
    hint = f"name a bundled network ({', '.join(BUNDLED_NETWORKS)}) or an absolute path of a file on the server"
    if network is None or network == "":
        return [Problem("plan", None, "network", f"network is missing: {hint}")]
    if not isinstance(network, str):
        return []  # the loader reports the wrong type
    shown = network if len(network) <= 200 else network[:200] + "..."
    if not network.lower().endswith(NETWORK_SUFFIXES):
        return [Problem("plan", None, "network",
                        f"network {shown!r} is not an OSM XML (.osm, .xml) or GraphML (.graphml) file: {hint}")]
    try:
        found = resolve_path(network).is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        found = False
    if not found:
        return [Problem("plan", None, "network", f"network {shown!r} is not a file on this server: {hint}")]
    return []


def _visits_problem(count: int, max_visits: int) -> Problem:
    return Problem("plan", None, "visits",
                   f"the plan has {count} visits; this server accepts at most {max_visits} per plan "
                   "(setting HOMECARE_MAX_VISITS)")


def plan_from_json(data: Mapping[str, Any], *, max_visits: int) -> tuple[Plan, dict[str, Any]]:
    """Validate a plan sent as JSON.

    Parameters
    ----------
    data
        The plan's JSON form.
    max_visits
        Most visits accepted.

    Returns
    -------
    tuple of (Plan, dict)
        The plan and its normalised JSON form, as stored.

    Raises
    ------
    PlanError
        Listing every problem: the loader's, the network's, the size limit's.
    """
    visits = data.get("visits")
    if isinstance(visits, list) and len(visits) > max_visits:
        raise SchemaError([_visits_problem(len(visits), max_visits)])
    extra = network_problems(data.get("network"))
    try:
        plan = plan_from_dict(data)
    except PlanError as exc:
        raise type(exc)([*exc.problems, *extra]) from None
    if extra:
        raise SchemaError(extra)
    return plan, plan_to_dict(plan)


def plan_from_csv(files: Mapping[str, bytes], *, max_visits: int, date: str | None = None,
                  network: str | None = None) -> tuple[Plan, dict[str, Any]]:
    """Validate a plan sent as CSV files (the CSV form of ``CONTRACT.md``).

    Parameters
    ----------
    files
        Contents by name: ``providers``, ``workers``, ``visits``, optional
        ``clients`` and ``plan`` (one row with ``date`` and ``network``).
    max_visits
        Most visits accepted.
    date, network
        Values for ``plan.csv`` when no such file is sent (they override its columns otherwise).

    Returns
    -------
    tuple of (Plan, dict)
        The plan and its normalised JSON form.

    Raises
    ------
    PlanError
        Listing every problem.
    """
    problems = []
    text: dict[str, str] = {}
    for name, content in files.items():
        try:
            text[name] = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.append(Problem("plan", None, name, f"{name}.csv is not UTF-8 text"))
    if problems:
        raise SchemaError(problems)
    visits = text.get("visits")
    if visits is not None:
        count = max(sum(1 for _ in csv.reader(io.StringIO(visits))) - 1, 0)
        if count > max_visits:
            raise SchemaError([_visits_problem(count, max_visits)])
    if date is not None or network is not None:
        rows = list(csv.DictReader(io.StringIO(text.get("plan", "")))) or [{}]
        row = dict(rows[0])
        if date is not None:
            row["date"] = date
        if network is not None:
            row["network"] = network
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
        text["plan"] = out.getvalue()
    with tempfile.TemporaryDirectory(prefix="homecare-csv-") as folder:
        for name, content in text.items():
            (Path(folder) / f"{name}.csv").write_text(content, encoding="utf-8")
        try:
            plan = load_plan(folder)
        except PlanError as exc:
            extra = network_problems(_csv_network(text))
            raise type(exc)([*exc.problems, *extra]) from None
        except ValueError as exc:  # pandas: malformed CSV
            raise SchemaError([Problem("plan", None, None, f"unreadable CSV: {exc}")]) from None
    extra = network_problems(plan.network)
    if extra:
        raise SchemaError(extra)
    return plan, plan_to_dict(plan)


def _csv_network(text: Mapping[str, str]) -> str | None:
    rows = list(csv.DictReader(io.StringIO(text.get("plan", ""))))
    return (rows[0].get("network") or None) if rows else None


def job_time_limit(requested: float | None, *, default_s: float, max_s: float) -> float:
    """Return the search time of a job: the one asked for, or the default.

    Raises
    ------
    PlanError
        If more than ``max_s`` is asked for.
    """
    if requested is None:
        return default_s
    if requested > max_s:
        raise SchemaError([Problem("request", "body", "time_limit_s",
                                   f"time_limit_s {requested:g} is over this server's limit of {max_s:g} s "
                                   "(setting HOMECARE_MAX_TIME_LIMIT_S)")])
    return float(requested)
