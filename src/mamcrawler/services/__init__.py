"""Use cases: the only place where adapters, the store and the pure core meet."""
