"""How a job run ended. The CLI's exit codes and the API's filter are built from this."""

from __future__ import annotations

from enum import StrEnum


class RunOutcome(StrEnum):
    RUNNING = "running"  # not finished yet
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"  # another process was running the same job
    NOT_CONFIGURED = "not_configured"  # the feature is not built or not set up
    # The process running it stopped (killed, crashed, Ctrl-C) before it finished.
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self is not RunOutcome.RUNNING
