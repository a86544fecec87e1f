"""Ctrl-C during ``homecare solve``, for real: a subprocess on the bundled day, sent SIGINT.

It used to abort inside OR-Tools (``Check failed: 2 == searches_.size()``, exit 134,
no roster). Now the first Ctrl-C stops the search and the best roster found so far is
checked and written (exit 0); a second one quits at once without a roster (exit 130).
SIGINT goes to the whole process group, as a terminal's Ctrl-C does.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import FIXTURES

PLAN = FIXTURES / "plans" / "cambridge_weekday.json"

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")


class _Solve:
    """``homecare solve`` in its own process group, its stderr read line by line as it comes."""

    def __init__(self, out: Path, cache: Path, *args: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "homecare_cli", "solve", str(PLAN), "--out", str(out), "--cache-dir", str(cache),
             *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        self.out: list[str] = []
        self.readers = [threading.Thread(target=self._read, daemon=True),
                        threading.Thread(target=lambda: self.out.extend(self.proc.stdout), daemon=True)]
        for reader in self.readers:
            reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.err.append(line)
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if text in self.lines.get(timeout=0.2):
                    return
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
        self.kill()
        pytest.fail(f"no {text!r} on stderr: {''.join(self.err)}")

    def interrupt(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)

    def finish(self, timeout: float) -> tuple[int, str, str]:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"still running {timeout} s after Ctrl-C: {''.join(self.err)}")
        for reader in self.readers:
            reader.join(timeout=5)
        return self.proc.returncode, "".join(self.out), "".join(self.err)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def test_cli_solve_ctrl_c_stops_the_search_and_writes_the_best_roster(tmp_path, network_cache_dir):
    """First Ctrl-C mid-search (120 s limit): exit 0 within seconds, a roster that ``validate`` passes."""
    out = tmp_path / "out"
    run = _Solve(out, network_cache_dir, "--time-limit", "120")
    run.wait_for("Searching")
    time.sleep(2.0)  # the search (OR-Tools' guided local search) is under way
    sent = time.monotonic()
    run.interrupt()
    code, stdout, stderr = run.finish(timeout=30)
    assert time.monotonic() - sent < 20
    assert code == 0, stderr
    assert "Traceback" not in stderr and "Check failed" not in stderr
    assert "Stopping the search (Ctrl-C)" in stderr
    assert "Search stopped by Ctrl-C" in stdout
    meta = json.loads((out / "roster.json").read_text())["meta"]
    assert meta["interrupted"] is True and meta["search_s"] < 60
    checked = subprocess.run([sys.executable, "-m", "homecare_cli", "validate", str(PLAN), str(out / "roster.json"),
                              "--cache-dir", str(network_cache_dir)], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "valid (every rule checked)" in checked.stdout


def test_cli_solve_second_ctrl_c_quits_at_once_without_a_roster(tmp_path, network_cache_dir):
    """A second Ctrl-C quits promptly with exit 130, no roster, no traceback and no OR-Tools abort.

    The first is sent as the model is built, so that the second (sent once the first is
    acknowledged) arrives while the first roster is still being built (2 s on a 120 s limit).
    """
    out = tmp_path / "out"
    run = _Solve(out, network_cache_dir, "--time-limit", "120")
    run.wait_for("Building model")
    run.interrupt()
    run.wait_for("Stopping the search (Ctrl-C)", timeout=30)
    sent = time.monotonic()
    run.interrupt()
    code, _, stderr = run.finish(timeout=10)
    assert time.monotonic() - sent < 5
    assert code == 130, stderr
    assert "quitting without a roster" in stderr
    assert "Traceback" not in stderr and "Check failed" not in stderr
    assert not (out / "roster.json").exists()
