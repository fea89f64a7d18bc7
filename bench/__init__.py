"""The request-budget benchmark: a simulated month of two cars, a fleet-size scale run, and
webhook deliveries over real HTTP (delay and throughput).

Run it with `scripts/bench`. Not part of the test suite (pytest's testpaths is `tests`).
"""
