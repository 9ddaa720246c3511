"""Secrets never reach the log output."""

import logging

from mamcrawler.logs import MASK, RedactingFilter, redact


def test_known_secret_values_are_masked():
    assert redact("token is abc123xyz here", ["abc123xyz"]) == f"token is {MASK} here"


def test_secret_looking_tokens_are_masked_without_being_known():
    text = redact("Cookie: mam_id=ROTATED.value; other=1 X-Api-Key: k3y "
                  "url?apikey=zzz&x=1 Authorization: Bearer tok")
    for leaked in ("ROTATED.value", "k3y", "zzz", "tok"):
        assert leaked not in text
    assert "other=1" in text and "x=1" in text


def test_filter_redacts_message_args_and_tracebacks(caplog):
    logger = logging.getLogger("test.redact")
    handler = logging.Handler()
    records = []
    handler.emit = records.append
    handler.addFilter(RedactingFilter(["s3cr3t-value"]))
    logger.addHandler(handler)
    try:
        logger.warning("connecting with %s", "s3cr3t-value")
        try:
            raise RuntimeError("failed with s3cr3t-value")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    rendered = [r.getMessage() for r in records]
    assert all("s3cr3t-value" not in m for m in rendered)
    assert "RuntimeError" in rendered[1]
