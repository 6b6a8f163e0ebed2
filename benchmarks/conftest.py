"""Fixtures of footprint's benchmarks (they live in render_bench.py, importable by name)."""

from render_bench import large_site, small_site

__all__ = ["large_site", "small_site"]
