"""The ``homecare`` command line, on top of every other layer.

It sits above the domain (``scheduler``), the search (``solver``) and the roster service
(``api``); none of them imports it (``tests/solver/test_layering.py``). The entry point is
:func:`homecare_cli.main.main`; ``python -m homecare_cli`` runs the same.

Modules: :mod:`~homecare_cli.main` (the app: solve, validate, generate),
:mod:`~homecare_cli.care` (pay, explain), :mod:`~homecare_cli.view` (map, ics),
:mod:`~homecare_cli.bench` (bench), :mod:`~homecare_cli.service` (serve, keys, db) and
:mod:`~homecare_cli.common` (their shared consoles, exit codes and loaders).

The package is named ``homecare_cli``, not ``cli``: a top-level ``cli`` module is common
enough among installed distributions to clash with ours.
"""
