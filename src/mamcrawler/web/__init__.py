"""The dashboard: server-rendered pages (Jinja2) with their assets, in the API's app."""

from .pages import install

__all__ = ["install"]
