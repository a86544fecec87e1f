"""An outside checker of the contract's timing rule, written from ``docs/CONTRACT.md`` alone.

It reads nothing but a roster's JSON (no project code), as a checker from another
team would: in each route, entries (visits and breaks) are listed in time order, and
each entry's ``arrival`` is no earlier than the previous entry's ``end`` plus its own
``travel_s`` (a break's travel is 0, its arrival its start).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _seconds(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def timing_breaches(roster: Mapping[str, Any]) -> list[str]:
    """Return every breach of the listed-order timing rule in a roster's JSON, as readable lines."""
    out = []
    for route in roster["routes"]:
        previous_end = previous_start = None
        for n, entry in enumerate(route["stops"], start=1):
            name = f"{route['worker_id']} #{n} {entry.get('visit_id') or 'break'}"
            arrival, start, end = (_seconds(entry[k]) for k in ("arrival", "start", "end"))
            travel = int(entry.get("travel_s") or 0)
            if arrival > start:
                out.append(f"{name}: arrives {entry['arrival']} after its start {entry['start']}")
            if previous_start is not None and start < previous_start:
                out.append(f"{name}: starts {entry['start']}, before the entry listed before it")
            if previous_end is not None and arrival < previous_end + travel:
                out.append(f"{name}: arrives {entry['arrival']}, before the previous end plus {travel} s")
            previous_end, previous_start = end, start
    return out
