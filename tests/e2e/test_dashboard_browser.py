"""The dashboard in a real browser (R21): the Debian Chromium driven by Playwright.

One browser session visits every page at 1280 and 390 px after a real grab (acquisition
against the tracker simulator, qBittorrent in memory), with no console error and no
failed request, navigates the main menu by keyboard alone, and writes a screenshot of
every page to test-artifacts/screenshots/. No page holds a secret.
"""

from __future__ import annotations

import os
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mamcrawler.domain.torrents import TransferInfo
from mamcrawler.jobs.acquisition_jobs import COMMAND_CLIENT
from mamcrawler.jobs.runner import run_job
from mamcrawler.services.compliance import STATUS_CLIENT
from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.services.wanted import add_wanted
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import AccountSnapshot, RatioGuardEvent
from tests.support.database import API_KEY
from tests.support.fake_torrent_client import FakeTorrentClient
from tests.support.processes import wait_for
from tests.support.service import free_port

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
MARKERS = {"qb_password": "MARKER-QBPASS-55c2", "abs_token": "MARKER-ABSTOKEN-0b8e",
           "prowlarr_api_key": "MARKER-PROWLARR-d41", "hardcover_token": "MARKER-HARDCOVER-9e",
           "google_books_api_key": "MARKER-GBOOKS-31",
           "notify_urls": "json://127.0.0.1:9/MARKER-NOTIFY-aa"}
PAGES = [("/", "overview"), ("/queue", "queue"), ("/library", "library"),
         ("/history", "history"), ("/jobs", "jobs"), ("/settings", "settings")]
MENU = ["Overview", "Queue", "Library", "History", "Jobs", "Settings"]


class InMemoryQbit(FakeTorrentClient):
    """The fake with what the status page asks of qBittorrent too."""

    def version(self) -> str:
        return "v4.5.2 (in memory)"

    def transfer_info(self) -> TransferInfo:
        return TransferInfo(dl_speed=1_500_000, up_speed=300_000, connection_status="connected")


def _chromium() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("the Debian chromium is missing: apt-get install chromium")
        pytest.skip("the Debian chromium is missing: apt-get install chromium")
    return CHROMIUM


@pytest.fixture
def world(make_settings, sqlite_template, tmp_path, tracker_sim):
    """A runtime on the simulator with one real grab and some account history."""
    from mamcrawler.runtime import Runtime

    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    settings = make_settings(database_url=f"sqlite:///{path}", mam_id=tracker_sim.mam_id,
                             mam_url=tracker_sim.base_url, qb_host="127.0.0.1", qb_port=9,
                             **MARKERS)
    rt = Runtime.build(settings, upgrade_db=False)
    ctx = rt.scheduler.ctx
    ctx.tracker = TrackerEndpoint(tracker_sim.base_url, tracker_sim.mam_id, 0.0)
    fake = InMemoryQbit()
    for name in (COMMAND_CLIENT, STATUS_CLIENT):
        ctx.clients.get(name, lambda: fake)
    control = tracker_sim.control
    control.post("catalogue", title="The Tidewater Clock", authors=["Owen Hale"],
                 filetype="m4b", free=True, vip=False, seeders=2)
    control.post("catalogue", title="The Tidewater Clock", authors=["Owen Hale"],
                 filetype="m4b", free=False, vip=False, seeders=60)
    with session_scope(rt.sessions) as session:
        add_wanted(session, {"title": "The Tidewater Clock", "author": "Owen Hale"})
        add_wanted(session, {"title": "A Book Nobody Uploaded", "author": "Nel Vance"})
    assert run_job(ctx, "account_check", trigger="manual").outcome == "success"
    grab = run_job(ctx, "acquisition", trigger="manual")
    assert grab.outcome == "success" and "1 grabbed" in grab.summary, grab
    [held] = fake.held
    fake.put(held, "downloading", progress=0.42, dlspeed=1_500_000, size=300 * 2**20)
    _history(rt)
    yield rt, tracker_sim
    rt.close()


def _history(rt) -> None:
    now = datetime.now(UTC)
    with session_scope(rt.sessions) as session:
        for day in range(10, 0, -1):
            session.add(AccountSnapshot(
                taken_at=now - timedelta(days=day), ratio=1.2 - day * 0.03 + (day < 4) * 0.2,
                uploaded_bytes=(200 + 10 * (10 - day)) * 2**30,
                downloaded_bytes=(180 + 5 * (10 - day)) * 2**30,
                bonus_points=20000 + 800 * (10 - day), class_name="VIP"))
        session.add(RatioGuardEvent(at=now - timedelta(days=6), from_state="normal",
                                    to_state="frozen", ratio=0.99, reason="ratio 0.99 ≤ 1.00"))
        session.add(RatioGuardEvent(at=now - timedelta(days=3), from_state="frozen",
                                    to_state="normal", ratio=1.11, reason="ratio 1.11 > 1.05"))


@pytest.fixture
def server(world):
    import uvicorn

    from mamcrawler.api.app import create_app

    rt, _ = world
    port = free_port()
    config = uvicorn.Config(create_app(rt, start_scheduler=False), host="127.0.0.1",
                            port=port, log_level="warning", lifespan="on")
    serving = uvicorn.Server(config)
    thread = threading.Thread(target=serving.run, daemon=True)
    thread.start()
    wait_for(lambda: serving.started, timeout=30, what="the dashboard server")
    yield f"http://127.0.0.1:{port}"
    serving.should_exit = True
    thread.join(timeout=30)


class Watch:
    """Every console error, page error and failed request of a page."""

    def __init__(self, page) -> None:
        self.problems: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(
            f"console: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # net::ERR_ABORTED is the browser cancelling a request because the page moved on
        # (a favicon still loading when the next page opens), not a failed request.
        page.on("requestfailed", lambda r: None if "ERR_ABORTED" in (r.failure or "")
                else self.problems.append(f"failed: {r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(
            f"HTTP {r.status}: {r.url}"))


def test_every_page_in_chromium(server, world):
    from playwright.sync_api import sync_playwright

    rt, sim = world
    secrets = [*MARKERS.values(), API_KEY, sim.mam_id]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(_chromium()), headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            watch = Watch(page)
            _sign_in(page, server)
            html = {}
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
                for path, name in PAGES:
                    page.goto(server + path)
                    page.wait_for_load_state("networkidle")
                    assert page.url == server + path, f"{path} went to {page.url}"
                    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"),
                                    full_page=True)
                    overflow = page.evaluate("document.documentElement.scrollWidth")
                    assert overflow <= width + 1, f"{path} is {overflow} px wide at {width}"
                    html[f"{path}@{width}"] = page.content()
                    if path == "/history":  # the three charts were drawn
                        assert page.locator(".chart canvas").count() == 3
            _queue_shows_the_reasons(html["/queue@1280"])
            _menu_by_keyboard(page, server)
            assert watch.problems == []
            for where, text in html.items():
                for secret in secrets:
                    assert secret not in text, f"a secret is on {where}"
        finally:
            browser.close()


def _sign_in(page, server: str) -> None:
    page.goto(server + "/queue")
    assert page.url.startswith(server + "/login")
    page.screenshot(path=str(SCREENSHOTS / "login-1280.png"))
    page.fill("#api_key", API_KEY)
    page.keyboard.press("Enter")
    page.wait_for_url(server + "/queue")


def _queue_shows_the_reasons(html: str) -> None:
    """The grab's chosen release, why, and why the other candidate lost."""
    assert "The Tidewater Clock" in html
    assert "Every candidate (2)" in html
    assert "chosen: free m4b" in html  # why the free edition was taken
    assert "ranked lower" in html and "behind #1 on cost" in html  # why the paid one lost
    assert "paid: not free on the tracker now" in html
    assert "A Book Nobody Uploaded" in html


def _menu_by_keyboard(page, server: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    seen = []
    for _ in MENU:
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.textContent"))
    assert seen == MENU
    page.keyboard.press("Shift+Tab")  # back to Jobs
    page.keyboard.press("Enter")
    page.wait_for_url(server + "/jobs")
    assert page.locator('nav a[aria-current="page"]').inner_text() == "Jobs"
