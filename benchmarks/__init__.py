"""Benchmarks of preserve against its yardsticks (issue 7); see docs/performance.md.

`corpus.py` writes deterministic deposits, `run.py` times `preserve` and the yardsticks on them
and writes the report, `floor.py` is the plain-Python copy-and-hash floor, `catalog_bench.py`
the due-copy query over a million copies. Nothing here is imported by `preserve` itself.
"""
