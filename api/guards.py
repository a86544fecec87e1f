"""Refuse requests whose path or query holds a NUL character, before any route reads them.

No record of the service can hold U+0000 (PostgreSQL text refuses it, so a query
filtering on such an id answered 500 there), so a NUL in a path segment or a
query parameter can never name anything. It is answered here, once for every
route, with 422 in the service's problem form naming the parameter.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from scheduler.text import printable

NUL = "\x00"


def _shown(text: str) -> str:
    return printable(text)[:100]


def nul_problems(scope: Scope) -> list[dict[str, str | None]]:
    """Return one problem per path or query parameter holding a NUL (nothing if none does).

    Parameters
    ----------
    scope
        An ASGI HTTP scope.

    Returns
    -------
    list of dict
        Problems in the service's form (``record_kind`` ``request``).
    """
    problems: list[dict[str, str | None]] = []
    message = "contains a NUL character (U+0000), which no id or value of this service holds"
    if NUL in scope.get("path", ""):
        problems.append({"record_kind": "request", "record_id": "path", "field": None,
                         "message": f"the path {message}"})
    query = scope.get("query_string", b"").decode("utf-8", "replace")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if NUL in name or NUL in value:
            problems.append({"record_kind": "request", "record_id": "query", "field": _shown(name),
                             "message": f"query parameter {_shown(name)!r} {message}"})
    return problems


class NulGuard:
    """ASGI middleware answering 422 to a request with a NUL in its path or query.

    Parameters
    ----------
    app
        The application.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problems = nul_problems(scope)
            if problems:
                body = json.dumps({"detail": problems}).encode()
                await send({"type": "http.response.start", "status": 422,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
