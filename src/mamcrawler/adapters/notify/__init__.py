"""Sending notices through Apprise (any of its services: ntfy, Discord, e-mail, JSON, ...)."""

from .apprise_sender import AppriseSender, split_urls

__all__ = ["AppriseSender", "split_urls"]
