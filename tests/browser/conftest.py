"""Fixtures for the browser suite: tools, a real greenweb server, Chromium, the page catalogue.

Everything the browser tests need from outside Python is checked here, in one place:
Debian's Chromium, the ``playwright`` package, ``tools/browser/node_modules`` (axe-core and
the Nu Html Checker) and ``java``. Locally a missing tool skips the tests that need it with a
message saying how to install it; in CI (``CI`` set) it is a failure, so a broken install
can never pass as a green run of nothing.

The server is the real thing: ``python -m greenweb serve`` in a subprocess on a free port of
127.0.0.1, over a temporary database holding the seed bulletin plus generated items (so lists
have several pages and there are open calls and upcoming events whatever today's date is),
the question board's test data (board_seed.py) and one moderator added with
``greenweb moderator add`` as a script would, the password on stdin.

The suite's server accepts visitors' forms as soon as they are served
(``GREENWEB_TOKEN_MIN_AGE=0``): with the production minimum of 3 seconds, every preview,
validation error and vote would sleep. One flow in test_board_flows.py runs its own server
with the real default, and shows a form sent too early is refused with the text kept.

The server is started and stopped by support.servers.LiveServer, like every other real
server of the suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import pytest

from greenweb.italian import today_in_rome
from support import board_seed
from support.board_seed import EDITOR, MODERATOR, MODERATOR_PASSWORD
from support.factory import item_text
from support.servers import LiveServer, server_env

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Response

REPO = Path(__file__).resolve().parents[2]
SEED_DIR = REPO / "data" / "bulletin"
TOOLS_DIR = REPO / "tools" / "browser"
NODE_MODULES = TOOLS_DIR / "node_modules"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "artifacts" / "screenshots"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
SCHEMES = ("light", "dark")
TIMEOUT_MS = 10_000


# --- missing tools: skip locally, fail in CI ----------------------------------------------


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def missing(message: str) -> NoReturn:
    """Skip (locally) or fail (CI) a test whose tool is not installed."""
    if in_ci():
        pytest.fail(f"CI is set and a browser-test tool is missing: {message}", pytrace=False)
    pytest.skip(message)


def require_chromium() -> None:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        missing(
            f"Chromium not found at {CHROMIUM}: install Debian's package with "
            "`apt-get install chromium` (never `playwright install`: it downloads a browser)"
        )


def require_playwright() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing(
            "the Python package playwright is not installed: run `make setup` "
            "(or `.venv/bin/pip install -e '.[dev]'`)"
        )


def require_node_tool(path: Path) -> None:
    if not path.is_file():
        missing(
            f"{path.relative_to(REPO)} is missing: run `npm ci --prefix tools/browser` "
            "(needs npm: `apt-get install npm`); `make test` does it when npm is present"
        )


def require_java() -> None:
    if shutil.which("java") is None:
        missing("java not found: install it with `apt-get install default-jre-headless`")


# --- test data: the seed bulletin plus generated items ------------------------------------

GENERATED_COUNT = 30
KIND_CYCLE = ("bando", "premio", "evento", "notizia")


@dataclass(frozen=True)
class GeneratedItem:
    """One generated bulletin file: its front matter (``facts``) and its text."""

    facts: dict[str, Any]
    text: str

    @property
    def slug(self) -> str:
        return str(self.facts["slug"])

    @property
    def title(self) -> str:
        return str(self.facts["title"])

    @property
    def kind(self) -> str:
        return str(self.facts["kind"])


def generated_slug(number: int) -> str:
    return f"prova-{number:02d}-{KIND_CYCLE[(number - 1) % 4]}"


def generate_item(number: int, today: date) -> GeneratedItem:
    """One bulletin item, dated relative to ``today`` so calls stay open and events upcoming."""
    kind = KIND_CYCLE[(number - 1) % 4]
    label = {"bando": "Bando", "premio": "Premio", "evento": "Incontro", "notizia": "Notizia"}
    # Every third item speaks of sostenibilità, so searches find generated items too.
    topic = "sostenibilità ambientale" if number % 3 == 0 else "innovazione sociale"
    facts: dict[str, Any] = {
        "title": f"{label[kind]} di prova numero {number} per la comunità torinese",
        "slug": generated_slug(number),
        "kind": kind,
        "position": 12 + number,
        "tags": ["prova", topic.split()[0]],
    }
    if kind in ("bando", "premio"):
        facts |= {
            "deadline": today + timedelta(days=2 + number),
            "amount_min": 1000 * number,
            "amount_max": 5000 * number,
            "organisers": [f"Fondazione di prova {number}"],
            "contact_email": f"bando{number}@example.org",
        }
    elif kind == "evento":
        day = today + timedelta(days=number)
        facts |= {
            "starts": datetime.combine(day, dt_time(17, 30)),
            "ends": datetime.combine(day, dt_time(19)),
            "where": "Webinar",
        }
    body = (
        f"Un testo di prova sul tema della {topic}, scritto per riempire il bollettino "
        "durante i test nel browser.\n\n"
        "Il secondo paragrafo racconta chi può partecipare, come e quando: enti del terzo "
        "settore, imprese sociali, scuole e associazioni del territorio."
    )
    return GeneratedItem(facts, item_text(body=body, **facts))


# --- the server -------------------------------------------------------------------------


@dataclass
class GreenwebServer:
    """The running server (support.servers.LiveServer) and the generated items it holds."""

    live: LiveServer
    generated: list[GeneratedItem] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.live.base_url

    def url(self, path: str) -> str:
        return self.live.url(path)

    @property
    def db_path(self) -> Path:
        assert self.live.db_path is not None
        return self.live.db_path

    def first_generated(self, kind: str) -> GeneratedItem:
        return next(item for item in self.generated if item.kind == kind)


# Visitors' forms may be sent as soon as they are served: see the module docstring.
SUITE_ENV = {"GREENWEB_TOKEN_MIN_AGE": "0"}


def run_cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "greenweb", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"greenweb {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


@contextmanager
def greenweb_server(
    root: Path,
    *,
    bulletin_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
    generated: list[GeneratedItem] | None = None,
) -> Iterator[GreenwebServer]:
    """``greenweb migrate`` (+ ``import``), a moderator, the board's data, then ``serve``.

    Stopped (terminate, then kill) when the block ends, whatever happened in it.
    """
    db_path = root / "greenweb.db"
    settings = extra_env or {}
    env = server_env(db_path, **settings)
    run_cli(["migrate"], env)
    if bulletin_dir is not None:
        run_cli(["import", str(bulletin_dir)], env)
    # One account for both staff areas: the moderation and the newsroom pages; and one
    # editor alone, who meets the moderation's 403 page.
    run_cli(
        ["staff", "add", MODERATOR, "--role=moderatore", "--role=redattore"],
        env,
        stdin=MODERATOR_PASSWORD + "\n",
    )
    run_cli(["staff", "add", EDITOR, "--role=redattore"], env, stdin=MODERATOR_PASSWORD + "\n")
    board_seed.seed_board(db_path, time.time())
    live = LiveServer.greenweb(root, db_path, args=["--log-level", "warning"], **settings)
    with live:
        yield GreenwebServer(live, generated or [])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GreenwebServer]:
    """A real ``greenweb serve`` on 127.0.0.1, over the seed plus 30 generated items and the
    board's test data, with the suite's settings (SUITE_ENV)."""
    root = tmp_path_factory.mktemp("browser-server")
    bulletin_dir = root / "bulletin"
    shutil.copytree(SEED_DIR, bulletin_dir)
    today = today_in_rome()
    generated = [generate_item(n, today) for n in range(1, GENERATED_COUNT + 1)]
    for item in generated:
        (bulletin_dir / f"{item.slug}.md").write_text(item.text, encoding="utf-8")
    with greenweb_server(
        root, bulletin_dir=bulletin_dir, extra_env=SUITE_ENV, generated=generated
    ) as running:
        yield running


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., GreenwebServer]]:
    """Start another server for one test (its own database, no bulletin), e.g. with
    production settings; stopped at the end of the test."""
    with ExitStack() as stack:
        count = 0

        def start(**extra_env: str) -> GreenwebServer:
            nonlocal count
            count += 1
            root = tmp_path / f"server-{count}"
            root.mkdir()
            return stack.enter_context(greenweb_server(root, extra_env=extra_env))

        yield start


# --- Chromium -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_api() -> Iterator[Playwright]:
    require_playwright()
    require_chromium()
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture(scope="session")
def browser(playwright_api: Playwright) -> Iterator[Browser]:
    chromium = playwright_api.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield chromium
    finally:
        chromium.close()


ContextFactory = Callable[..., "BrowserContext"]


@pytest.fixture
def new_context(browser: Browser, server: GreenwebServer) -> Iterator[ContextFactory]:
    """Make browser contexts on the test server; closed at the end of the test.

    ``javascript=False`` (the default) is how every user flow runs: the site promises to work
    without JavaScript. ``javascript=True`` is only for measuring (computed styles, axe-core),
    never for driving a flow; it bypasses any Content-Security-Policy so axe can be injected.
    """
    contexts: list[BrowserContext] = []

    def make(
        *,
        javascript: bool = False,
        color_scheme: str = "light",
        viewport: str = "desktop",
        **options: Any,
    ) -> BrowserContext:
        context = browser.new_context(
            base_url=options.pop("base_url", server.base_url),
            java_script_enabled=javascript,
            bypass_csp=javascript,
            color_scheme=color_scheme,  # type: ignore[arg-type]
            viewport=VIEWPORTS[viewport],  # type: ignore[arg-type]
            locale="it-IT",
            timezone_id="Europe/Rome",
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def visitor(new_context: ContextFactory) -> Page:
    """A page in a JavaScript-disabled context, desktop size, light scheme."""
    return new_context().new_page()


@pytest.fixture(scope="session")
def axe_source() -> str:
    require_node_tool(AXE_JS)
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def vnu_jar() -> Path:
    """The Nu Html Checker's jar, once java and the npm package are known to be there."""
    require_java()
    require_node_tool(VNU_JAR)
    return VNU_JAR


# --- the page catalogue ---------------------------------------------------------------


@dataclass(frozen=True)
class FormState:
    """A page that is the answer to a form: open ``SitePage.path``, fill ``fields``
    (name -> value), press the button ``name=value`` (``button``)."""

    fields: tuple[tuple[str, str], ...]
    button: tuple[str, str]


@dataclass(frozen=True)
class SitePage:
    """A page every page-wide check visits (axe, validator, budget, screenshots)."""

    name: str
    path: str
    status: int = 200
    # The main pages also get the keyboard-only pass.
    keyboard: bool = False
    # Reached by sending a form from ``path`` rather than by its address.
    form: FormState | None = None
    # Seen logged in (whose only cookies are the session's): by the suite's staff account
    # (both roles), or with ``editor_only`` by an account holding the redattore role alone
    # (it meets the moderation's 403 page).
    moderator: bool = False
    editor_only: bool = False

    @property
    def is_home(self) -> bool:
        return self.path == "/"


ITEM_OF_KIND = {
    "bando": "call-tecnologie-sviluppo-sostenibile",
    "premio": "italian-sustainability-photo-award",
    "evento": "bottega-digitale-per-la-pmi",
    "notizia": "esiti-bando-wonder",
}

# What a visitor types in the question form for the preview and the validation error.
PREVIEW_TEXT = (
    "Perché si parla di «giustizia climatica»?\n\nChi inquina di meno non dovrebbe pagare di meno?"
)
# Like the seed's published questions about summer nights in Turin: the preview shows them.
SIMILAR_TEXT = "A Torino d'estate fa così caldo anche di notte: perché?"
# 16 characters for the browser (minlength 15), 9 once the server trims the blank lines.
TOO_SHORT_TEXT = "Fa caldo?" + "\n" * 7

# What an editor types in the newsroom's form for the preview and the validation error.
NEWSROOM_FIELDS = (
    ("title", "Bando per le reti di quartiere"),
    ("kind", "bando"),
    ("deadline", "2031-10-31"),
    ("organisers", "Comune di Torino"),
    ("amount_max", "5000"),
    ("body", "Un bando per le **reti** di quartiere.\n\nSecondo paragrafo."),
)

SITE_PAGES: tuple[SitePage, ...] = (
    SitePage("home", "/", keyboard=True),
    SitePage("bollettino", "/bollettino", keyboard=True),
    SitePage("bollettino-pagina-2", "/bollettino?page=2"),
    *(SitePage(f"bollettino-{kind}", f"/bollettino?tipo={kind}") for kind in ITEM_OF_KIND),
    *(SitePage(f"voce-{kind}", f"/bollettino/{slug}") for kind, slug in ITEM_OF_KIND.items()),
    SitePage("voce-bando-aperto", f"/bollettino/{generated_slug(1)}", keyboard=True),
    SitePage("numeri", "/bollettino/numeri", keyboard=True),
    SitePage("numero-1", "/bollettino/numeri/1", keyboard=True),
    SitePage("scadenze", "/scadenze", keyboard=True),
    SitePage("eventi", "/eventi", keyboard=True),
    SitePage("cerca", "/cerca"),
    SitePage("cerca-risultati", "/cerca?q=sostenibilit%C3%A0", keyboard=True),
    SitePage("cerca-nessun-risultato", "/cerca?q=zanzibar"),
    SitePage("cerca-errore-400", "/cerca?q=" + "a" * 201, status=400),
    # The one search: its groups (bulletin, questions, resources), one kind paginated.
    SitePage("cerca-gruppi", "/cerca?q=clima"),
    SitePage("cerca-domande", "/cerca?q=davvero&in=domande", keyboard=True),
    SitePage("cerca-risorse", "/cerca?q=clima&in=risorse"),
    SitePage("cerca-tipo-sconosciuto-400", "/cerca?q=clima&in=altro", status=400),
    SitePage("errore-400", "/bollettino?page=0", status=400),
    SitePage("errore-404", "/pagina-che-non-esiste", status=404, keyboard=True),
    SitePage("impronta", "/impronta"),
    # --- the e-mail bulletin's public pages (the suite's server has no SMTP host: the form
    # says e-mail is not available; tests/web/views/test_subscription.py covers the rest) ---
    SitePage("iscriviti", "/iscriviti", keyboard=True),
    SitePage("iscriviti-controlla", "/iscriviti/controlla"),
    SitePage("iscriviti-gestisci", "/iscriviti/gestisci"),
    SitePage("iscriviti-collegamento-non-valido", "/iscriviti/conferma/non-valido", status=400),
    # --- the question board, as visitors see it ---
    SitePage("domande", "/domande", keyboard=True),
    SitePage("domande-pagina-2", "/domande?page=2"),
    SitePage("domande-tema", "/domande?tema=clima"),
    SitePage("domande-con-risposta", "/domande?ordine=con-risposta&tema=energia"),
    SitePage("domanda", f"/domande/{board_seed.PLAIN_ID}", keyboard=True),
    SitePage("domanda-con-risposta", f"/domande/{board_seed.ANSWERED_ID}"),
    SitePage("domanda-pillola", f"/domande/{board_seed.PIECE_ID}"),
    SitePage("domanda-indirizzo-lungo", f"/domande/{board_seed.LONG_WORD_ID}"),
    SitePage("domanda-nuova", "/domande/nuova", keyboard=True),
    SitePage(
        "domanda-anteprima",
        "/domande/nuova",
        form=FormState(
            (("testo", PREVIEW_TEXT), ("nome", "Sara"), ("tema", "politica-e-societa")),
            ("anteprima", "1"),
        ),
    ),
    SitePage(
        "domanda-anteprima-simili",
        "/domande/nuova",
        form=FormState((("testo", SIMILAR_TEXT),), ("anteprima", "1")),
    ),
    SitePage(
        "domanda-da-correggere",
        "/domande/nuova",
        status=422,
        form=FormState((("testo", TOO_SHORT_TEXT),), ("invia", "1")),
    ),
    SitePage("domande-dati", "/domande/dati"),
    SitePage("domande-regole", "/domande/regole"),
    SitePage("domanda-grazie", "/domande/grazie"),
    SitePage("segnalazione-ricevuta", "/domande/segnalazione-ricevuta"),
    SitePage("risorse", "/risorse", keyboard=True),
    SitePage("risorse-filtro", "/risorse?tipo=ascoltare"),
    SitePage("pillole", "/pillole"),
    SitePage("registro", "/moderazione/registro"),
    SitePage("moderazione-accesso", "/moderazione/accesso", keyboard=True),
    # --- the moderators' side, logged in ---
    SitePage("moderazione-coda", "/moderazione", moderator=True),
    SitePage(
        "moderazione-domanda-ricevuta",
        f"/moderazione/domande/{board_seed.PENDING_ID}",
        moderator=True,
    ),
    SitePage(
        "moderazione-domanda-con-risposta",
        f"/moderazione/domande/{board_seed.ANSWERED_ID}",
        moderator=True,
        keyboard=True,
    ),
    SitePage("moderazione-risorse", "/moderazione/risorse", moderator=True),
    SitePage("moderazione-risorsa", "/moderazione/risorse/1", moderator=True),
    SitePage("moderazione-risorsa-nuova", "/moderazione/risorse/nuova", moderator=True),
    # --- the newsroom, logged in ---
    SitePage("redazione", "/redazione", moderator=True, keyboard=True),
    SitePage("redazione-pubblicate", "/redazione?stato=pubblicate", moderator=True),
    SitePage("redazione-nuova", "/redazione/nuova", moderator=True, keyboard=True),
    SitePage("redazione-voce", "/redazione/1", moderator=True),
    SitePage("redazione-revisioni", "/redazione/1/revisioni", moderator=True),
    SitePage("redazione-numeri", "/redazione/numeri", moderator=True),
    SitePage("redazione-numero-nuovo", "/redazione/numeri/nuovo", moderator=True, keyboard=True),
    SitePage("redazione-numero-pubblicato", "/redazione/numeri/1", moderator=True),
    SitePage("staff-403", "/moderazione", status=403, moderator=True, editor_only=True),
    SitePage(
        "redazione-anteprima",
        "/redazione/nuova",
        moderator=True,
        form=FormState(NEWSROOM_FIELDS, ("azione", "anteprima")),
    ),
    SitePage(
        "redazione-da-correggere",
        "/redazione/nuova",
        status=422,
        moderator=True,
        form=FormState((*NEWSROOM_FIELDS, ("deadline", "31 ottobre")), ("azione", "bozza")),
    ),
)


@pytest.fixture(scope="session")
def site_pages() -> tuple[SitePage, ...]:
    return SITE_PAGES


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``site_page`` over the catalogue (``keyboard_page`` over the main pages).

    A test module may set ``SITE_PAGE_MARKS = {"test_name": {"page-name": pytest.mark...}}``
    to mark one test on single pages, e.g. a strict xfail for a known, reported failure.
    """
    by_test: dict[str, dict[str, Any]] = getattr(metafunc.module, "SITE_PAGE_MARKS", {})
    marks = by_test.get(metafunc.function.__name__, {})
    for argname, pages in (
        ("site_page", SITE_PAGES),
        ("keyboard_page", tuple(p for p in SITE_PAGES if p.keyboard)),
    ):
        if argname in metafunc.fixturenames:
            metafunc.parametrize(
                argname,
                [
                    pytest.param(page, id=page.name, marks=marks.get(page.name, ()))
                    for page in pages
                ],
            )


# --- reaching a catalogue page: as a visitor or a moderator, by address or by a form -----

MODERATOR_COOKIE = "greenweb_moderazione"


def log_in(page: Page, name: str = MODERATOR, password: str = MODERATOR_PASSWORD) -> None:
    """Fill and send the moderators' login form, as a person would (no JavaScript)."""
    page.goto("/moderazione/accesso")
    page.get_by_label("Nome").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Entra").click()


def logged_in_state(browser: Browser, server: GreenwebServer, name: str, lands: str) -> Any:
    """Cookies of one staff session, logged in through the login form (landing on
    ``lands``)."""
    context = browser.new_context(base_url=server.base_url, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, name)
        assert page.url == server.url(lands), f"login failed: {page.url}"
        state: dict[str, Any] = dict(context.storage_state())
    finally:
        context.close()
    return state


@pytest.fixture(scope="session")
def moderator_state(browser: Browser, server: GreenwebServer) -> dict[str, Any]:
    """Cookies of one moderator session, logged in once for the whole suite through the
    login form; each moderator page's context starts from them (argon2 costs a quarter
    second a login)."""
    return dict(logged_in_state(browser, server, MODERATOR, "/moderazione"))


@pytest.fixture(scope="session")
def editor_state(browser: Browser, server: GreenwebServer) -> dict[str, Any]:
    """Cookies of the session of an account holding the redattore role alone."""
    return dict(logged_in_state(browser, server, EDITOR, "/redazione"))


@pytest.fixture
def page_context(new_context: ContextFactory, request: pytest.FixtureRequest) -> ContextFactory:
    """``page_context(site_page, **new_context_options)``: a context fit for the page, with
    the moderator's session cookie when the page is a moderator's."""

    def make(site_page: SitePage, **options: Any) -> BrowserContext:
        if site_page.editor_only:
            options["storage_state"] = request.getfixturevalue("editor_state")
        elif site_page.moderator:
            options["storage_state"] = request.getfixturevalue("moderator_state")
        return new_context(**options)

    return make


def visit(
    page: Page, site_page: SitePage, *, before_submit: Callable[[], object] | None = None
) -> Response:
    """Open a catalogue page; for a form state, fill the form and press its button.

    ``before_submit`` runs between the form page and the press (e.g. to reset a network
    log so that only the answer to the form is measured). Returns the page's response.
    """
    response = page.goto(site_page.path)
    assert response is not None
    if site_page.form is None:
        return response
    assert response.status == 200, f"{site_page.path}: {response.status}"
    for name, value in site_page.form.fields:
        if page.locator(f"select[name={name}]").count():
            page.locator(f"select[name={name}]").select_option(value)
        else:
            page.locator(f"[name={name}]").fill(value)
    if before_submit is not None:
        before_submit()
    name, value = site_page.form.button
    path = urlsplit(page.url).path
    with page.expect_response(
        lambda r: r.request.method == "POST" and urlsplit(r.url).path == path
    ) as answer:
        page.locator(f"button[name={name}][value='{value}']").click()
    page.wait_for_load_state()
    return answer.value


@pytest.fixture(scope="session")
def viewports() -> dict[str, dict[str, int]]:
    """The suite's viewport sizes by name ("phone", "desktop")."""
    return VIEWPORTS


@pytest.fixture
def visit_page() -> Callable[..., Response]:
    return visit


# --- the browser's own network log ------------------------------------------------------


@dataclass
class Transfer:
    """One request as Chromium's DevTools protocol reports it."""

    url: str
    resource_type: str
    accept_encoding: str | None = None
    status: int | None = None
    mime_type: str = ""
    content_encoding: str | None = None
    from_cache: bool = False
    # Network.loadingFinished.encodedDataLength: every byte received for this request,
    # status line and headers included, body as sent (compressed if it was).
    wire_bytes: int | None = None
    failed: str | None = None

    @property
    def done(self) -> bool:
        return self.wire_bytes is not None or self.failed is not None

    @property
    def from_network(self) -> bool:
        return not self.from_cache and self.failed is None and not self.url.startswith("data:")


class NetworkLog:
    """Records a page's requests through a CDP session (Chromium only).

    Bytes over the wire come from ``Network.loadingFinished.encodedDataLength``, which counts
    the status line, the headers and the body as received, as BUDGET.md defines transfer.
    A response served from the browser's cache (``Network.requestServedFromCache`` or
    ``fromDiskCache``) is not a network request.
    """

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.page = page
        self.transfers: dict[str, Transfer] = {}
        self.forgotten: set[str] = set()
        self.cdp = context.new_cdp_session(page)
        self.cdp.on("Network.requestWillBeSent", self._request)
        self.cdp.on("Network.requestWillBeSentExtraInfo", self._request_headers)
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.requestServedFromCache", self._cached)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.loadingFailed", self._failed)
        self.cdp.send("Network.enable")

    def _get(self, params: dict[str, Any]) -> Transfer:
        request_id = params["requestId"]
        if request_id in self.forgotten:
            # A late event of a request made before clear(): keep it out of the new record.
            return Transfer(url="", resource_type="")
        return self.transfers.setdefault(request_id, Transfer(url="", resource_type=""))

    def _request(self, params: dict[str, Any]) -> None:
        transfer = self._get(params)
        transfer.url = params["request"]["url"]
        transfer.resource_type = params.get("type", "")

    def _request_headers(self, params: dict[str, Any]) -> None:
        headers = {k.lower(): v for k, v in params["headers"].items()}
        self._get(params).accept_encoding = headers.get("accept-encoding")

    def _response(self, params: dict[str, Any]) -> None:
        transfer = self._get(params)
        response = params["response"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        transfer.status = response["status"]
        transfer.mime_type = response.get("mimeType", "")
        transfer.content_encoding = headers.get("content-encoding")
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            transfer.from_cache = True
        if response.get("fromServiceWorker"):
            transfer.from_cache = True

    def _cached(self, params: dict[str, Any]) -> None:
        self._get(params).from_cache = True

    def _finished(self, params: dict[str, Any]) -> None:
        self._get(params).wire_bytes = int(params["encodedDataLength"])

    def _failed(self, params: dict[str, Any]) -> None:
        self._get(params).failed = params.get("errorText", "failed")

    def clear(self) -> None:
        self.forgotten.update(self.transfers)
        self.transfers.clear()

    def settle(self) -> list[Transfer]:
        """Wait (at most 100 x 20 ms) until every request seen has finished or failed.

        Chromium may send a request's ``requestWillBeSentExtraInfo`` before (or without) its
        ``requestWillBeSent``; such header-only records, with no URL and no response, are
        not requests the page made and are dropped.
        """
        for _ in range(100):
            if all(t.done for t in self.transfers.values() if t.url):
                break
            self.page.wait_for_timeout(20)
        pending = [t.url for t in self.transfers.values() if t.url and not t.done]
        assert not pending, f"requests still loading: {pending}"
        return [t for t in self.transfers.values() if t.url or t.status is not None or t.done]

    def network(self) -> list[Transfer]:
        return [t for t in self.settle() if t.from_network]


@pytest.fixture
def network_log() -> Callable[[BrowserContext, Page], NetworkLog]:
    return NetworkLog


@pytest.fixture
def missing_tool() -> Callable[[str], NoReturn]:
    """The skip-or-fail rule itself, for its own test."""
    return missing
