"""API keys and roles.

A key reads ``hc_<key id>_<secret>``. The key id is public (it names the key in
the audit log and in ``homecare keys list``); the secret is 32 random bytes and
only its SHA-256 is stored, so a copy of the database reveals no usable key.
Secrets are random, not passwords, so a fast hash is enough; comparison is in
constant time.

Roles: ``coordinator``, ``planner``, ``provider:<provider id>`` and
``worker:<worker id>``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

KEY_PREFIX = "hc"
_KEY = re.compile(r"^hc_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")
_ROLE = re.compile(r"^(coordinator|planner|(provider|worker):([^\s:]{1,200}))$")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id, name and role."""

    key_id: str
    name: str
    role: str

    @property
    def kind(self) -> str:
        """``coordinator``, ``planner``, ``provider`` or ``worker``."""
        return self.role.split(":", 1)[0]

    @property
    def subject(self) -> str | None:
        """The provider or worker id of a ``provider:``/``worker:`` key, else ``None``."""
        return self.role.split(":", 1)[1] if ":" in self.role else None


def check_role(role: str) -> str:
    """Return ``role`` if it is valid.

    Raises
    ------
    ValueError
        If it is none of ``coordinator``, ``planner``, ``provider:<id>``, ``worker:<id>``.
    """
    if not _ROLE.match(role):
        raise ValueError(f"role {role!r} is not one of coordinator, planner, provider:<id>, worker:<id>")
    return role


def hash_secret(secret: str) -> str:
    """Return the SHA-256 (hex) of a key's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key() -> tuple[str, str, str]:
    """Make a new key.

    Returns
    -------
    tuple of str
        ``(key id, full key to hand out once, hash of the secret to store)``.
    """
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secret}", hash_secret(secret)


def split_key(key: str) -> tuple[str, str] | None:
    """Return ``(key id, secret)`` of a well-formed key, else ``None``."""
    match = _KEY.match(key.strip())
    return (match[1], match[2]) if match else None


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Whether ``secret`` hashes to ``stored_hash`` (constant-time comparison)."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)
