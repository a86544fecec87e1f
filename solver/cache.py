"""Content-hashed on-disk cache of NumPy arrays (``.npz``).

A key is the SHA-1 of everything the arrays depend on; the file is named for
it, so a changed network, speed table or location list never reuses stale data.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

log = logging.getLogger("homecare.cache")


def default_cache_dir() -> Path:
    """Return ``$XDG_CACHE_HOME/homecare`` (``~/.cache/homecare`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "homecare"


def cache_key(*parts: bytes | str | float | int | np.ndarray | Iterable[float]) -> str:
    """Return the SHA-1 (hex) of the given parts, arrays by their bytes and dtype."""
    h = hashlib.sha1()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(str(part.dtype).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(part, bytes):
            h.update(part)
        else:
            h.update(repr(part).encode())
        h.update(b"\x00")
    return h.hexdigest()


def load_arrays(cache_dir: Path | None, prefix: str, key: str) -> dict[str, np.ndarray] | None:
    """Return the arrays cached under ``prefix-key.npz``, or ``None`` on a miss."""
    if cache_dir is None:
        return None
    path = cache_dir / f"{prefix}-{key}.npz"
    if not path.exists():
        log.debug("cache miss: %s", path)
        return None
    try:
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable cache file %s: %s", path, exc)
        return None
    log.info("cache hit: %s", path)
    return arrays


def save_arrays(cache_dir: Path | None, prefix: str, key: str, **arrays: np.ndarray) -> Path | None:
    """Write arrays to ``prefix-key.npz`` atomically; return the path (``None`` without a cache)."""
    if cache_dir is None:
        return None
    path = write_npz(cache_dir / f"{prefix}-{key}.npz", arrays)
    log.info("cache written: %s", path)
    return path


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` to ``path`` atomically, safe against other writers of the same file.

    Each call saves to a temporary file of its own in the same folder, then
    renames it into place, so readers never see half a file and two solves (or
    threads) that fill the same cache entry at once do not trip over each other.

    Returns
    -------
    Path
        ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name + ".", suffix=".tmp",
                                     delete=False) as f:
        tmp = Path(f.name)
        np.savez(f, **arrays)
    tmp.replace(path)
    return path
