"""API keys and roles.

A key reads ``hc_<key id>_<secret>``. The key id is public (it names the key in
the audit log and in ``homecare keys list``); the secret is 32 random bytes and
only its SHA-256 is stored, so a copy of the database reveals no usable key.
Secrets are random, not passwords, so a fast hash is enough; comparison is in
constant time.

Roles: ``coordinator``, ``planner``, ``provider:<provider id>``,
``worker:<provider id>:<worker id>``, and for the front door (offers and
bookings, ``api.routes.frontdoor``) ``frontdoor`` (the council's contact
centre: any resident, sees providers) and ``resident:<client id>`` (their own
offers, bookings and visits only; never worker ids or other clients).

A worker is named by its provider **and** its id: worker ids are unique inside
one plan only, and two agencies planning the same date may both have a ``w1``.
Every look-up for a worker key matches both (:attr:`Principal.provider_id`,
:attr:`Principal.worker_id`). Keys made before this rule carry the role
``worker:<worker id>``; they no longer authenticate anybody
(:func:`role_refusal` says why and how to re-issue them), and they are not
migrated, since nothing recorded says which provider the holder works for.
Ids in a role may not contain ``:`` or white space, and a role is at most
:data:`MAX_ROLE_LENGTH` characters.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

KEY_PREFIX = "hc"
#: Longest role (the ``role`` columns hold 200 characters).
MAX_ROLE_LENGTH = 200
_KEY = re.compile(r"^hc_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")
_ID = r"[^\s:]{1,200}"
_ROLE = re.compile(rf"^(coordinator|planner|frontdoor|provider:({_ID})|worker:({_ID}):({_ID})|resident:({_ID}))$")
_OLD_WORKER_ROLE = re.compile(rf"^worker:({_ID})$")
ROLE_FORMS = ("coordinator, planner, provider:<provider id>, worker:<provider id>:<worker id>, frontdoor, "
              "resident:<client id>")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id, name and role."""

    key_id: str
    name: str
    role: str

    @property
    def kind(self) -> str:
        """``coordinator``, ``planner``, ``provider``, ``worker``, ``frontdoor`` or ``resident``."""
        return self.role.split(":", 1)[0]

    @property
    def provider_id(self) -> str | None:
        """The provider of a ``provider:`` or ``worker:`` key, else ``None``."""
        match = _ROLE.match(self.role)
        if match is None:
            return None
        return match[2] or match[3]

    @property
    def worker_id(self) -> str | None:
        """The worker of a ``worker:`` key, else ``None``."""
        match = _ROLE.match(self.role)
        return match[4] if match else None

    @property
    def client_id(self) -> str | None:
        """The client of a ``resident:`` key, else ``None``."""
        match = _ROLE.match(self.role)
        return match[5] if match else None

    @property
    def subject(self) -> str | None:
        """The provider id of a ``provider:`` key, the worker id of a ``worker:`` key, else ``None``."""
        return self.worker_id if self.kind == "worker" else self.provider_id


def role_refusal(role: str, *, key_id: str = "KEY_ID") -> str | None:
    """Return why a stored role may no longer be used, or ``None`` if it is valid.

    Parameters
    ----------
    role
        The role of a stored key.
    key_id
        The key's id, named in the ``homecare keys revoke`` the message suggests
        (a placeholder when the reader holds the key but may not know its id).

    Returns
    -------
    str or None
        For a key of the old form ``worker:<worker id>``, a message saying how to
        re-issue it (``homecare keys create --role worker:<provider id>:<worker id>``).
    """
    if _ROLE.match(role) and len(role) <= MAX_ROLE_LENGTH:
        return None
    old = _OLD_WORKER_ROLE.match(role)
    if old:
        return (f"this API key has the role {role!r}, which does not name the worker's provider, and is no "
                f"longer accepted; ask a coordinator to revoke it (homecare keys revoke {key_id}) and create a new "
                f"one with homecare keys create --role worker:<provider id>:{old[1]}")
    return f"this API key has the role {role!r}, which is not one of {ROLE_FORMS}; ask a coordinator for a new key"


def check_role(role: str) -> str:
    """Return ``role`` if it is valid.

    Raises
    ------
    ValueError
        If it is none of ``coordinator``, ``planner``, ``provider:<provider id>``,
        ``worker:<provider id>:<worker id>``, ``frontdoor``, ``resident:<client id>``, or is too long. The message of the
        old form ``worker:<worker id>`` names the form to use instead.
    """
    if len(role) > MAX_ROLE_LENGTH:
        raise ValueError(f"role is {len(role)} characters long; at most {MAX_ROLE_LENGTH} are allowed")
    if _ROLE.match(role):
        return role
    old = _OLD_WORKER_ROLE.match(role)
    if old:
        raise ValueError(f"role {role!r} must name the worker's provider too: worker:<provider id>:{old[1]} "
                         f"(two providers may both have a worker {old[1]!r})")
    raise ValueError(f"role {role!r} is not one of {ROLE_FORMS} (ids without ':' or spaces)")


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
