"""``python -m greenweb``: the ``greenweb`` command."""

from __future__ import annotations

from greenweb.cli import main

raise SystemExit(main())
