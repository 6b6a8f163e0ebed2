"""Static files: fingerprinted, and precompressed once at start-up where it pays."""

from __future__ import annotations

from pathlib import Path

from greenweb.paths import static_dir
from greenweb.web.http import compression
from greenweb.web.static_files import AssetRegistry, load_assets


def test_assets_are_precompressed_once_at_start_up() -> None:
    style = load_assets()["style.css"]
    assert set(style.variants) == {"identity", "br", "gzip"}
    for coding in ("br", "gzip"):
        body, _ = style.variants[coding]
        assert compression.decode_body(body, coding) == (static_dir() / "style.css").read_bytes()


def test_small_or_binary_files_are_not_compressed(tmp_path: Path) -> None:
    folder = tmp_path
    (folder / "tiny.css").write_text("a{color:red}")
    (folder / "dot.png").write_bytes(b"\x89PNG" + bytes(600))
    registry = AssetRegistry(load_assets(folder))
    assert set(registry.by_name["tiny.css"].variants) == {"identity"}
    assert set(registry.by_name["dot.png"].variants) == {"identity"}
    assert not registry.by_name["dot.png"].negotiated
