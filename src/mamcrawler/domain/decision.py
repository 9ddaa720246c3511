"""The verdict a policy answers a yes/no question with (actions are typed per policy:
`ratio_guard.ResumeSeeding`, `vip_keeper.BuyVip`, `acquisition.Grab`, ...).

It carries a human-readable reason with the numbers that led to it, so the shell can record
it and the dashboard can show it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass


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
