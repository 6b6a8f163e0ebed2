"""The one Jinja2 environment: filters for Italian dates, URL builders, autoescape on."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import jinja2
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Router
from starlette.templating import Jinja2Templates

from greenweb import italian
from greenweb.paths import templates_dir
from greenweb.search import MARK_END, MARK_START
from greenweb.web.site import site_of
from greenweb.web.urls import path_for


def highlight(snippet: str) -> Markup:
    """Escape a search snippet, then turn its match markers into <mark>."""
    escaped = str(escape(snippet))
    return Markup(escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


def iso(value: date | datetime) -> str:
    return value.isoformat()


def make_templates(router: Router, globals_: dict[str, Any] | None = None) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
    )

    def url(name: str, query: dict[str, Any] | None = None, **path_params: Any) -> str:
        return path_for(router, name, query, **path_params)

    env.globals["url"] = url
    env.globals.update(globals_ or {})
    env.filters["date_it"] = italian.format_date
    env.filters["day_it"] = italian.format_day
    env.filters["datetime_it"] = italian.format_datetime
    env.filters["when_it"] = italian.format_when
    env.filters["euro"] = italian.format_euro
    env.filters["int_it"] = italian.format_int
    env.filters["grams_it"] = italian.format_grams
    env.filters["days_left"] = italian.days_left_phrase
    env.filters["highlight"] = highlight
    env.filters["iso"] = iso
    return Jinja2Templates(env=env)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return site_of(request).templates.TemplateResponse(
        request, name, context or {}, status_code=status_code, headers=headers
    )
