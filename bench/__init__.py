"""Benchmarks of emay-mock: `python -m bench` runs every figure of issue 8 (see docs/benchmarks.md)."""
