"""Watching the mock: the request journal, live events, the contract report, metrics."""
