"""A secret file is made once: processes starting together get the same secret."""

import multiprocessing
import stat

from mamcrawler.store.secret_file import read_or_create


def _secret(path, out):
    import os

    out.put(read_or_create(path, lambda: os.urandom(8).hex())[0])


def test_made_once_private_and_kept(tmp_path):
    path = tmp_path / "data" / "key"
    first, created = read_or_create(path, lambda: "one")
    assert (first, created) == ("one", True)
    assert read_or_create(path, lambda: "two") == ("one", False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_empty_file_left_by_a_crash_is_replaced(tmp_path, monkeypatch):
    from mamcrawler.store import secret_file

    monkeypatch.setattr(secret_file, "WAIT_FOR_WRITER_S", 0.05)
    path = tmp_path / "key"
    path.write_text("")
    assert read_or_create(path, lambda: "fresh") == ("fresh", True)


def test_processes_starting_together_share_one_secret(tmp_path):
    path = tmp_path / "key"
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    workers = [context.Process(target=_secret, args=(path, out)) for _ in range(6)]
    for worker in workers:
        worker.start()
    got = {out.get(timeout=10) for _ in workers}
    for worker in workers:
        worker.join(10)
    assert got == {path.read_text().strip()}
