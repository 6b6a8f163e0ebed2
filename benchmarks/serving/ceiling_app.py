"""The framework's ceiling: a bare Starlette app returning fixed bytes.

``benchmarks/serving/load.py`` saves greenweb's cached home page (br body and headers) to a file
and serves it with this app under the same uvicorn settings, so the difference between the
two is exactly what greenweb adds to returning those bytes.

    CEILING_RESPONSE=/path/home.json uvicorn --app-dir benchmarks/serving ceiling_app:app
"""

from __future__ import annotations

import base64
import json
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _load() -> tuple[bytes, dict[str, str]]:
    path = os.environ.get("CEILING_RESPONSE")
    if not path:
        return b"<!doctype html><p>ceiling</p>", {"content-type": "text/html; charset=utf-8"}
    with open(path, encoding="utf-8") as handle:
        saved = json.load(handle)
    hop_by_hop = {"connection", "content-length", "date", "keep-alive", "transfer-encoding"}
    headers = {k: v for k, v in saved["headers"].items() if k not in hop_by_hop}
    return base64.b64decode(saved["body"]), headers


BODY, HEADERS = _load()


async def fixed_GET(request: Request) -> Response:
    return Response(BODY, headers=HEADERS)


app = Starlette(routes=[Route("/", fixed_GET)])
