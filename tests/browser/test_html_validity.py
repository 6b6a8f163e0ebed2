"""The Nu Html Checker (vnu.jar) on every page, the Atom feed's HTML content and the CSS.

Java starts slowly, so every file is checked in one ``java -jar vnu.jar`` run per session:
the pages are fetched from the real server (with their real status codes) and saved to
temporary files; each Atom entry's ``<content type="html">`` is wrapped in a minimal HTML
document, since that is where feed readers put it. Errors fail; warnings are printed.
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from support.board import token_for

pytestmark = pytest.mark.browser

ATOM = "{http://www.w3.org/2005/Atom}"
REPO = Path(__file__).resolve().parents[2]
VNU_TIMEOUT = 300
FRAGMENT_PAGE = """<!doctype html>
<html lang="it"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>{title}</h1>
{content}
</body></html>
"""


@dataclass(frozen=True)
class Message:
    kind: str  # "error", "warning", "info" or "non-document-error"
    text: str
    line: int | None
    extract: str

    def __str__(self) -> str:
        return f"  line {self.line}: {self.kind}: {self.text}\n      {self.extract.strip()!r}"


def test_numeri_feed_entry_content_is_valid_html(vnu_report: VnuReport) -> None:
    for name in vnu_report.numeri_feed_entries:
        check(vnu_report, name)


@dataclass
class VnuReport:
    files: dict[str, Path]  # name -> file checked
    messages: dict[str, list[Message]]  # name -> messages
    feed_entries: list[str]  # names of the feed-entry files
    numeri_feed_entries: list[str]  # and of the numeri's feed

    def errors(self, name: str) -> list[Message]:
        return [m for m in self.messages.get(name, []) if m.kind != "warning" and m.kind != "info"]

    def warnings(self, name: str) -> list[Message]:
        return [m for m in self.messages.get(name, []) if m.kind == "warning"]


def message_kind(raw: dict[str, Any]) -> str:
    if raw.get("type") == "info":
        return "warning" if raw.get("subType") == "warning" else "info"
    return str(raw.get("type", "error"))


def fetch(client: httpx2.Client, page: Any, cookies: dict[str, str]) -> httpx2.Response:
    """The page's HTML as the browser gets it: with the moderator's session cookie on
    moderator pages; for a form state, the answer to its form sent from the form page."""
    account = "editor" if page.editor_only else "moderator" if page.moderator else None
    headers = {"Cookie": cookies[account]} if account else {}
    response = client.get(page.path, headers=headers)
    if page.form is None:
        return response
    assert response.status_code == 200, page.path
    data = {"token": token_for(response.text, page.path), "sito_web": "", **dict(page.form.fields)}
    name, value = page.form.button
    data[name] = value
    return client.post(page.path, data=data, headers=headers)


def run_vnu(jar: Path, files: list[Path]) -> dict[str, Any]:
    done = subprocess.run(
        [
            "java",
            "-jar",
            str(jar),
            "--format",
            "json",
            "--stdout",
            "--also-check-css",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=VNU_TIMEOUT,
        check=False,
    )
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"vnu.jar gave no JSON (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return result


@pytest.fixture(scope="module")
def vnu_report(
    server: Any,
    site_pages: Any,
    moderator_state: dict[str, Any],
    editor_state: dict[str, Any],
    vnu_jar: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> VnuReport:
    folder = tmp_path_factory.mktemp("vnu")
    files: dict[str, Path] = {}
    cookies = {
        account: "; ".join(f"{c['name']}={c['value']}" for c in state["cookies"])
        for account, state in (("moderator", moderator_state), ("editor", editor_state))
    }
    with httpx2.Client(base_url=server.base_url, trust_env=False, timeout=10) as client:
        for page in site_pages:
            response = fetch(client, page, cookies)
            assert response.status_code == page.status, page.path
            files[page.name] = folder / f"{page.name}.html"
            files[page.name].write_bytes(response.content)
        feeds = {
            "feed-entry": client.get("/feed.xml"),
            "numeri-feed-entry": client.get("/bollettino/numeri/feed.xml"),
        }
    entries: list[str] = []
    numeri_entries: list[str] = []
    for prefix, feed in feeds.items():
        assert feed.status_code == 200, prefix
        for number, entry in enumerate(ET.fromstring(feed.content).iter(f"{ATOM}entry"), 1):
            content = entry.find(f"{ATOM}content")
            assert content is not None and content.get("type") == "html"
            name = f"{prefix}-{number:02d}"
            title = html.escape(entry.findtext(f"{ATOM}title") or name)
            files[name] = folder / f"{name}.html"
            files[name].write_text(
                FRAGMENT_PAGE.format(title=title, content=content.text or ""), encoding="utf-8"
            )
            (entries if prefix == "feed-entry" else numeri_entries).append(name)
    assert entries, "the feed has no entries"
    assert numeri_entries, "the numeri's feed has no entries"
    files["style.css"] = folder / "style.css"
    shutil.copyfile(REPO / "static" / "style.css", files["style.css"])

    result = run_vnu(vnu_jar, list(files.values()))
    by_url = {path.resolve().as_uri(): name for name, path in files.items()}
    messages: dict[str, list[Message]] = {name: [] for name in files}
    for raw in result.get("messages", []):
        url = raw.get("url", "")
        name = by_url.get(url) or by_url.get(url.replace("file:/", "file:///", 1), "(vnu)")
        messages.setdefault(name, []).append(
            Message(
                message_kind(raw),
                raw.get("message", ""),
                raw.get("lastLine"),
                raw.get("extract", ""),
            )
        )
    unmatched = messages.get("(vnu)", [])
    assert not unmatched, "vnu.jar reported on no known file:\n" + "\n".join(map(str, unmatched))
    return VnuReport(files, messages, entries, numeri_feed_entries=numeri_entries)


def check(report: VnuReport, name: str) -> None:
    warnings = report.warnings(name)
    if warnings:
        print(f"{name}: {len(warnings)} warning(s):\n" + "\n".join(map(str, warnings)))
    errors = report.errors(name)
    assert not errors, f"{report.files[name]} is not valid:\n" + "\n".join(map(str, errors))


def test_page_is_valid_html(site_page: Any, vnu_report: VnuReport) -> None:
    check(vnu_report, site_page.name)


def test_atom_feed_entry_content_is_valid_html(vnu_report: VnuReport) -> None:
    problems = [name for name in vnu_report.feed_entries if vnu_report.errors(name)]
    for name in vnu_report.feed_entries:
        if name not in problems:
            check(vnu_report, name)  # prints warnings only
    assert len(vnu_report.feed_entries) == 30
    assert not problems, "\n".join(
        f"{name}:\n" + "\n".join(map(str, vnu_report.errors(name))) for name in problems
    )


def test_stylesheet_is_valid_css(vnu_report: VnuReport) -> None:
    check(vnu_report, "style.css")
