"""Run independent searches in worker processes, one per core.

OR-Tools searches hold the GIL-free C++ solver but are driven from Python and
cannot share a model, so parallel searches need processes. Forking (where the
platform has it) starts them without re-importing the caller's main module and
without pickling what the parent already holds.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def process_pool(processes: int, **kwargs: Any) -> ProcessPoolExecutor:
    """Return a pool of ``processes`` worker processes, forked where the platform allows.

    Parameters
    ----------
    processes
        Number of worker processes.
    **kwargs
        Passed to :class:`concurrent.futures.ProcessPoolExecutor` (``initializer``…).

    Returns
    -------
    ProcessPoolExecutor
        The pool; use it as a context manager.

    Raises
    ------
    OSError
        If the processes cannot be started.
    """
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context(method), **kwargs)


def map_in_processes(fn: Callable[[Any], T], items: Iterable[Any]) -> list[T]:
    """Return ``[fn(item) for item in items]``, each call in a process of its own.

    One item runs in this process, with no pool.
    """
    items = list(items)
    if len(items) <= 1:
        return [fn(item) for item in items]
    with process_pool(len(items)) as pool:
        return list(pool.map(fn, items))
