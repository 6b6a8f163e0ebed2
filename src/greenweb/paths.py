"""Where templates, static files and seed data live, from a checkout or from a wheel.

A wheel carries ``templates/`` and ``static/`` inside the package; a source checkout keeps
them at the top of the repository. Both are looked up the same way, here only.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parent.parent


def _shipped(name: str) -> Path:
    inside = PACKAGE_DIR / name
    if inside.is_dir():
        return inside
    beside = CHECKOUT_DIR / name
    if beside.is_dir():
        return beside
    raise FileNotFoundError(f"greenweb cannot find its {name}/ folder (looked in {inside})")


def templates_dir() -> Path:
    return _shipped("templates")


def static_dir() -> Path:
    return _shipped("static")


def default_bulletin_dir() -> Path:
    """data/bulletin of the checkout (the importer's default source)."""
    return Path("data") / "bulletin"


def board_data_dir() -> Path:
    """Folder of topics.toml and resources.toml: inside the wheel, or data/ of the checkout."""
    inside = PACKAGE_DIR / "data"
    if (inside / "topics.toml").is_file():
        return inside
    return CHECKOUT_DIR / "data"
