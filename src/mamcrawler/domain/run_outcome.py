"""How a job run ended. The CLI's exit codes and the API's filter are built from this."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RunOutcome(StrEnum):
    RUNNING = "running"  # not finished yet
    SUCCESS = "success"
    # Some items failed, the others were done; the run's counts say how many of each.
    PARTIAL = "partial"
    # The job raised, every item failed, or a system it needs was down (one clear error).
    FAILED = "failed"
    SKIPPED = "skipped"  # another process was running the same job
    NOT_CONFIGURED = "not_configured"  # the feature is not built or not set up
    # The process running it stopped (killed, crashed, Ctrl-C, SIGTERM) before it finished.
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self is not RunOutcome.RUNNING


@dataclass(frozen=True)
class JobReport:
    """What a job did, when it has items that can fail one by one.

    A job returns either a plain summary (it did its work: `success`) or this. `error`
    set means a system the job needs was down and the remaining items were not tried.
    """

    summary: str
    done: int = 0  # items done
    failed: int = 0  # items that failed; the run went on with the others
    error: str | None = None  # the one error that ended the run early
    unit: str = "items"  # what an item is, for messages: "books", "downloads", ...
    failures: tuple[str, ...] = ()  # what went wrong with the first failed items

    @property
    def outcome(self) -> RunOutcome:
        if self.error is not None or (self.failed and not self.done):
            return RunOutcome.FAILED
        return RunOutcome.PARTIAL if self.failed else RunOutcome.SUCCESS

    def error_text(self) -> str | None:
        """The run's error: the one that ended it, else how many items failed and why."""
        if self.error is not None:
            return self.error
        if not self.failed:
            return None
        total = self.done + self.failed
        text = (f"all {total} {self.unit} failed" if not self.done
                else f"{self.failed} of {total} {self.unit} failed")
        return text + (": " + "; ".join(self.failures[:3]) if self.failures else "")
