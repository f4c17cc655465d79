"""Benchmarks of emay-mock: `python -m bench` runs every figure of docs/benchmarks.md."""
