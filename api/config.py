"""Settings of the roster service, read from the environment (prefix ``HOMECARE_``).

This is the only module of ``homecare`` that reads the environment. Everything
else receives a :class:`Settings` (or values taken from it) as an argument.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROLES_HELP = "coordinator, planner, provider:<provider id> or worker:<provider id>:<worker id>"


class Settings(BaseSettings):
    """How the service runs: where it stores data, how it solves, what it accepts.

    Every field can be set from the environment as ``HOMECARE_<FIELD>`` (for
    example ``HOMECARE_DATABASE_URL``) or from a ``.env`` file in the current folder.
    """

    model_config = SettingsConfigDict(env_prefix="HOMECARE_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="Any SQLAlchemy URL (sqlite:///..., postgresql+psycopg://...); overrides db_path.")
    db_path: Path = Field(default=Path("homecare.db"), description="SQLite file used when database_url is unset.")
    cache_dir: Path | None = Field(
        default=None, description="Cache of road networks and travel matrices (default ~/.cache/homecare).")
    solve_workers: int = Field(default=1, ge=1, le=64,
                               description="Solver processes running at once, per server process.")
    default_time_limit_s: float = Field(default=30.0, gt=0, description="Search time when a job names none (s).")
    max_time_limit_s: float = Field(default=600.0, gt=0, description="Longest search a job may ask for (s).")
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, description="Largest request body (bytes).")
    max_visits: int = Field(default=5000, ge=1, description="Most visits a plan may hold.")
    max_queued_jobs: int = Field(
        default=100, ge=1, description="Most jobs waiting for a solver process, over every server of the "
                                       "database; further jobs answer 429.")
    job_lease_s: float = Field(
        default=30.0, gt=0, le=3600,
        description="How long a running job stays its server's without a heartbeat (s); a job whose lease "
                    "has run out is marked interrupted by any server of the database.")
    job_heartbeat_s: float = Field(
        default=5.0, gt=0, le=600,
        description="How often a server renews the leases of its running jobs and looks for jobs queued "
                    "through other servers (s).")
    max_workers: int = Field(default=500, ge=1, description="Most workers a plan may hold.")
    max_providers: int = Field(default=100, ge=1, description="Most providers a plan may hold.")
    max_clients: int = Field(default=5000, ge=1, description="Most clients a plan may hold.")
    max_history: int = Field(default=100_000, ge=0, description="Most history entries a plan may hold.")
    max_list_items: int = Field(
        default=200, ge=1,
        description="Most items in one list field of a record (skills, tasks, preferred or excluded "
                    "workers, availability windows).")
    network_dir: Path | None = Field(
        default=None,
        description="Folder of the road networks (OSM XML or GraphML files) plans may name, by file name "
                    "(default: the bundled networks).")
    migrate_on_start: bool = Field(default=True, description="Upgrade the database schema when the service starts.")

    @field_validator("database_url")
    @classmethod
    def _url_not_blank(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _limits_consistent(self) -> Settings:
        if self.default_time_limit_s > self.max_time_limit_s:
            raise ValueError(
                f"default_time_limit_s ({self.default_time_limit_s}) exceeds max_time_limit_s "
                f"({self.max_time_limit_s})")
        if self.job_heartbeat_s * 2 > self.job_lease_s:
            raise ValueError(
                f"job_lease_s ({self.job_lease_s}) must be at least twice job_heartbeat_s "
                f"({self.job_heartbeat_s}), so that one late heartbeat does not lose a running job")
        return self

    @property
    def url(self) -> str:
        """The database URL in force: ``database_url``, or a SQLite URL for ``db_path``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.db_path.expanduser().resolve()}"

    def network_folder(self) -> Path:
        """Return the folder of the road networks plans may name: ``network_dir`` or the bundled one."""
        if self.network_dir is not None:
            return self.network_dir.expanduser().resolve()
        from scheduler.bundled import bundled_roots

        roots = bundled_roots()
        return (roots[0] if roots else Path(".")).resolve() / "fixtures" / "networks"

    def solver_cache_dir(self) -> Path:
        """Return the network and matrix cache folder in force."""
        from solver.cache import default_cache_dir

        return self.cache_dir if self.cache_dir is not None else default_cache_dir()


@lru_cache
def get_settings() -> Settings:
    """Return the settings read from the environment, once per process."""
    return Settings()
