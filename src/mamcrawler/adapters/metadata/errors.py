"""The one exception family of the metadata sources.

Every error names its source (`source`, the adapter's `name`) and says what the user can
check, so a job or the API can show ``str(exc)`` as it is. Keys and tokens never appear
in a message.
"""

from __future__ import annotations


class MetadataError(Exception):
    """Base of every metadata-source failure; `status` is the HTTP status if there was one."""

    def __init__(self, source: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.source = source
        self.status = status


class MetadataUnavailable(MetadataError):
    """Nothing usable answered: connection refused, timeout, 5xx after retries, refusal."""


class MetadataRateLimited(MetadataError):
    """The source asked us to slow down and the wait allowed has run out.

    `retry_after` is the source's own wait in seconds when it sent one.
    """

    def __init__(self, source: str, message: str, *, retry_after: float | None = None,
                 status: int | None = 429) -> None:
        super().__init__(source, message, status=status)
        self.retry_after = retry_after


class MetadataBadResponse(MetadataError):
    """The answer is not what the source sends (not JSON, wrong shape, unexpected 4xx)."""


class MetadataAuthError(MetadataError):
    """The source needs a credential that is missing or was refused (Hardcover's token,
    a Google Books key)."""


class MetadataNotFound(MetadataError):
    """The thing asked for by id does not exist there (HTTP 404, NOT_FOUND,
    REGION_UNAVAILABLE). Lookups by id turn this into None."""
