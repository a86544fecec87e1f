"""Fixtures of the service tests: one uvicorn server for the session, with keys for every role.

The server runs ``homecare serve`` in a subprocess on a free 127.0.0.1 port with a
temporary SQLite file and the test run's network cache. Tests that need a server
of their own (the crash test, schemathesis) start one with :class:`LiveServer`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.support import LiveServer, create_keys

#: Keys of the shared server. agency-x reuses care-1's worker id w1 (see ``support.agency_plan``).
ROLES = ["coordinator", "planner", "provider:care-1", "provider:care-2", "provider:agency-x",
         "worker:care-1:w1", "worker:care-2:w3", "worker:agency-x:w1", "frontdoor", "resident:c1"]


@pytest.fixture(scope="session")
def server_factory(tmp_path_factory: pytest.TempPathFactory, network_cache_dir: Path,
                   london_network) -> Iterator[Callable[..., LiveServer]]:
    """Make servers with their own database; every one is stopped at the end of the session.

    The London network is loaded (and cached) before any server starts, so the
    solver processes read it from the cache.
    """
    started: list[LiveServer] = []

    def make(name: str, **env: str) -> LiveServer:
        folder = tmp_path_factory.mktemp(f"server-{name}")
        server = LiveServer(folder / "homecare.db", network_cache_dir, folder / "server.log", **env)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server_keys(server_factory) -> tuple[LiveServer, dict[str, str]]:
    """The shared server and an API key per role (:data:`ROLES`)."""
    server = server_factory("shared", HOMECARE_MAX_VISITS="50", HOMECARE_MAX_BODY_BYTES="200000",
                            HOMECARE_MAX_TIME_LIMIT_S="120", HOMECARE_DEFAULT_TIME_LIMIT_S="1")
    keys = create_keys(server.db_url, ROLES)
    server.start()
    return server, keys


@pytest.fixture(scope="session")
def server(server_keys) -> LiveServer:
    """The shared running server."""
    return server_keys[0]


@pytest.fixture(scope="session")
def keys(server_keys) -> dict[str, str]:
    """API keys of the shared server by role."""
    return server_keys[1]


@pytest.fixture
def as_role(server: LiveServer, keys: dict[str, str]) -> Iterator[Callable[[str | None], httpx.Client]]:
    """Return an HTTP client of the shared server for a role (``None``: no key); closed after the test."""
    clients: list[httpx.Client] = []

    def make(role: str | None) -> httpx.Client:
        api = server.client(keys[role] if role else None)
        clients.append(api)
        return api

    yield make
    for api in clients:
        api.close()


@pytest.fixture
def coordinator(as_role) -> httpx.Client:
    """A coordinator's client of the shared server."""
    return as_role("coordinator")
