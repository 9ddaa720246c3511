"""The schedule: one job registry, run records, locks and the APScheduler wiring."""
