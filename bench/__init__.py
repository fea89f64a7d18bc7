"""The request-budget benchmark: a simulated month of two cars, and a fleet-size scale run.

Run it with `scripts/bench`. Not part of the test suite (pytest's testpaths is `tests`).
"""
