"""Map errors to HTTP answers.

* :class:`~scheduler.errors.PlanError` → 422 ``{"detail": [problem, ...]}``, every
  problem with ``record_kind``, ``record_id``, ``field`` and ``message``;
* request bodies or parameters of the wrong shape → 422 in the same form
  (``record_kind`` ``request``);
* :class:`NotFound` → 404 (also for another provider's or worker's data, whose
  existence is not revealed);
* :class:`Conflict` → 409; a body over the size limit → 413 (see :class:`BodyLimit`);
* :class:`QueueFull` → 429 with ``Retry-After``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scheduler.errors import PlanError, Problem


class NotFound(Exception):
    """A record does not exist, or the caller may not know that it does.

    Parameters
    ----------
    kind
        Kind of record (``roster``, ``worker``...).
    record_id
        Its id.
    """

    def __init__(self, kind: str, record_id: str) -> None:
        super().__init__(f"{kind} {record_id!r} not found")


class Conflict(Exception):
    """The request cannot be done in the record's current state."""


#: The answer of every endpoint that queues a job when the queue is full, for the OpenAPI schema.
QUEUE_FULL: dict[int | str, dict[str, Any]] = {429: {
    "description": "The job queue is full (setting HOMECARE_MAX_QUEUED_JOBS); the Retry-After header says "
                   "when to try again (seconds).",
    "content": {"application/json": {"schema": {"type": "object", "required": ["detail"],
                                                "properties": {"detail": {"type": "string"}}}}}}}


class QueueFull(Exception):
    """The job queue holds as many jobs as the service allows.

    Parameters
    ----------
    limit
        The most queued jobs (setting ``HOMECARE_MAX_QUEUED_JOBS``).
    retry_after_s
        When a solver process is expected to free up (seconds).
    """

    def __init__(self, limit: int, retry_after_s: int) -> None:
        super().__init__(f"the job queue is full: this service keeps at most {limit} queued jobs "
                         f"(setting HOMECARE_MAX_QUEUED_JOBS); try again in {retry_after_s} s")
        self.limit = limit
        self.retry_after_s = retry_after_s


def problem_dict(p: Problem) -> dict[str, Any]:
    """Return a problem as JSON."""
    return {"record_kind": p.record_kind, "record_id": p.record_id, "field": p.field, "message": p.message}


def problems_response(problems: list[Problem], status_code: int = 422) -> JSONResponse:
    """Return an answer listing problems."""
    return JSONResponse({"detail": [problem_dict(p) for p in problems]}, status_code=status_code)


def _request_problem(error: dict[str, Any]) -> Problem:
    loc = [str(part) for part in error.get("loc", ())]
    where = loc[0] if loc else "request"
    field = ".".join(loc[1:]) or None
    return Problem("request", where, field, str(error.get("msg", "invalid")))


def install(app: FastAPI) -> None:
    """Register the exception handlers on an app."""

    @app.exception_handler(PlanError)
    async def _plan_error(_request: Request, exc: PlanError) -> JSONResponse:
        return problems_response(list(exc.problems))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return problems_response([_request_problem(e) for e in exc.errors()])

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(Conflict)
    async def _conflict(_request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(QueueFull)
    async def _queue_full(_request: Request, exc: QueueFull) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=429,
                            headers={"Retry-After": str(exc.retry_after_s)})


class BodyLimit:
    """ASGI middleware refusing request bodies over ``max_bytes`` with 413.

    The ``Content-Length`` header is checked first; bodies sent without one are
    counted as they arrive.

    Parameters
    ----------
    app
        The application.
    max_bytes
        Largest body accepted (bytes).
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _refusal(self, size: str) -> bytes:
        mib = self.max_bytes / (1024 * 1024)
        message = (f"the request body is {size}; this server accepts at most {self.max_bytes} bytes "
                   f"({mib:.1f} MiB, setting HOMECARE_MAX_BODY_BYTES)")
        return json.dumps({"detail": [{"record_kind": "request", "record_id": "body", "field": None,
                                       "message": message}]}).encode()

    async def _send_413(self, send: Send, size: str) -> None:
        body = self._refusal(size)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._send_413(send, f"{int(length)} bytes")
            return
        received = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Answer now, and tell the app the client left so it stops reading.
                    refused = True
                    await self._send_413(send, f"over {self.max_bytes} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:  # once refused, whatever the app answers is dropped
                await send(message)

        await self.app(scope, counting_receive, guarded_send)
