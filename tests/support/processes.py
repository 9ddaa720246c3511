"""Run the real command line in child processes that run this checkout's code.

``processes.start(*args, env=...)`` starts ``python -m mamcrawler.cli ARGS`` with its output
in a file; every process still running at the end of the test is killed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "mamcrawler.cli"]


def cli_env(**settings: object) -> dict[str, str]:
    """The environment without the user's settings, plus `settings` (NAME=value), with
    PYTHONPATH set so the child imports the same mamcrawler as the tests."""
    from tests.support.service import clean_env  # here: plugins load in name order

    env = clean_env(**{k.upper(): str(v) for k, v in settings.items()})
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def wait_for(predicate, timeout: float = 60.0, what: str = "condition", every: float = 0.05):
    """Poll `predicate` until it is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


class Started:
    def __init__(self, proc: subprocess.Popen, log: Path) -> None:
        self.proc, self.log_path = proc, log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self) -> int:
        """Terminate (SIGTERM), kill when that is not enough; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait(10)


class Processes:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[Started] = []

    def start(self, *args: str, env: dict[str, str]) -> Started:
        log = self.workdir / f"process-{len(self.started)}.log"
        with log.open("w") as out:
            proc = subprocess.Popen([*CLI, *args], cwd=self.workdir, env=env, stdout=out,
                                    stderr=subprocess.STDOUT)
        started = Started(proc, log)
        self.started.append(started)
        return started

    def run(self, *args: str, env: dict[str, str], timeout: float = 120,
            **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([*CLI, *args], cwd=kwargs.pop("cwd", self.workdir), env=env,
                              capture_output=True, text=True, timeout=timeout, **kwargs)


@pytest.fixture
def processes(tmp_path):
    """Starts `mamcrawler` processes in tmp_path; stops any left running afterwards
    (SIGTERM first, so a `serve` also stops the demo world it started; then SIGKILL)."""
    keeper = Processes(tmp_path)
    yield keeper
    for started in keeper.started:
        started.stop()
