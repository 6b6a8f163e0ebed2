"""Fixtures of footprint's benchmarks (they live in render_bench.py, importable by name)."""

from render_bench import board_db, large_site, small_site

__all__ = ["board_db", "large_site", "small_site"]
