"""The benchmark harness behind ``chatkeep bench`` and ``make bench`` (docs/benchmark.md).

dataset/load build a deterministic data set through the core, server starts the real
``chatkeep serve``, loadgen drives it from another process, floor measures the same
responses without a database and the same SQL without HTTP, report/plot write the results.
"""
