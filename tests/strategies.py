"""Hypothesis strategies: valid plans as contract dicts, and points in central London.

:func:`plan_dicts` draws plans that :func:`scheduler.io.plan_from_dict` must accept:
ids are unique, references resolve, every visit's kind has a provider, windows
fit the day, and clients never both prefer and exclude a worker. Locations lie
inside ``fixtures/networks/london_central_drive.osm``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from scheduler.model import GENDER_PREFERENCES, GENDERS, PRIORITIES, PROVIDER_KINDS, TRAVEL_MODES
from scheduler.timeutil import DAY_S

LAT_RANGE = (51.519, 51.527)
LON_RANGE = (-0.151, -0.121)

#: Characters a plan may hold: any Unicode but lone surrogates (not text) and NUL (which no
#: PostgreSQL text holds).
storable_text = st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00")
json_scalars = (st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(storable_text, max_size=8)
                | st.floats(allow_nan=False, allow_infinity=False, width=32))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(storable_text, max_size=5), inner,
                                                                max_size=3),
    max_leaves=6,
)
#: Keys no record of the contract uses, for fields kept in ``extra``.
extra_keys = st.sampled_from(["note", "region", "colour", "external_ref", "x-source", "priority_score"])
ids = st.from_regex(r"[a-z][a-z0-9\-]{0,5}", fullmatch=True)
skills = st.sampled_from(["hoist", "medication", "dementia", "catheter", "peg"])
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"),
                max_size=12)


def london_points() -> st.SearchStrategy[tuple[float, float]]:
    """Draw a (lat, lon) inside the central-London test network."""
    return st.tuples(st.floats(*LAT_RANGE), st.floats(*LON_RANGE))


def _location() -> st.SearchStrategy[dict[str, float]]:
    return london_points().map(lambda p: {"lat": p[0], "lon": p[1]})


def _hhmm(seconds: int) -> str:
    text = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return text + (f":{seconds % 60:02d}" if seconds % 60 else "")


@st.composite
def time_windows(draw: st.DrawFn, *, latest_end: int = DAY_S, min_length: int = 0) -> dict[str, str]:
    """Draw ``{"start", "end"}`` times, mostly whole minutes, sometimes to the second."""
    step = draw(st.sampled_from([60, 60, 60, 1]))
    start = draw(st.integers(0, (latest_end - min_length) // step)) * step
    end = draw(st.integers(-(-(start + min_length) // step), latest_end // step)) * step
    return {"start": _hhmm(start), "end": _hhmm(end)}


def _extras(draw: st.DrawFn) -> dict[str, Any]:
    return draw(st.dictionaries(extra_keys, json_values, max_size=2))


@st.composite
def plan_dicts(draw: st.DrawFn, *, max_workers: int = 4, max_visits: int = 6) -> dict[str, Any]:
    """Draw a valid plan in its JSON form, with extra fields sprinkled on every level."""
    provider_ids = draw(st.lists(ids, min_size=1, max_size=3, unique=True))
    providers = [{"id": pid, "name": draw(texts), "kind": draw(st.sampled_from(PROVIDER_KINDS)), **_extras(draw)}
                 for pid in provider_ids]
    kind_of = {p["id"]: p["kind"] for p in providers}

    worker_ids = draw(st.lists(ids, min_size=1, max_size=max_workers, unique=True))
    workers = []
    for wid in worker_ids:
        record: dict[str, Any] = {
            "id": wid, "provider_id": draw(st.sampled_from(provider_ids)), "name": draw(texts),
            "skills": draw(st.lists(skills, max_size=3, unique=True)),
            "gender": draw(st.none() | st.sampled_from(GENDERS)),
            "shift": draw(time_windows(min_length=60)), "start_location": draw(_location()),
            "travel_mode": draw(st.sampled_from(TRAVEL_MODES)),
            "capacity": draw(st.none() | st.integers(0, 50)), **_extras(draw),
        }
        if draw(st.booleans()):
            record["end_location"] = draw(_location())
        workers.append(record)

    client_ids = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    clients = []
    for cid in client_ids:
        chosen = draw(st.lists(st.sampled_from(worker_ids), max_size=3, unique=True))
        cut = draw(st.integers(0, len(chosen)))
        clients.append({
            "id": cid, "location": draw(_location()), "postcode": draw(st.sampled_from(["", "W1T 1AA", "WC1H 0AR"])),
            "name": draw(texts), "gender_preference": draw(st.none() | st.sampled_from(GENDER_PREFERENCES)),
            "preferred_worker_ids": chosen[:cut], "excluded_worker_ids": chosen[cut:], **_extras(draw),
        })

    visits = []
    for vid in draw(st.lists(ids, min_size=1, max_size=max_visits, unique=True)):
        provider_id = draw(st.none() | st.sampled_from(provider_ids))
        kind = kind_of[provider_id] if provider_id else draw(st.sampled_from(sorted(set(kind_of.values()))))
        duration_min = draw(st.integers(1, 180))
        visits.append({
            "id": vid, "client_id": draw(st.sampled_from(client_ids)), "kind": kind, "provider_id": provider_id,
            "window": draw(time_windows(latest_end=DAY_S - duration_min * 60)), "duration_min": duration_min,
            "required_skills": draw(st.lists(skills, max_size=2, unique=True)),
            "workers_required": draw(st.sampled_from([1, 1, 2])), "priority": draw(st.sampled_from(PRIORITIES)),
            "demand": draw(st.integers(0, 20)), "tasks": draw(st.lists(st.sampled_from(["wash", "meds", "lunch"]),
                                                                      max_size=2)),
            **_extras(draw),
        })

    plan: dict[str, Any] = {
        "date": draw(st.dates()).isoformat(), "providers": providers, "workers": workers,
        "clients": clients, "visits": visits,
    }
    if draw(st.booleans()):
        plan["network"] = "fixtures/networks/london_central_drive.osm"
    plan.update(draw(st.dictionaries(st.sampled_from(["scenario", "author"]), json_values, max_size=1)))
    return plan
