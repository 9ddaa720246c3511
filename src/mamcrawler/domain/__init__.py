"""The pure core: plain data and decisions. Nothing here does I/O or reads globals."""
