"""The figures of issue 8, each a function of the run's context returning its results."""
