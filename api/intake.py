"""Accept a plan from a request: size limits, the road network, then the project's own loader.

A plan submitted to the service names its road network **by file name**, from
the server's network folder (setting ``network_dir``, ``HOMECARE_NETWORK_DIR``;
by default the bundled networks): ``cambridge_drive.osm``. The bundled plans'
form ``fixtures/networks/cambridge_drive.osm`` names the same file. Anything else
(an absolute path, ``../``, a place name, a file not in the folder, a link
leading out of it) is refused with the same answer whether or not such a file
exists elsewhere: the service never opens a path as given, and never downloads a
network. :func:`network_path` is the one place that turns a plan's ``network``
into a file, at intake and again at solve time.

Plans are also bounded in size (settings ``max_providers``, ``max_workers``,
``max_clients``, ``max_visits``, ``max_history``, ``max_list_items``), counted on
the raw records before they are parsed, and ids are at most :data:`ID_MAX_CHARS`
characters (the width of the database's id columns).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler import schema
from scheduler.errors import PlanError, Problem, SchemaError
from scheduler.io import PLAN_LISTS, csv_plan_dict, plan_from_dict, plan_to_dict
from scheduler.text import printable
from scheduler.model import Plan

if TYPE_CHECKING:
    from api.config import Settings

NETWORK_SUFFIXES = (".osm", ".xml", ".graphml")
#: The prefix of the bundled plans' ``network`` (``fixtures/networks/cambridge_drive.osm``).
BUNDLED_PREFIX = "fixtures/networks/"
CSV_FILES = ("plan", *PLAN_LISTS)
#: Longest record id accepted: the width of the database's member and client id columns.
ID_MAX_CHARS = 200
#: Record list fields bounded by the setting ``max_list_items``: every list field of the plan's schema.
LIST_FIELDS = {name: tuple(f.name for f in schema.RECORDS[kind].fields if f.many)
               for name, kind in schema.PLAN_LISTS.items()}
_SINGULAR = schema.PLAN_LISTS
_SETTING = {"providers": "max_providers", "workers": "max_workers", "clients": "max_clients",
            "visits": "max_visits", "history": "max_history"}


# --------------------------------------------------------------------------- road networks

def network_names(folder: Path) -> list[str]:
    """Return the road networks in ``folder`` that plans may name, sorted.

    A network is a regular file directly in the folder, named ``*.osm``,
    ``*.xml`` or ``*.graphml`` (not hidden), that does not lead out of the folder
    through a symbolic link.

    Parameters
    ----------
    folder
        The server's network folder (``Settings.network_folder()``).

    Returns
    -------
    list of str
        File names; empty if the folder is missing or unreadable.
    """
    try:
        root = folder.resolve()
        entries = list(os.scandir(root))
    except OSError:
        return []
    names = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.name.lower().endswith(NETWORK_SUFFIXES):
            continue
        try:
            target = Path(entry.path).resolve(strict=True)
        except (OSError, RuntimeError):  # a broken or looping link
            continue
        if target.is_relative_to(root) and target.is_file():
            names.append(entry.name)
    return sorted(names)


def network_path(network: Any, *, folder: Path) -> Path:
    """Resolve a plan's ``network`` to a file of the server's network folder.

    The one resolver of the service: used when a plan is submitted and again
    when it is solved or mapped, so that a stored plan can only ever reach the
    folder's files.

    Parameters
    ----------
    network
        The plan's ``network``: a file name of the folder (``cambridge_drive.osm``),
        or the same prefixed by ``fixtures/networks/`` as in the bundled plans.
    folder
        The server's network folder.

    Returns
    -------
    Path
        The file, inside ``folder``.

    Raises
    ------
    SchemaError
        Naming record ``plan`` and field ``network``, if the name is missing or is
        not one of the folder's networks. The message depends on the name given
        and the folder's networks only, never on what else exists on the disk.
    """
    names = network_names(folder)
    name = network
    if isinstance(name, str) and name.startswith(BUNDLED_PREFIX):
        name = name[len(BUNDLED_PREFIX):]
    if isinstance(name, str) and name in names:
        return folder.resolve() / name
    shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    hint = (f"name one of this server's road networks by file name: {shown} "
            f"(or as the bundled plans do: {BUNDLED_PREFIX}{names[0]})" if names
            else "this server has no road networks (setting HOMECARE_NETWORK_DIR)")
    if network is None or network == "":
        message = f"network is missing: {hint}"
    elif not isinstance(network, str):
        message = f"network should be the file name of a road network, got a {type(network).__name__}: {hint}"
    else:
        given = network if len(network) <= 100 else network[:100] + "..."
        message = f"network {given!r} is not one of this server's road networks: {hint}"
    raise SchemaError([Problem("plan", None, "network", message)])


def plan_network_path(plan: Plan, *, settings: Settings | None = None) -> Path:
    """Return the road network file of a stored plan, resolved by :func:`network_path`.

    Parameters
    ----------
    plan
        The plan.
    settings
        The service's settings; by default read from the environment (as in a
        solver process).

    Returns
    -------
    Path
        The network file, inside the network folder.

    Raises
    ------
    SchemaError
        If the plan's ``network`` is not one of the folder's networks (any more).
    """
    if settings is None:
        from api.config import get_settings

        settings = get_settings()
    return network_path(plan.network, folder=settings.network_folder())


def _network_problems(network: Any, folder: Path) -> list[Problem]:
    try:
        network_path(network, folder=folder)
    except SchemaError as exc:
        return list(exc.problems)
    return []


# --------------------------------------------------------------------------- size limits

def _limit(settings: Settings, name: str) -> int:
    return int(getattr(settings, _SETTING[name]))


def _count_problem(name: str, count: int, settings: Settings) -> Problem:
    setting = _SETTING[name]
    return Problem("plan", None, name,
                   f"the plan has {count} {name} entries; this server accepts at most {_limit(settings, name)} "
                   f"per plan (setting HOMECARE_{setting.upper()})" if name == "history" else
                   f"the plan has {count} {name}; this server accepts at most {_limit(settings, name)} per plan "
                   f"(setting HOMECARE_{setting.upper()})")


def size_problems(data: Mapping[str, Any], *, settings: Settings) -> list[Problem]:
    """Return the plan's breaches of the server's size limits, from its raw JSON form.

    Parameters
    ----------
    data
        The plan's JSON form, not yet parsed.
    settings
        The limits.

    Returns
    -------
    list of Problem
        One per list over its limit (``plan``, field ``workers``...), per record
        list field over ``max_list_items`` and per id over :data:`ID_MAX_CHARS`.
    """
    problems = []
    for name in (*PLAN_LISTS, "history"):
        records = data.get(name)
        if isinstance(records, list) and len(records) > _limit(settings, name):
            problems.append(_count_problem(name, len(records), settings))
    if problems:
        return problems  # do not walk lists that are too long
    for name in PLAN_LISTS:
        records = data.get(name)
        if not isinstance(records, list):
            continue
        kind = _SINGULAR[name]
        for i, record in enumerate(records):
            if not isinstance(record, Mapping):
                continue
            rid = record.get("id")
            label = printable(rid) if isinstance(rid, str) and len(rid) <= ID_MAX_CHARS else f"#{i + 1}"
            if isinstance(rid, str) and len(rid.strip()) > ID_MAX_CHARS:
                problems.append(Problem(kind, label, "id", f"id has {len(rid.strip())} characters; "
                                        f"ids may have at most {ID_MAX_CHARS}"))
            for field in LIST_FIELDS[name]:
                items = record.get(field)
                if isinstance(items, str):  # the CSV form: items separated by ';'
                    items = [s for s in items.split(";") if s.strip()]
                if isinstance(items, list) and len(items) > settings.max_list_items:
                    problems.append(Problem(kind, label, field,
                                            f"{field} has {len(items)} items; this server accepts at most "
                                            f"{settings.max_list_items} per list "
                                            "(setting HOMECARE_MAX_LIST_ITEMS)"))
    return problems


# --------------------------------------------------------------------------- plans

def plan_from_json(data: Mapping[str, Any], *, settings: Settings) -> tuple[Plan, dict[str, Any]]:
    """Validate a plan sent as JSON.

    Parameters
    ----------
    data
        The plan's JSON form.
    settings
        The server's limits and network folder.

    Returns
    -------
    tuple of (Plan, dict)
        The plan and its normalised JSON form, as stored.

    Raises
    ------
    PlanError
        Listing every problem: the size limits' (alone, before parsing), or the
        loader's and the network's.
    """
    return _accept(data, settings=settings)


def _accept(data: Mapping[str, Any], *, settings: Settings,
            labels: Mapping[str, Any] | None = None) -> tuple[Plan, dict[str, Any]]:
    if not isinstance(data, Mapping):
        raise SchemaError([Problem("plan", None, None, f"a plan is a JSON object, got {type(data).__name__}")])
    too_big = size_problems(data, settings=settings)
    if too_big:
        raise SchemaError(too_big)
    extra = _network_problems(data.get("network"), settings.network_folder())
    try:
        plan = plan_from_dict(data, labels=labels)
    except PlanError as exc:
        known = {(p.record_kind, p.field) for p in exc.problems}
        raise type(exc)([*exc.problems, *(p for p in extra if (p.record_kind, p.field) not in known)]) from None
    if extra:
        raise SchemaError(extra)
    return plan, plan_to_dict(plan)


def plan_from_csv(files: Mapping[str, bytes], *, settings: Settings, date: str | None = None,
                  network: str | None = None) -> tuple[Plan, dict[str, Any]]:
    """Validate a plan sent as CSV files (the CSV form of ``docs/CONTRACT.md``).

    Parameters
    ----------
    files
        Contents by name: ``providers``, ``workers``, ``visits``, optional
        ``clients`` and ``plan`` (one row with ``date`` and ``network``).
    settings
        The server's limits and network folder.
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
    try:
        for name in PLAN_LISTS:
            if name in text:  # count rows before pandas reads them
                count = max(sum(1 for _ in csv.reader(io.StringIO(text[name], newline=""))) - 1, 0)
                if count > _limit(settings, name):
                    problems.append(_count_problem(name, count, settings))
        if problems:
            raise SchemaError(problems)
        if date is not None or network is not None:
            rows = list(csv.DictReader(io.StringIO(text.get("plan", ""), newline=""))) or [{}]
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
    except csv.Error as exc:
        raise SchemaError([Problem("plan", None, None, f"unreadable CSV: {exc}")]) from None
    with tempfile.TemporaryDirectory(prefix="homecare-csv-") as folder:
        for name, content in text.items():
            (Path(folder) / f"{name}.csv").write_text(content, encoding="utf-8")
        try:
            data, labels = csv_plan_dict(folder)
        except PlanError:
            raise
        except (ValueError, csv.Error) as exc:  # pandas: malformed CSV
            raise SchemaError([Problem("plan", None, None, f"unreadable CSV: {exc}")]) from None
    return _accept(data, settings=settings, labels=labels)


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
