"""One Apprise object for the configured URLs; a notice that cannot be sent is logged."""

from __future__ import annotations

import logging
import re

import apprise

log = logging.getLogger("mamcrawler.notify")


def split_urls(text: str) -> list[str]:
    """NOTIFY_URLS: Apprise URLs separated by spaces, commas or new lines."""
    return [u for u in re.split(r"[\s,]+", text or "") if u]


class AppriseSender:
    """Satisfies `services.notify.Notifier`. Never raises: Apprise reports failure as False."""

    def __init__(self, urls: list[str]) -> None:
        self._apprise = apprise.Apprise()
        self.count = 0
        for url in urls:
            if self._apprise.add(url):
                self.count += 1
            else:  # the URL itself may hold a token: name its scheme only
                log.warning("NOTIFY_URLS: %s://… is not a URL Apprise understands; skipped",
                            url.split("://", 1)[0])

    def send(self, notice) -> None:
        if not self.count:
            return
        try:
            sent = self._apprise.notify(title=notice.title, body=notice.body)
        except Exception as exc:  # a broken plugin must not stop the job that noticed
            log.warning("notification %s could not be sent: %s", notice.kind,
                        type(exc).__name__)
            return
        if not sent:
            log.warning("notification %s could not be sent to every NOTIFY_URLS target "
                        "(Apprise's log says why)", notice.kind)
