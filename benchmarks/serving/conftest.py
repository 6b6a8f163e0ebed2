"""Fixtures of the serving benchmarks (they live in serving_bench.py, importable by name)."""

from serving_bench import big_db, cached, pytest_terminal_summary, uncached

__all__ = ["big_db", "cached", "pytest_terminal_summary", "uncached"]
