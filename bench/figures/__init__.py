"""The figures of docs/benchmarks.md, each a function of the run's context returning its results."""
