"""/health says `degraded`, with the reason, while writes fail - a full disk, a read-only
DATA_DIR - and `ok` again once they work; a real `serve` in each case."""

import os
import shutil
import subprocess

import httpx
import pytest

from mamcrawler.services.write_probe import write_problem
from tests.integration.test_startup_errors import AS_ROOT, UNPRIVILEGED
from tests.support.database import API_KEY, skip_or_fail
from tests.support.processes import CLI, cli_env, wait_for
from tests.support.service import free_port

TMPFS_SIZE = "16m"  # room for the database; then filled up by the test
IN_OWN_MOUNTS = ["unshare", "--user", "--map-root-user", "--mount"]


def start_serve(argv_prefix: list[str], data, tmp_path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = (tmp_path / f"serve-{port}.log").open("w")
    env = cli_env(data_dir=data, demo="false", api_key=API_KEY)
    proc = subprocess.Popen([*argv_prefix, *CLI, "serve", "--port", str(port)], cwd=tmp_path,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, port


def health(port: int) -> dict | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()["data"]
    except httpx.HTTPError:
        return None


def wait_healthy(proc, port, tmp_path) -> dict:
    def answered():
        assert proc.poll() is None, "\n".join(p.read_text() for p in tmp_path.glob("serve-*"))
        return health(port)

    return wait_for(answered, timeout=60, what="/health")


@pytest.fixture
def stopping():
    started: list[subprocess.Popen] = []
    yield started.append
    for proc in started:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_a_full_disk_makes_health_degraded(tmp_path, stopping):
    """DATA_DIR on a 16 MB tmpfs in the service's own mount namespace, filled up by the
    test through /proc/PID/root."""
    if not shutil.which("unshare") or subprocess.run(
            [*IN_OWN_MOUNTS, "true"], capture_output=True).returncode != 0:
        skip_or_fail("unshare (util-linux) cannot make a user and mount namespace here")
    data = tmp_path / "data"
    data.mkdir()
    script = f'mount -t tmpfs -o size={TMPFS_SIZE},mode=0700 tmpfs "$0" && exec "$@"'
    proc, port = start_serve([*IN_OWN_MOUNTS, "sh", "-c", script, str(data)], data, tmp_path)
    stopping(proc)
    first = wait_healthy(proc, port, tmp_path)
    assert first["status"] == "ok" and first["storage"] == "ok", first

    inside = f"/proc/{proc.pid}/root{data}"
    assert os.path.exists(f"{inside}/mamcrawler.db"), "the tmpfs is not the service's DATA_DIR"
    assert not (data / "mamcrawler.db").exists()
    filler = f"{inside}/filler"
    with open(filler, "wb") as out, pytest.raises(OSError, match="No space left"):
        while True:
            out.write(bytes(1024 * 1024))
            out.flush()
    degraded = health(port)
    assert degraded["status"] == "degraded", degraded
    assert degraded["storage"] == f"cannot write in DATA_DIR ({data}): No space left on device"
    assert degraded["database"] == "ok"  # reading still works: why SELECT 1 alone said ok

    os.unlink(filler)
    assert health(port)["status"] == "ok"


def test_a_read_only_data_dir_makes_health_degraded(tmp_path, stopping):
    """Root ignores permission bits: the service runs as root without that power."""
    if AS_ROOT and not shutil.which("setpriv"):
        pytest.skip("running as root and setpriv (util-linux) is not installed")
    data = tmp_path / "data"
    proc, port = start_serve(UNPRIVILEGED, data, tmp_path)
    stopping(proc)
    assert wait_healthy(proc, port, tmp_path)["status"] == "ok"
    data.chmod(0o500)
    try:
        degraded = health(port)
    finally:
        data.chmod(0o700)
    assert degraded["status"] == "degraded"
    assert degraded["storage"] == f"cannot write in DATA_DIR ({data}): Permission denied"
    assert health(port)["status"] == "ok"


def test_the_folder_of_a_sqlite_file_outside_data_dir_is_probed_too(make_settings, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "data").mkdir()
    settings = make_settings(database_url=f"sqlite:///{elsewhere / 'm.db'}")
    assert write_problem(settings) is None
    shutil.rmtree(elsewhere)
    assert write_problem(settings).startswith(f"cannot write in the database's folder "
                                              f"({elsewhere}): No such file")
