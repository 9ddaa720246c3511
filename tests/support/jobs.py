"""Job fixtures shared by the scheduler and liveness tests."""

import pytest

from mamcrawler.jobs import registry


@pytest.fixture
def extra_jobs():
    """Register throw-away jobs for a test and remove them afterwards."""
    added = []

    def add(name, func, **kw):
        added.append(registry.register(registry.JobSpec(name, "test job", func, **kw)))

    yield add
    for spec in added:
        registry.JOBS.pop(spec.name, None)
