"""Load benchmark of the roster service: roster and visit-list reads while a solve runs.

Starts ``homecare serve`` on a free 127.0.0.1 port (loopback only) with a fresh
SQLite file, solves the bundled Cambridge weekday (300 visits) once, starts a
second, long solve of it, and while that solve searches in its own process,
sends a fixed number of reads from 50 and then 200 concurrent clients: half
``GET /rosters/{id}`` (the full roster JSON, about 150 kB), half
``GET /providers/care-cam/visits`` (a provider's list, as a provider key).
Latency percentiles per endpoint and level go to ``benchmark.extra_info`` and
are printed. Everything is bounded: request counts, a time limit per level, and
the server is stopped at the end. With ``--benchmark-disable`` (CI) it sends
far fewer requests and solves for less time.

Run: ``pytest benchmarks/test_api_load.py -s``.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
import pytest

LEVELS = (50, 200)
REQUESTS_PER_LEVEL = 1000
SMOKE_REQUESTS_PER_LEVEL = 200
LEVEL_TIMEOUT_S = 150.0
PROVIDER = "care-cam"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """A running server with a coordinator and a provider key; stopped after the module."""
    from quote_service import service as serve

    folder = tmp_path_factory.mktemp("api-load")
    with serve(folder, log=folder / "server.log", roles=("coordinator", f"provider:{PROVIDER}"),
               cache_dir=folder / "cache") as (base, keys, _):
        yield base, keys


def _wait(api: httpx.Client, job_id: str, states: set[str], timeout_s: float = 180) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = api.get(f"/jobs/{job_id}").json()
        if job["state"] in states or (job["progress"]["best_objective"] is not None and "searching" in states):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not {states} in {timeout_s} s")


async def _load(base: str, keys: dict[str, str], roster_id: str, date: str, clients: int,
                requests: int) -> dict[str, list[float]]:
    """Send ``requests`` reads from ``clients`` concurrent clients; return latencies (s) per endpoint."""
    targets = [("roster", f"/rosters/{roster_id}", keys["coordinator"]),
               ("visit_list", f"/providers/{PROVIDER}/visits?date={date}", keys[f"provider:{PROVIDER}"])]
    latencies: dict[str, list[float]] = {"roster": [], "visit_list": []}
    errors: list[str] = []
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as api:
        async def client() -> None:
            for n in counter:
                name, path, key = targets[n % 2]
                t0 = time.perf_counter()
                try:
                    response = await api.get(path, headers={"X-API-Key": key})
                except (httpx.ReadError, httpx.RemoteProtocolError):
                    # A kept-alive connection the server closed while it sat idle: ask again.
                    response = await api.get(path, headers={"X-API-Key": key})
                latencies[name].append(time.perf_counter() - t0)
                if response.status_code != 200:
                    errors.append(f"{path}: {response.status_code}")

        await asyncio.wait_for(asyncio.gather(*(client() for _ in range(clients))), LEVEL_TIMEOUT_S)
    assert errors == [], errors[:5]
    return latencies


def test_api_load_reads_while_solving(benchmark, service):
    """p50/p99 of roster and visit-list reads at 50 and 200 concurrent clients while a solve searches."""
    from scheduler.bundled import default_plan

    base, keys = service
    smoke = benchmark.disabled
    requests = SMOKE_REQUESTS_PER_LEVEL if smoke else REQUESTS_PER_LEVEL
    import json

    plan = json.loads(default_plan().read_text())
    # As shipped: the service finds "fixtures/networks/cambridge_drive.osm" in its own network folder.
    with httpx.Client(base_url=base, headers={"X-API-Key": keys["coordinator"]}, timeout=60) as api:
        created = api.post("/plans", json=plan)
        assert created.status_code == 201, created.text
        plan_id = created.json()["id"]
        first = api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 2 if smoke else 10}).json()
        done = _wait(api, first["id"], {"succeeded", "failed"})
        assert done["state"] == "succeeded", done
        roster_id = done["roster_id"]
        published = api.post(f"/rosters/{roster_id}/publish")  # providers read only published rosters
        assert published.status_code == 200, published.text
        background = api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 60 if smoke else 300}).json()
        _wait(api, background["id"], {"searching"})

        figures: dict[str, float] = {}

        def run() -> None:
            for clients in LEVELS:
                t0 = time.perf_counter()
                latencies = asyncio.run(_load(base, keys, roster_id, plan["date"], clients, requests))
                wall = time.perf_counter() - t0
                figures[f"c{clients}_requests_per_s"] = round(requests / wall, 1)
                for name, values in latencies.items():
                    figures[f"c{clients}_{name}_p50_ms"] = round(1000 * statistics.median(values), 1)
                    figures[f"c{clients}_{name}_p99_ms"] = round(1000 * _percentile(values, 0.99), 1)

        benchmark.pedantic(run, rounds=1, iterations=1)
        still = api.get(f"/jobs/{background['id']}").json()
        assert still["state"] == "running", "the reads were not measured while a solve ran"
        api.post(f"/jobs/{background['id']}/cancel")
    benchmark.extra_info.update(figures, requests_per_level=requests, roster_bytes=len(
        httpx.get(f"{base}/rosters/{roster_id}", headers={"X-API-Key": keys["coordinator"]}).content))
    print("\nreads while solving (ms):")
    for clients in LEVELS:
        print(f"  {clients:3d} clients: roster p50 {figures[f'c{clients}_roster_p50_ms']}, "
              f"p99 {figures[f'c{clients}_roster_p99_ms']}; visit list p50 "
              f"{figures[f'c{clients}_visit_list_p50_ms']}, p99 {figures[f'c{clients}_visit_list_p99_ms']}; "
              f"{figures[f'c{clients}_requests_per_s']} req/s")
