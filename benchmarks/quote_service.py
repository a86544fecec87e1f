"""Quotes through the service while a solve runs (issue 23): ``POST /offers`` offered at a fixed rate.

What it does, all on 127.0.0.1:

1. Starts ``homecare serve`` (a subprocess, a fresh SQLite file in a temporary
   folder, the usual network and matrix cache; ``--server-workers N``: ``serve
   --workers N``, N server processes on the port) with a ``coordinator`` and a
   ``frontdoor`` key made in the database as the tests make them.
2. Publishes a week through the API with ``homecare publish-week``'s function
   (:func:`homecare_cli.publish.publish_week`: ``POST /plans``, ``POST
   /plans/{id}/rosters``, checked by the service, ``POST /rosters/{id}/publish``):
   ``benchmarks/quote.py``'s day (the generated Cambridge day, seed 1, 1,000
   visits by default, solved once with a 20-second search and cached under the
   temp folder) on each of ``--days`` dates from today, the same plan and
   roster each date. The server keeps nothing warm for us: the first quotes
   build the published days (``--warm`` quotes, not measured, a connection
   each so that each server process may take some, do that before
   the clock starts, as the first residents of the day would).
3. Starts a realistic solve on the service (the first date's plan again,
   ``--solve`` seconds of search) and waits until it searches.
4. Offers ``--rate`` ``POST /offers`` a second for ``--duration`` seconds,
   **open loop**: request *i* is due at ``t0 + i / rate`` whatever happened
   before, and its latency runs from that due time (a slow server cannot hide
   queueing behind a client that waits for it: no coordinated omission), from
   ``--clients`` threads, each with its own keep-alive connection. Requests are
   random and drawn before the clock starts (seeded): care (half),
   hairdressing or delivery, 30-60 min (deliveries 10-15), 10% double-handed
   care, a required skill for 30% of care, preferred times (a 3-hour span) for
   30%, 10% new clients at a road node (``client`` with ``location`` and
   ``postcode``), the rest existing clients; no ``dates`` (the service's
   default: the next 7 days with a published roster).
5. Prints p50, p95, p99 and max latency, the rate achieved, every error (a
   non-2xx answer or an exception), the server processes' CPU (each, and a
   request; their solver processes not counted) and whether the solve ran
   throughout (its job ``running`` before the first request and after the last
   answer).

Run from the repository root::

    python benchmarks/quote_service.py --visits 1000 --days 7 --rate 20 --duration 60 --solve 120

``--profile FILE`` samples the server (with ``--server-workers`` over 1, the
first server process) with py-spy (if installed) while the offers run and
writes its collapsed stacks to FILE. ``benchmarks/test_quote_service.py``
runs a small day for a few seconds in CI and asserts no errors (no timing).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


@dataclasses.dataclass(frozen=True, slots=True)
class Options:
    """What to run (the command line's options)."""

    visits: int = 1000
    days: int = 7
    seed: int = 1
    rate: float = 20.0
    duration: float = 60.0
    clients: int = 8
    solve: float = 120.0
    publish_search: float = 20.0
    warm: int = 20
    profile: Path | None = None
    log: Path | None = None
    server_workers: int = 1
    fresh_connections: bool = False


@dataclasses.dataclass(slots=True)
class Result:
    """What the offers met: a latency per request (from its due time), errors, and the solve's state."""

    latencies_s: list[float]
    service_s: list[float]
    errors: list[str]
    offered: int
    with_offers: int
    late_sends: int
    wall_s: float
    solve_running: tuple[str, str]
    setup: dict[str, float]
    server_cpu_s: float
    load: tuple[float, float]
    server_cpu_each_s: tuple[float, ...] = ()

    @property
    def solve_throughout(self) -> bool:
        """Whether the solve job was running before the first request and after the last answer."""
        return self.solve_running == ("running", "running")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _cpu_s(pid: int) -> float:
    """CPU time (user and system) a process has used, its own threads only (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_pids(process: subprocess.Popen[bytes], workers: int) -> list[int]:
    """Return the processes that answer requests: ``homecare serve`` or its server processes.

    With ``workers`` over 1: the children of ``homecare serve`` started by
    ``multiprocessing`` spawn (their own solver processes are their children).
    """
    if workers == 1:
        return [process.pid]
    found = []
    for task in Path(f"/proc/{process.pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(int(child))
    return sorted(found)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def service(folder: Path, *, log: Path, roles: tuple[str, ...] = ("coordinator", "frontdoor"),
            cache_dir: Path | None = None, workers: int = 1
            ) -> Iterator[tuple[str, dict[str, str], subprocess.Popen[bytes]]]:
    """Run ``homecare serve`` on a free loopback port with a fresh SQLite file and a key per role; yield its
    URL, the keys by role and the server process. ``cache_dir``: the network and matrix cache (default: the
    usual one); ``workers``: ``serve --workers``; stopped (Ctrl-C, then killed after 30 s) at the end.
    ``benchmarks/test_api_load.py`` uses it too.
    """
    from api import crud
    from api.db import Database, migrate
    from solver.cache import default_cache_dir

    url = f"sqlite:///{folder / 'homecare.db'}"
    db = Database(url)
    migrate(db)
    keys = {role: crud.create_key(db=db, role=role, name="benchmark")[1] for role in roles}
    db.dispose()
    port = _free_port()
    env = {**os.environ, "HOMECARE_CACHE_DIR": str(cache_dir or default_cache_dir()), "HOMECARE_MAX_TIME_LIMIT_S": "3600"}
    env.pop("HOMECARE_DATABASE_URL", None)
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "homecare_cli", "serve", "--host", HOST, "--port",
                                    str(port), "--db", url, "--log-level", "warning",
                                    "--workers", str(workers)], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield base, keys, process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_job(api: httpx.Client, job_id: str, until: set[str], *, stage: str | None = None,
              timeout_s: float = 1800) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = api.get(f"/jobs/{job_id}").json()
        if job["state"] in until or (stage is not None and job["state"] == "running" and job["progress"]["stage"] == stage):
            return job
        if job["state"] in {"failed", "cancelled", "interrupted"}:
            raise RuntimeError(f"job {job_id} {job['state']}: {job.get('error')}")
        time.sleep(0.2)
    raise RuntimeError(f"job {job_id} not {until} in {timeout_s} s")


def publish_week(api: httpx.Client, *, visits: int, seed: int, search_s: float, days: int, first: dt.date
                 ) -> tuple[Any, list[str]]:
    """Publish the generated day on ``days`` dates from ``first`` with ``homecare publish-week``'s function.

    The day is ``benchmarks/quote.py``'s (``solver.generate.generate_day``, solved
    once with ``search_s`` of search and cached under the temp folder); each
    date gets the same plan and roster, submitted, checked by the service and
    published for every provider. Returns the plan and each date's plan id.
    """
    from quote import _week

    from homecare_cli.publish import publish_week as publish
    from scheduler.io import write_plan, write_roster

    week, _ = _week(visits, seed, search_s, 1)
    plan, roster = week[0].plan, week[0].roster
    with tempfile.TemporaryDirectory(prefix="homecare-quote-service-week-") as tmp:
        folder = Path(tmp)
        for i in range(days):
            date = first + dt.timedelta(days=i)
            write_plan(dataclasses.replace(plan, date=date), folder / f"plan-{date}.json")
            write_roster(dataclasses.replace(roster, date=date), folder / f"roster-{date}.json")
        done = publish(api, folder, folder)
    refused = [f"{d.date}: {d.state} {d.message}" for d in done if not d.ok]
    if refused or len(done) != days:
        raise RuntimeError(f"the week was not published: {refused}")
    return plan, [api.get(f"/rosters/{d.roster_id}").json()["plan_id"] for d in done]


def requests_for(plan: Any, n: int, *, seed: int) -> list[dict[str, Any]]:
    """``n`` random requests (JSON) for the plan's clients and new ones at road nodes (see the module's text)."""
    from solver import network_for
    from solver.cache import default_cache_dir
    from solver.generate import candidate_sites

    rng = random.Random(seed)
    network = network_for(plan, ROOT / plan.network, cache_dir=default_cache_dir())
    sites = [int(s) for s in candidate_sites(network)]
    kinds = sorted({v.kind for v in plan.visits})
    care_skills = sorted({s for v in plan.visits if v.kind == "care" for s in v.required_skills})
    clients = [c.id for c in plan.clients]
    out = []
    for i in range(n):
        double = rng.random() < 0.10
        kind = "care" if double else rng.choice([k for k in ["care", "care", "hairdressing", "delivery"] if k in kinds]
                                                or kinds)
        ask: dict[str, Any] = {"kind": kind,
                               "duration_min": rng.choice([10, 15] if kind == "delivery" else [30, 45, 60])}
        if double:
            ask["workers_required"] = 2
        if kind == "care" and care_skills and rng.random() < 0.3:
            ask["required_skills"] = [rng.choice(care_skills)]
        if rng.random() < 0.3:
            start = rng.choice(range(8, 18))
            ask["preferred_times"] = [{"start": f"{start:02d}:00", "end": f"{start + 3:02d}:00"}]
        if rng.random() < 0.10:
            site = rng.choice(sites)
            ask["client"] = {"location": {"lat": float(network.lat[site]), "lon": float(network.lon[site])},
                             "postcode": "CB1 1AA", "name": f"New resident {i}"}
        else:
            ask["client_id"] = rng.choice(clients)
        out.append(ask)
    return out


def offer_load(base: str, key: str, asks: list[dict[str, Any]], *, rate: float, clients: int,
               fresh: bool = False) -> tuple[list[float], list[float], list[str], int, int, float]:
    """Send ``asks`` as ``POST /offers``, ask *i* due at ``t0 + i / rate``, from ``clients`` threads.

    Each thread keeps one connection open (a few busy clients), or with ``fresh`` opens one per
    request (many residents, each their own): with several server processes a kept connection stays
    with the process that accepted it, a fresh one goes to whichever process accepts first.

    Returns
    -------
    tuple
        Latency of each answered request from its due time (s), its time from
        being sent (s), the errors, how many answers had offers, how many were
        sent over 50 ms after their due time (the client falling behind), and
        the wall time from the first due time to the last answer.
    """
    t0 = time.perf_counter() + 0.2
    latencies: list[float] = []
    service_s: list[float] = []
    errors: list[str] = []
    counters = {"with_offers": 0, "late": 0}
    lock = threading.Lock()
    queue = iter(range(len(asks)))
    end = [t0]

    def client() -> None:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as kept:
            while True:
                with lock:
                    i = next(queue, None)
                if i is None:
                    return
                due = t0 + i / rate
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                sent = time.perf_counter()
                try:
                    if fresh:
                        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as api:
                            response = api.post("/offers", json=asks[i])
                    else:
                        response = kept.post("/offers", json=asks[i])
                    problem = None if response.is_success else f"#{i}: {response.status_code} {response.text[:200]}"
                    has = bool(response.is_success and response.json()["offers"])
                except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                    problem, has = f"#{i}: {type(exc).__name__}: {exc}", False
                done = time.perf_counter()
                with lock:
                    latencies.append(done - due)
                    service_s.append(done - sent)
                    counters["with_offers"] += has
                    counters["late"] += sent - due > 0.05
                    end[0] = max(end[0], done)
                    if problem:
                        errors.append(problem)

    threads = [threading.Thread(target=client, name=f"offers-{n}") for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, service_s, errors, counters["with_offers"], counters["late"], end[0] - t0


@contextlib.contextmanager
def _profiling(pid: int, path: Path | None) -> Iterator[None]:
    """Sample the server with py-spy (collapsed stacks to ``path``) while the block runs, if asked and installed."""
    spy = shutil.which("py-spy")
    if path is None or spy is None:
        if path is not None:
            print("py-spy is not installed: no profile")
        yield
        return
    process = subprocess.Popen([spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "200",
                                "--output", str(path), "--nonblocking", "--threads", "--gil"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # py-spy attaches
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def run(options: Options) -> Result:
    """Start the service, publish the week, start the solve, offer the requests; return what they met."""
    setup: dict[str, float] = {}
    today = dt.datetime.now(dt.UTC).date()
    n = max(1, round(options.rate * options.duration))
    with tempfile.TemporaryDirectory(prefix="homecare-quote-service-") as tmp:
        folder = Path(tmp)
        log = options.log or folder / "server.log"
        with service(folder, log=log, workers=options.server_workers) as (base, keys, process), \
                httpx.Client(base_url=base, headers={"X-API-Key": keys["coordinator"]}, timeout=300) as api:
            t = time.perf_counter()
            plan, plan_ids = publish_week(api, visits=options.visits, seed=options.seed,
                                          search_s=options.publish_search, days=options.days, first=today)
            setup["publish_s"] = time.perf_counter() - t
            asks = requests_for(plan, n + options.warm, seed=options.seed)
            t = time.perf_counter()
            for ask in asks[n:]:  # a connection each, so that every server process may build the days
                with httpx.Client(base_url=base, headers={"X-API-Key": keys["frontdoor"]}, timeout=120) as fd:
                    fd.post("/offers", json=ask).raise_for_status()
            setup["warm_s"] = time.perf_counter() - t
            job = api.post(f"/plans/{plan_ids[0]}/jobs", json={"time_limit_s": options.solve, "seed": options.seed})
            job.raise_for_status()
            job_id = job.json()["id"]
            t = time.perf_counter()
            before = _wait_job(api, job_id, {"succeeded"}, stage="search")["state"]
            setup["solve_to_search_s"] = time.perf_counter() - t
            pids = _server_pids(process, options.server_workers)
            with _profiling(pids[0], options.profile):
                cpu, load = [_cpu_s(pid) for pid in pids], os.getloadavg()[0]
                latencies, service_s, errors, with_offers, late, wall = offer_load(
                    base, keys["frontdoor"], asks[:n], rate=options.rate, clients=options.clients,
                    fresh=options.fresh_connections)
                cpu = [_cpu_s(pid) - c for pid, c in zip(pids, cpu, strict=True)]
                load = (load, os.getloadavg()[0])
            after = api.get(f"/jobs/{job_id}").json()["state"]
            api.post(f"/jobs/{job_id}/cancel")
    return Result(latencies, service_s, errors, n, with_offers, late, wall, (before, after), setup,
                  sum(cpu), load, tuple(cpu))


def report(options: Options, result: Result) -> str:
    """The figures as printed."""
    ms = [x * 1000 for x in result.latencies_s]
    sv = [x * 1000 for x in result.service_s]
    lines = [
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"week: {options.days} dates x {options.visits} visits (seed {options.seed}); setup "
        + ", ".join(f"{k} {v:.1f}" for k, v in result.setup.items()),
        f"offered {result.offered} POST /offers at {options.rate:g}/s for {options.duration:g} s from "
        f"{options.clients} threads ({'a connection per request' if options.fresh_connections else 'a connection each'})"
        f": answered {len(ms)} in {result.wall_s:.1f} s "
        f"({len(ms) / result.wall_s:.1f}/s), {result.with_offers} with offers, {result.late_sends} sent >50 ms late",
        "| latency (ms) | p50 | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|",
        f"| from due time | {_pct(ms, 0.5):.0f} | {_pct(ms, 0.95):.0f} | {_pct(ms, 0.99):.0f} | {max(ms):.0f} |",
        f"| from send | {_pct(sv, 0.5):.0f} | {_pct(sv, 0.95):.0f} | {_pct(sv, 0.99):.0f} | {max(sv):.0f} |",
        f"server CPU during the offers ({options.server_workers} process"
        f"{'es' if options.server_workers > 1 else ''}: "
        f"{' + '.join(f'{c:.1f}' for c in result.server_cpu_each_s) or '?'} s): "
        f"{result.server_cpu_s:.1f} s, "
        f"{1000 * result.server_cpu_s / max(1, len(ms)):.0f} ms a request; load average (1 min) "
        f"{result.load[0]:.2f} at the start, {result.load[1]:.2f} at the end",
        f"errors: {len(result.errors)}" + "".join(f"\n  {e}" for e in result.errors[:10]),
        f"solve job: {result.solve_running[0]} before the first request, {result.solve_running[1]} after the last "
        f"answer: {'running throughout' if result.solve_throughout else 'NOT running throughout'}",
    ]
    return "\n".join(lines)


def main() -> None:
    """Parse the options, run, print the figures (``--json``: also as JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    d = Options()
    ap.add_argument("--visits", type=int, default=d.visits, help="visits of the generated day")
    ap.add_argument("--days", type=int, default=d.days, help="dates published, from today")
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--rate", type=float, default=d.rate, help="POST /offers offered per second")
    ap.add_argument("--duration", type=float, default=d.duration, help="seconds of offers")
    ap.add_argument("--clients", type=int, default=d.clients, help="client threads")
    ap.add_argument("--solve", type=float, default=d.solve, help="search time of the solve running meanwhile (s)")
    ap.add_argument("--publish-search", type=float, default=d.publish_search,
                    help="search time of each published date's solve (s)")
    ap.add_argument("--warm", type=int, default=d.warm, help="quotes sent before the clock starts")
    ap.add_argument("--server-workers", type=int, default=d.server_workers,
                    help="server processes (homecare serve --workers)")
    ap.add_argument("--fresh-connections", action="store_true",
                    help="a connection per request (many residents) instead of one kept per client thread")
    ap.add_argument("--profile", type=Path, help="py-spy the server during the offers: collapsed stacks here")
    ap.add_argument("--log", type=Path, help="keep the server's log here")
    ap.add_argument("--json", type=Path, help="also write the latencies and errors here")
    args = ap.parse_args()
    options = Options(visits=args.visits, days=args.days, seed=args.seed, rate=args.rate, duration=args.duration,
                      clients=args.clients, solve=args.solve, publish_search=args.publish_search, warm=args.warm,
                      profile=args.profile, log=args.log, server_workers=args.server_workers,
                      fresh_connections=args.fresh_connections)
    if options.solve < options.duration + 10:
        ap.error("--solve must outlast --duration (by 10 s at least) for the offers to meet a running solve")
    result = run(options)
    print(report(options, result))
    if args.json:
        args.json.write_text(json.dumps({**dataclasses.asdict(result), "options": {
            k: str(v) for k, v in dataclasses.asdict(options).items()}}, indent=1))


if __name__ == "__main__":
    main()
