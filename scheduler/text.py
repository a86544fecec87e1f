"""Wording shared by every user-facing message: counts with their noun in the right number,
and text made safe to show and to store.

Domain modules (:mod:`scheduler.pay`, :mod:`scheduler.generate`), the solver's
explanations and benchmarks, the command line and the roster service all use
these, so that no message says "1 workers" or "worker(s)".
"""

from __future__ import annotations

from collections.abc import Sequence


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """Return ``n`` with its noun in the right number: ``1 visit``, ``3 visits``, ``1,000 visits``.

    Parameters
    ----------
    n
        The count.
    noun
        The singular noun.
    plural
        The plural when it is not ``noun + "s"`` (``"workers' routes"``...).

    Returns
    -------
    str
        The count and the noun.
    """
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def names(ids: Sequence[str], limit: int = 4) -> str:
    """Return the first ``limit`` of ``ids`` joined by commas, then ``and N more``: ``w1, w2, w3, w4 and 2 more``.

    Parameters
    ----------
    ids
        Ids (or short phrases) to list.
    limit
        How many to show.

    Returns
    -------
    str
        The list, shortened.
    """
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def printable(text: str) -> str:
    """Return ``text`` with lone surrogates and NUL characters escaped (``\\ud800``, ``\\x00``).

    Such text cannot be written as UTF-8 or stored in PostgreSQL; escaped, it can
    be shown in a message and kept in the audit log.
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
