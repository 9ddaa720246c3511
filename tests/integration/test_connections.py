"""`config check` connection tests against real peers on loopback."""

import pytest

from mamcrawler.services.connections import check_all

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def by_name(checks):
    return {c.name: c for c in checks}


def test_configured_tracker_and_qbittorrent_answer(make_settings, db_url, runtime,
                                                   tracker_sim, qbit_process):
    settings = make_settings(database_url=db_url, mam_id=tracker_sim.mam_id,
                             mam_url=tracker_sim.base_url, qb_host="127.0.0.1",
                             qb_port=qbit_process.webui_port)
    checks = by_name(check_all(settings, runtime.sessions))
    assert checks["database"].ok is True
    assert checks["tracker"].ok is True and "class" in checks["tracker"].detail
    assert checks["qbittorrent"].ok is True and "v4" in checks["qbittorrent"].detail
    assert checks["audiobookshelf"].ok is None and checks["prowlarr"].ok is None


def test_failures_name_the_setting_to_fix(make_settings, db_url, runtime, tracker_sim):
    tracker_sim.control.fail(403, count=3)
    settings = make_settings(database_url=db_url, mam_id=tracker_sim.mam_id,
                             mam_url=tracker_sim.base_url, qb_host="127.0.0.1", qb_port=9,
                             abs_url="http://127.0.0.1:9", prowlarr_url="http://127.0.0.1:9")
    checks = by_name(check_all(settings, runtime.sessions))
    assert checks["tracker"].ok is False and "MAM_ID" in checks["tracker"].detail
    assert checks["qbittorrent"].ok is False and "QB_HOST" in checks["qbittorrent"].detail
    assert checks["audiobookshelf"].ok is False and "ABS_URL" in checks["audiobookshelf"].detail
    assert checks["library folder"].ok is None
    assert checks["prowlarr"].ok is False and "PROWLARR_URL" in checks["prowlarr"].detail


def test_library_folder_and_audiobookshelf_library(make_settings, db_url, abs_fake, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    settings = make_settings(database_url=db_url, library_dir=abs_fake.folder,
                             download_dir=downloads, abs_url=abs_fake.base_url,
                             abs_token=abs_fake.token)
    checks = by_name(check_all(settings))
    assert checks["library folder"].ok and "hard-linked" in checks["library folder"].detail
    assert checks["audiobookshelf"].ok and abs_fake.library_id in checks["audiobookshelf"].detail
    assert checks["audio tools"].ok and "ffmpeg" in checks["audio tools"].detail
    missing = make_settings(database_url=db_url, library_dir=tmp_path / "nope",
                            abs_url=abs_fake.base_url, abs_token="wrong")
    checks = by_name(check_all(missing))
    assert checks["library folder"].ok is False and "LIBRARY_DIR" in checks["library folder"].detail
    assert checks["audiobookshelf"].ok is False and "ABS_TOKEN" in checks["audiobookshelf"].detail


def test_folders_of_qbittorrent_and_audiobookshelf_are_mapped_and_checked(
        make_settings, db_url, qbit_process, qbit_client, abs_fake, tmp_path):
    container, host = tmp_path / "container", tmp_path / "host"  # only host/ exists here
    (host / "downloads" / "books").mkdir(parents=True)
    qbit_client.set_preferences(save_path=f"{container}/downloads")
    qbit_client.ensure_category("mamcrawler", save_path=f"{container}/downloads/books")
    abs_fake.see_folder_as("/audiobooks")
    base = {"database_url": db_url, "qb_host": "127.0.0.1", "qb_port": qbit_process.webui_port,
            "abs_url": abs_fake.base_url, "abs_token": abs_fake.token,
            "library_dir": abs_fake.folder}
    checks = by_name(check_all(make_settings(**base)))
    default = checks["qbittorrent default folder"]
    assert default.ok is False and default.detail == (
        f"qBittorrent saves to {container}/downloads, which does not exist here; set "
        f"QB_PATH_MAP={container}/downloads=<the folder on this machine>")
    category = checks["qbittorrent category folder"]
    assert category.ok is False and "saves category mamcrawler to" in category.detail
    folder = checks["audiobookshelf folder of Audiobooks"]
    assert folder.ok is False and folder.detail == (
        "Audiobookshelf reads /audiobooks, which does not exist here; set "
        "ABS_PATH_MAP=/audiobooks=<the folder on this machine>")
    assert checks["audiobookshelf"].ok is False

    mapped = make_settings(**base, qb_path_map=f"{container}={host}",
                           abs_path_map=f"/audiobooks={abs_fake.folder}")
    checks = by_name(check_all(mapped))
    default = checks["qbittorrent default folder"]
    assert default.ok is True and default.detail == (
        f"qBittorrent saves to {container}/downloads ({host}/downloads here through "
        "QB_PATH_MAP): exists here, readable and writable; books are hard-linked into "
        "LIBRARY_DIR")
    assert checks["qbittorrent category folder"].ok is True
    assert checks["audiobookshelf folder of Audiobooks"].ok is True
    assert "readable and writable" in checks["audiobookshelf folder of Audiobooks"].detail
    assert checks["audiobookshelf"].ok is True

    with_dir = make_settings(**base, qb_path_map=f"{container}={host}",
                             download_dir=tmp_path / "nowhere")
    checks = by_name(check_all(with_dir))
    assert checks["download folder"].ok is False
    assert "DOWNLOAD_DIR" in checks["download folder"].detail
    assert checks["qbittorrent default folder"].ok is True  # reported; grabs go elsewhere
