"""Commands of the roster service: ``homecare serve``, ``homecare keys ...`` and ``homecare db upgrade``.

Registered on the ``homecare`` command line by :mod:`homecare_cli.main`; FastAPI,
uvicorn and SQLAlchemy are imported inside the commands only.
"""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer
from rich.console import Console

console = Console(stderr=True)
out = Console()

#: Exit code of a bad setting, an unreachable database or an unknown key (``homecare``'s
#: "other errors"; 1 is an invalid plan or roster).
EXIT_ERROR = 2


def _fail(message: str) -> typer.Exit:
    """Print one error line and return the Exit to raise (code 2, no traceback)."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_ERROR)

keys_app = typer.Typer(name="keys", help="Create, list and revoke API keys.", no_args_is_help=True)
db_app = typer.Typer(name="db", help="Database schema.", no_args_is_help=True)

DbOption = Annotated[Optional[str], typer.Option("--db", help="Database URL (default: HOMECARE_DATABASE_URL, or the SQLite file HOMECARE_DB_PATH, ./homecare.db).")]  # noqa: UP007


def _settings(db: str | None):  # noqa: ANN202 - api.config.Settings, imported lazily
    """Read the service's settings, or print each bad one (by its variable) and exit 2."""
    from pydantic import ValidationError

    from api.config import Settings

    try:
        return Settings(database_url=db) if db else Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            name = f"HOMECARE_{field.upper()}" if field else "settings"
            value = f" (got {error['input']!r})" if field and not isinstance(error.get("input"), dict) else ""
            problems.append(f"{name}: {error['msg']}{value}")
        raise _fail("bad setting: " + "; ".join(problems)) from None


def _database(db: str | None):  # noqa: ANN202 - api.db.Database
    """Open the database named by ``--db`` or the settings and upgrade its schema, or print why not and exit 2."""
    return _open(_settings(db).url, upgrade=True)


def _open(url: str, *, upgrade: bool):  # noqa: ANN202 - api.db.Database
    """Open the database at ``url``, upgrading its schema or only connecting; exit 2 if it cannot be reached."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.db import Database, migrate

    try:
        database = Database(url)
        if upgrade:
            migrate(database)
        else:
            with database.engine.connect():
                pass
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise _fail(f"cannot reach the database {_safe_url(url)}: {reason}") from None
    except ImportError as exc:  # SQLAlchemy imports a URL's driver when the engine is made
        from sqlalchemy.engine import make_url

        scheme = make_url(url).drivername
        hint = ' (for PostgreSQL: pip install "homecare[postgres]")' if scheme.startswith("postgresql") else ""
        raise _fail(f"the database driver for {scheme} is not installed ({exc.name or exc}){hint}") from None
    return database


def _actor() -> str:
    """Who runs a ``keys`` command, for the audit log: ``homecare keys (<login name>)``."""
    import getpass

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        user = "unknown user"
    return f"homecare keys ({user})"


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: DbOption = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    workers: Annotated[int, typer.Option(
        min=1, max=64,
        help="Server processes answering on the port (uvicorn's workers), sharing the database and "
             "its job queue; each runs its own HOMECARE_SOLVE_WORKERS solver processes.")] = 1,
) -> None:
    """Run the roster service (OpenAPI docs at /docs)."""
    import uvicorn

    settings = _settings(db)
    if workers == 1:
        from api.main import create_app

        # Reach the database first: a wrong URL or a server that is down is one clear
        # line here, not a traceback from the app's start-up inside uvicorn.
        _open(settings.url, upgrade=False).engine.dispose()
        console.print(f"homecare roster service on http://{host}:{port} (docs at /docs), database "
                      f"{_safe_url(settings.url)}", highlight=False)
        uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level,
                    proxy_headers=False)
        return
    # Several processes: the schema is upgraded here, once, rather than by each process at once;
    # each builds its app from the environment (api.main.app_from_env), given the database here.
    _open(settings.url, upgrade=settings.migrate_on_start).engine.dispose()
    os.environ.update(HOMECARE_DATABASE_URL=settings.url, HOMECARE_MIGRATE_ON_START="false")
    console.print(f"homecare roster service on http://{host}:{port} (docs at /docs), {workers} "
                  f"server processes, database {_safe_url(settings.url)}", highlight=False)
    uvicorn.run("api.main:app_from_env", factory=True, workers=workers, host=host, port=port,
                log_level=log_level, proxy_headers=False)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="coordinator, planner, provider:<provider id>, "
                                           "worker:<provider id>:<worker id>, frontdoor or resident:<client id>.")],
    name: Annotated[str, typer.Option(help="Who holds the key (shown in the audit log).")] = "",
    db: DbOption = None,
) -> None:
    """Create an API key and print it (once: only its hash is stored); the audit log records it."""
    from api import crud

    try:
        record, key = crud.create_key(db=_database(db), role=role, name=name, actor=_actor())
    except ValueError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"created key {record.id} ({record.role}{', ' + record.name if record.name else ''}); "
                  "store it now, it cannot be shown again:", highlight=False)
    out.print(key, highlight=False, soft_wrap=True)


@keys_app.command("list")
def keys_list(db: DbOption = None) -> None:
    """List API keys (ids, roles, names; never the keys).

    A live key whose role is no longer accepted (the old ``worker:<worker id>``,
    which names no provider) is listed as ``refused``, with a note on how to
    re-issue it.
    """
    from api import crud
    from api.security import role_refusal

    notes = []
    with _database(db).session() as session:
        for k in crud.list_keys(session=session):
            refusal = None if k.revoked_at else role_refusal(k.role, key_id=k.id)
            state = "revoked" if k.revoked_at else "refused" if refusal else "live"
            out.print(f"{k.id}  {state:7}  {k.role:30}  {k.name}", highlight=False)
            if refusal:
                notes.append(f"key {k.id} answers 401: {refusal}")
    for note in notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (hc_<id>_...).")], db: DbOption = None) -> None:
    """Revoke an API key (the audit log records it)."""
    from api import crud

    if not crud.revoke_key(db=_database(db), key_id=key_id, actor=_actor()):
        raise _fail(f"no live key {key_id!r} (see homecare keys list)")
    out.print(f"revoked {key_id}", highlight=False)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Upgrade the database schema to the newest migration (``serve`` also does this on start)."""
    database = _database(db)
    out.print(f"database {_safe_url(database.url)} is up to date", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``keys`` and ``db`` to the ``homecare`` command line."""
    app.command("serve")(serve)
    app.add_typer(keys_app)
    app.add_typer(db_app)
