"""The README's test command (``python -m tests.chromium && pytest``): chromium and axe-core installed when missing.

Nothing here installs anything: the install branch is checked through the runner's decision
and a recording stand-in for ``subprocess.call``; the live runs point it at fake paths.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import chromium as runner
from tests.helpers import ROOT

APT = "/usr/bin/apt-get"
SUDO = "/usr/bin/sudo"
UPDATE = ["env", "DEBIAN_FRONTEND=noninteractive", APT, "update"]
INSTALL = ["env", "DEBIAN_FRONTEND=noninteractive", APT, "install", "-y", "chromium"]


NPM = "/usr/bin/npm"


@pytest.fixture(autouse=True)
def axe_there(tmp_path_factory, monkeypatch) -> Path:
    """axe-core is there (a stand-in file) unless a test says otherwise: the chromium tests install nothing else."""
    axe = tmp_path_factory.mktemp("axe") / "axe.min.js"
    axe.write_text("/* axe */")
    monkeypatch.setattr(runner, "AXE", axe)
    monkeypatch.delenv("HOMECARE_AXE", raising=False)
    return axe


def executable(path: Path) -> Path:
    """Write a do-nothing executable script at ``path``; return it."""
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_chromium_there_needs_nothing(tmp_path):
    """An executable chromium: nothing to install, whoever runs and whatever is at hand."""
    chromium = executable(tmp_path / "chromium")
    assert runner.chromium_install_commands(chromium, default=True, is_root=False, sudo=None, apt_get=None) == []
    assert runner.chromium_install_commands(chromium, default=False, is_root=False, sudo=None, apt_get=None) == []


def test_missing_chromium_is_installed_by_root_with_apt_get(tmp_path):
    """Root runs apt-get update and install itself, non-interactively."""
    commands = runner.chromium_install_commands(tmp_path / "chromium", default=True, is_root=True, sudo=SUDO,
                                                apt_get=APT)
    assert commands == [UPDATE, INSTALL]


def test_missing_chromium_is_installed_through_sudo_by_others(tmp_path):
    """Anybody else goes through sudo."""
    commands = runner.chromium_install_commands(tmp_path / "chromium", default=True, is_root=False, sudo=SUDO,
                                                apt_get=APT)
    assert commands == [[SUDO, *UPDATE], [SUDO, *INSTALL]]


def test_a_file_that_is_not_executable_is_missing(tmp_path):
    """A file there that cannot run counts as missing."""
    (tmp_path / "chromium").write_text("not a browser")
    commands = runner.chromium_install_commands(tmp_path / "chromium", default=True, is_root=True, sudo=None,
                                                apt_get=APT)
    assert commands == [UPDATE, INSTALL]


def test_neither_root_nor_sudo_says_what_to_do(tmp_path):
    """Not root and no sudo: an error that says how to install it or where to point the tests."""
    with pytest.raises(runner.ChromiumUnavailable, match="not root and has no sudo") as caught:
        runner.chromium_install_commands(tmp_path / "chromium", default=True, is_root=False, sudo=None, apt_get=APT)
    assert "sudo apt-get install -y chromium" in str(caught.value)
    assert "HOMECARE_CHROMIUM" in str(caught.value)


def test_no_apt_get_says_what_to_do(tmp_path):
    """No apt-get (not a Debian-like system): an error, not a failed command."""
    with pytest.raises(runner.ChromiumUnavailable, match="no apt-get"):
        runner.chromium_install_commands(tmp_path / "chromium", default=True, is_root=True, sudo=SUDO, apt_get=None)


def test_a_chromium_named_by_the_environment_is_never_installed_to(tmp_path):
    """Installing Debian's package would not fill a path the user chose: say so instead."""
    with pytest.raises(runner.ChromiumUnavailable, match=r"HOMECARE_CHROMIUM=.*is not an executable file"):
        runner.chromium_install_commands(tmp_path / "mine", default=False, is_root=True, sudo=SUDO, apt_get=APT)


def test_chromium_path_follows_the_browser_tests():
    """The same path as tests/api/test_board_browser.py: HOMECARE_CHROMIUM, else Debian's."""
    assert runner.chromium_path({}) == (Path("/usr/bin/chromium"), True)
    assert runner.chromium_path({"HOMECARE_CHROMIUM": ""}) == (Path("/usr/bin/chromium"), True)
    assert runner.chromium_path({"HOMECARE_CHROMIUM": "/opt/c/chrome"}) == (Path("/opt/c/chrome"), False)


def test_main_installs_chromium_when_missing(tmp_path, monkeypatch):
    """Missing at Debian's place: apt-get update, then install (which puts chromium there); exit 0."""
    chromium = tmp_path / "chromium"
    monkeypatch.setattr(runner, "DEBIAN_CHROMIUM", chromium)
    monkeypatch.setattr(runner.shutil, "which", lambda name: {"apt-get": APT, "sudo": SUDO}.get(name))
    ran: list[list[str]] = []

    def fake_run(command: list[str]) -> int:
        ran.append(command)
        if command[-1] == "chromium":
            executable(chromium)
        return 0

    assert runner.main(environ={}, run=fake_run, is_root=False) == 0
    assert ran == [[SUDO, *UPDATE], [SUDO, *INSTALL]]


def test_main_stops_when_the_install_fails(tmp_path, monkeypatch, capsys):
    """A failed apt-get stops the run with its exit code; no tests run."""
    monkeypatch.setattr(runner, "DEBIAN_CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(runner.shutil, "which", lambda name: {"apt-get": APT}.get(name))
    ran: list[list[str]] = []

    def fake_run(command: list[str]) -> int:
        ran.append(command)
        return 100

    assert runner.main(environ={}, run=fake_run, is_root=True) == 100
    assert ran == [UPDATE]
    assert "failed with exit code 100" in capsys.readouterr().err


def test_main_without_any_way_to_chromium_runs_no_tests(tmp_path, monkeypatch, capsys):
    """No way to install: the message, exit code 6, and nothing run."""
    monkeypatch.setattr(runner, "DEBIAN_CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(runner.shutil, "which", lambda name: {"apt-get": APT}.get(name))
    ran: list[list[str]] = []
    assert runner.main(environ={}, run=lambda c: ran.append(c) or 0, is_root=False) == runner.NO_CHROMIUM_EXIT
    assert ran == []
    assert "not root and has no sudo" in capsys.readouterr().err


def test_axe_there_needs_nothing(axe_there):
    """axe-core installed: nothing to run, npm or not."""
    assert runner.axe_install_commands(axe_there, default=True, folder=ROOT / "tests", npm=None) == []


def test_missing_axe_is_installed_with_npm_ci_from_the_lock(tmp_path):
    """Missing: ``npm ci`` in tests/, which installs the version package-lock.json pins."""
    commands = runner.axe_install_commands(tmp_path / "axe.min.js", default=True, folder=ROOT / "tests", npm=NPM)
    assert commands == [[NPM, "ci", "--no-audit", "--no-fund", "--prefix", str(ROOT / "tests")]]
    lock = (ROOT / "tests" / "package-lock.json").read_text()
    pinned = re.search(r'"axe-core": "([0-9.]+)"', (ROOT / "tests" / "package.json").read_text())
    assert pinned and f'"version": "{pinned.group(1)}"' in lock


def test_missing_axe_without_npm_says_what_to_do(tmp_path):
    """No npm: an error naming how to get it, not a failed command."""
    with pytest.raises(runner.AxeUnavailable, match="no npm") as caught:
        runner.axe_install_commands(tmp_path / "axe.min.js", default=True, folder=tmp_path, npm=None)
    assert "sudo apt-get install -y npm" in str(caught.value)


def test_an_axe_named_by_the_environment_is_never_installed_to(tmp_path):
    """HOMECARE_AXE names a file that is not there: say so, whatever npm can do."""
    assert runner.axe_path({"HOMECARE_AXE": str(tmp_path / "a.js")}) == (tmp_path / "a.js", False)
    with pytest.raises(runner.AxeUnavailable, match=r"HOMECARE_AXE=.*is not a file"):
        runner.axe_install_commands(tmp_path / "a.js", default=False, folder=tmp_path, npm=NPM)


def test_main_installs_axe_after_chromium(tmp_path, monkeypatch, axe_there):
    """Chromium there, axe-core missing: ``npm ci`` runs (and puts it there); exit 0."""
    monkeypatch.setattr(runner, "DEBIAN_CHROMIUM", executable(tmp_path / "chromium"))
    axe_there.unlink()
    monkeypatch.setattr(runner.shutil, "which", lambda name: {"npm": NPM}.get(name))
    ran: list[list[str]] = []

    def fake_run(command: list[str]) -> int:
        ran.append(command)
        axe_there.write_text("/* axe */")
        return 0

    assert runner.main(environ={}, run=fake_run, is_root=False) == 0
    assert [c[:2] for c in ran] == [[NPM, "ci"]]


def test_main_without_npm_runs_no_tests(tmp_path, monkeypatch, axe_there, capsys):
    """Chromium there, axe-core missing, no npm: the message and exit code 7, so ``&& pytest`` does not start."""
    monkeypatch.setattr(runner, "DEBIAN_CHROMIUM", executable(tmp_path / "chromium"))
    axe_there.unlink()
    monkeypatch.setattr(runner.shutil, "which", lambda name: None)
    assert runner.main(environ={}, run=lambda c: 0, is_root=False) == runner.NO_AXE_EXIT
    assert "no npm to install it" in capsys.readouterr().err


def run_module(tmp_path: Path, chromium: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tests.chromium`` from the checkout with ``HOMECARE_CHROMIUM=chromium`` (axe-core there)."""
    axe = tmp_path / "axe.min.js"
    axe.write_text("/* axe */")
    env = {**os.environ, "HOMECARE_CHROMIUM": str(chromium), "HOMECARE_AXE": str(axe)}
    return subprocess.run([sys.executable, "-m", "tests.chromium"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_command_succeeds_when_chromium_is_there(tmp_path):
    """``python -m tests.chromium`` from the checkout: chromium found, so exit 0 and nothing installed."""
    done = run_module(tmp_path, executable(tmp_path / "chromium"))
    assert done.returncode == 0, done.stderr
    assert "installing" not in done.stderr


def test_the_command_refuses_a_missing_chromium_it_may_not_install(tmp_path):
    """A missing HOMECARE_CHROMIUM is refused with exit code 6, so ``&& pytest`` does not start."""
    done = run_module(tmp_path, tmp_path / "nowhere" / "chromium")
    assert done.returncode == runner.NO_CHROMIUM_EXIT
    assert "is not an executable file" in done.stderr


def readme_commands() -> list[str]:
    """Return the commands of the README's first code block, one per line, comments dropped."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block is not None
    lines = block.group(1).splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def test_ci_runs_the_readme_test_command_as_written():
    """``.ci/run`` runs the README's second command as written (and stops if it fails)."""
    install_and_solve, install_and_test = readme_commands()
    assert install_and_solve.endswith("homecare solve")
    assert install_and_test.endswith("python -m tests.chromium && pytest")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    ci = [line for line in ci if not line.lstrip().startswith("#")]
    assert f"{{ {install_and_test}; }} || exit $?" in ci
