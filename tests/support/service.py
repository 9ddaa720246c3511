"""Run the real `mamcrawler` command as a user would: in a folder with a .env."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any setting the service would read."""
    from mamcrawler.config import Settings

    names = {n.upper() for n in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    env.update(extra)
    return env


class ServiceProcess:
    def __init__(self, workdir: Path, port: int, env: dict[str, str]) -> None:
        self.workdir, self.port, self.env = workdir, port, env
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = workdir / "service.log"
        self.proc: subprocess.Popen | None = None

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "mamcrawler"), *args], cwd=self.workdir, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def start(self, *args: str) -> None:
        log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [str(BIN / "mamcrawler"), "serve", "--port", str(self.port), *args],
            cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"service exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"service did not answer in time:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def service_factory(tmp_path):
    """Makes ServiceProcess objects in a fresh folder; stops every one afterwards."""
    started: list[ServiceProcess] = []

    def make(env_text: str | None = None, **env: str) -> ServiceProcess:
        if env_text is not None:
            (tmp_path / ".env").write_text(env_text)
        service = ServiceProcess(tmp_path, free_port(), clean_env(**env))
        started.append(service)
        return service

    yield make
    for service in started:
        service.stop()
