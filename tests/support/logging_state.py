"""Logging state around in-process CLI runs (typer.testing.CliRunner)."""

import logging

import pytest


@pytest.fixture
def root_logging():
    """The CLI sets up logging for its process (root handlers on its own stdout, quieter
    library loggers); in a test process that would drop pytest's log capture, leave a
    closed stream behind and hide DEBUG records from later tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logger.level for name, logger in logging.root.manager.loggerDict.items()
              if isinstance(logger, logging.Logger)}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, logger_level in levels.items():
        logging.getLogger(name).setLevel(logger_level)
    for name in ("httpx", "apscheduler", "alembic"):  # set by the CLI even when new
        if name not in levels:
            logging.getLogger(name).setLevel(logging.NOTSET)
