"""The module uvicorn imports: ``greenweb.web.asgi:app``, built from the environment."""

from greenweb.config import Settings
from greenweb.web.app import create_app

app = create_app(Settings.from_env())
