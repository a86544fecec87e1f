"""Make sure the browser tests have a chromium and axe-core; the README's test command runs this before pytest.

Usage, from the checkout with the virtualenv active::

    python -m tests.chromium && pytest

The coordinator board's browser tests (``tests/api/test_board_browser.py``) drive a headless
chromium through Playwright, without downloading one: ``$HOMECARE_CHROMIUM``, or Debian's
package at ``/usr/bin/chromium``. When neither is there, this installs Debian's ``chromium``
(``apt-get update``, then ``apt-get install -y chromium``) as root, or through ``sudo`` for
anybody else, and says clearly what to do when neither is possible.

The /book page's browser tests (``tests/api/test_book_browser.py``) also check the page with
axe-core, pinned in ``tests/package.json`` and ``tests/package-lock.json``: when
``tests/node_modules/axe-core/axe.min.js`` is missing, this runs ``npm ci`` in ``tests/`` (the
folder is ignored by git), and says what to do when there is no npm. It exits 0 when a chromium
and axe-core are ready, so that ``&& pytest`` runs the tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

#: Where Debian's ``chromium`` package puts the browser, and where the browser tests look by default.
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
#: Points the browser tests at another chromium binary.
CHROMIUM_ENV = "HOMECARE_CHROMIUM"
#: Exit code when the tests cannot run because no chromium can be had (pytest uses 0 to 5).
NO_CHROMIUM_EXIT = 6
#: Exit code when axe-core is missing and cannot be installed (no npm).
NO_AXE_EXIT = 7
#: The folder of the browser tests' npm packages (``package.json``, ``package-lock.json``).
NPM_FOLDER = Path(__file__).resolve().parent
#: The script the /book page's browser tests inject, installed by ``npm ci`` in :data:`NPM_FOLDER`.
AXE = NPM_FOLDER / "node_modules" / "axe-core" / "axe.min.js"
#: Points the accessibility checks at another axe.min.js (never installed to).
AXE_ENV = "HOMECARE_AXE"


def axe_path(environ: Mapping[str, str]) -> tuple[Path, bool]:
    """Return the axe-core script the browser tests inject, and whether it is the one ``npm ci`` installs."""
    named = environ.get(AXE_ENV)
    if named:
        return Path(named), False
    return AXE, True

APT_ENV = ("env", "DEBIAN_FRONTEND=noninteractive")


class ChromiumUnavailable(RuntimeError):
    """No chromium for the browser tests, and none can be installed here; the message says what to do."""


class AxeUnavailable(RuntimeError):
    """No axe-core for the accessibility checks, and no npm to install it; the message says what to do."""


def chromium_path(environ: Mapping[str, str]) -> tuple[Path, bool]:
    """Return the chromium the browser tests will drive, and whether it is Debian's default place.

    Parameters
    ----------
    environ
        The environment (``HOMECARE_CHROMIUM`` overrides :data:`DEBIAN_CHROMIUM`).
    """
    named = environ.get(CHROMIUM_ENV)
    if named:
        return Path(named), False
    return DEBIAN_CHROMIUM, True


def chromium_install_commands(chromium: Path, *, default: bool, is_root: bool, sudo: str | None,
                              apt_get: str | None) -> list[list[str]]:
    """Decide what to run so that the browser tests find a chromium.

    Parameters
    ----------
    chromium
        The binary the browser tests will launch.
    default
        Whether ``chromium`` is Debian's place (:data:`DEBIAN_CHROMIUM`), which installing the
        package fills; a path named by ``HOMECARE_CHROMIUM`` is never installed to.
    is_root
        Whether this process runs as root.
    sudo, apt_get
        Paths of ``sudo`` and ``apt-get``, or ``None`` when absent.

    Returns
    -------
    list of list of str
        The commands to run, in order: none when the chromium is there, else ``apt-get
        update`` and ``apt-get install -y chromium`` (through ``sudo`` unless root).

    Raises
    ------
    ChromiumUnavailable
        When the chromium is missing and cannot be installed here, saying why and what to do.
    """
    if chromium.is_file() and os.access(chromium, os.X_OK):
        return []
    if not default:
        raise ChromiumUnavailable(
            f"{CHROMIUM_ENV}={chromium} is not an executable file: point it at a chromium binary, or unset it "
            f"to use Debian's package at {DEBIAN_CHROMIUM} (installed by this command when missing).")
    manual = (f"install it with `sudo apt-get install -y chromium` as someone who may, or set {CHROMIUM_ENV} to "
              "a chromium binary, then run this command again")
    if apt_get is None:
        raise ChromiumUnavailable(f"no chromium at {chromium}, and no apt-get to install Debian's package: {manual}.")
    if is_root:
        prefix: list[str] = [*APT_ENV]
    elif sudo is not None:
        prefix = [sudo, *APT_ENV]
    else:
        raise ChromiumUnavailable(f"no chromium at {chromium}, and installing Debian's package needs root, but "
                                  f"this is not root and has no sudo: {manual}.")
    return [[*prefix, apt_get, "update"], [*prefix, apt_get, "install", "-y", "chromium"]]


def axe_install_commands(axe: Path, *, default: bool, folder: Path, npm: str | None) -> list[list[str]]:
    """Decide what to run so that the accessibility checks find axe-core.

    Parameters
    ----------
    axe
        The script the tests inject.
    default
        Whether ``axe`` is where ``npm ci`` puts it (:data:`AXE`); a path named by ``HOMECARE_AXE`` is
        never installed to.
    folder
        The folder with ``package.json`` and ``package-lock.json`` (:data:`NPM_FOLDER`).
    npm
        The path of ``npm``, or ``None`` when absent.

    Returns
    -------
    list of list of str
        Nothing when axe-core is there, else ``npm ci`` in ``folder`` (the locked version).

    Raises
    ------
    AxeUnavailable
        When axe-core is missing and there is no npm (or it is named by ``HOMECARE_AXE``), saying what to do.
    """
    if axe.is_file():
        return []
    if not default:
        raise AxeUnavailable(f"{AXE_ENV}={axe} is not a file: point it at axe.min.js, or unset it to use the "
                             f"axe-core this command installs in {folder}")
    if npm is None:
        raise AxeUnavailable(
            f"no axe-core at {axe}, and no npm to install it: install Node.js's npm (`sudo apt-get install -y npm`) "
            f"and run this command again, or run `npm ci` in {folder} where npm is")
    return [[npm, "ci", "--no-audit", "--no-fund", "--prefix", str(folder)]]


def main(*, environ: Mapping[str, str] | None = None, run: Callable[[list[str]], int] = subprocess.call,
         is_root: bool | None = None) -> int:
    """Install chromium if the browser tests need it.

    Parameters
    ----------
    environ
        The environment (default: ``os.environ``).
    run
        Runs one command and returns its exit code (default :func:`subprocess.call`).
    is_root
        Whether this runs as root (default: asked of the system).

    Returns
    -------
    int
        0 when a chromium and axe-core are ready; the failing install command's code if installing
        failed; :data:`NO_CHROMIUM_EXIT` when no chromium can be had, :data:`NO_AXE_EXIT` when no axe-core.
    """
    env = os.environ if environ is None else environ
    root = (os.geteuid() == 0) if is_root is None else is_root
    chromium, default = chromium_path(env)
    try:
        commands = chromium_install_commands(chromium, default=default, is_root=root,
                                             sudo=shutil.which("sudo"), apt_get=shutil.which("apt-get"))
    except ChromiumUnavailable as exc:
        print(f"tests.chromium: the board's browser tests need a chromium: {exc}", file=sys.stderr)
        return NO_CHROMIUM_EXIT
    if commands:
        print(f"tests.chromium: no chromium at {chromium}; installing Debian's chromium for the board's browser tests",
              file=sys.stderr)
    for command in commands:
        print("+ " + " ".join(command), file=sys.stderr)
        code = run(command)
        if code != 0:
            print(f"tests.chromium: `{' '.join(command)}` failed with exit code {code}; install chromium by hand "
                  f"(`sudo apt-get install -y chromium`) or set {CHROMIUM_ENV}, then run this command again",
                  file=sys.stderr)
            return code
    if commands and not chromium.is_file():
        print(f"tests.chromium: apt-get installed chromium but {chromium} is still missing; set {CHROMIUM_ENV} to the "
              "chromium binary", file=sys.stderr)
        return NO_CHROMIUM_EXIT
    return install_axe(environ=env, run=run)


def install_axe(*, environ: Mapping[str, str], run: Callable[[list[str]], int] = subprocess.call) -> int:
    """Install axe-core (``npm ci`` in :data:`NPM_FOLDER`) if the accessibility checks need it.

    Returns
    -------
    int
        0 when axe-core is ready; npm's exit code if it failed; :data:`NO_AXE_EXIT` when there is no npm.
    """
    axe, default = axe_path(environ)
    try:
        commands = axe_install_commands(axe, default=default, folder=NPM_FOLDER, npm=shutil.which("npm"))
    except AxeUnavailable as exc:
        print(f"tests.chromium: the /book page's accessibility checks need axe-core: {exc}", file=sys.stderr)
        return NO_AXE_EXIT
    for command in commands:
        print(f"tests.chromium: no axe-core at {axe}; installing the version locked in {NPM_FOLDER}", file=sys.stderr)
        print("+ " + " ".join(command), file=sys.stderr)
        code = run(command)
        if code != 0:
            print(f"tests.chromium: `{' '.join(command)}` failed with exit code {code}; run it by hand (it needs the "
                  "npm registry), then run this command again", file=sys.stderr)
            return code
    if commands and not axe.is_file():
        print(f"tests.chromium: npm ran but {axe} is still missing; check {NPM_FOLDER / 'package.json'}",
              file=sys.stderr)
        return NO_AXE_EXIT
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
