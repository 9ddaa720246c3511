"""The two shapes every policy answers in: a verdict on one question, or an action to take.

Both carry a human-readable reason with the numbers that led to it, so the shell can record
it and the dashboard can show it unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """Yes or no to one question ("may this torrent stop?"), with the reason why."""

    allowed: bool
    reason: str

    @classmethod
    def allow(cls, reason: str) -> Verdict:
        return cls(True, reason)

    @classmethod
    def deny(cls, reason: str) -> Verdict:
        return cls(False, reason)


def _empty_params() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Action:
    """Something the shell should do. `kind` names it; `params` holds its arguments.

    `params` is copied into a read-only mapping so a recorded action cannot change later.
    """

    kind: str
    reason: str
    params: Mapping[str, Any] = field(default_factory=_empty_params)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
