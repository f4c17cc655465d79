"""Persistence: one SQLite database (in memory, or a file with --db) and its repositories."""
