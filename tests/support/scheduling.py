"""How `pytest -n` (pytest-xdist) hands the suite to its workers.

A worker takes a whole test module at a time: its module-scoped fixtures (an export, a
wheel, a server, a Nu Html Checker run, Chromium's first view of each page) are built once,
not once per worker, and its tests keep their order. The browser modules whose tests each
visit one page on their own are the exception: they go one test at a time, so both workers
share the long tail of page checks and finish together.

Units go out in collection order (tests/conftest.py puts the browser tests last), never
sorted by size: a worker must run every test that calls asyncio.run() before its first
browser test, and it does, because it gets them first.
"""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadScopeScheduling

ONE_TEST_AT_A_TIME = frozenset(
    {
        "tests/browser/test_accessibility.py",
        "tests/browser/test_board_flows.py",
        "tests/browser/test_flows.py",
        "tests/browser/test_keyboard.py",
        "tests/browser/test_screenshots.py",
    }
)


class ModulesInOrder(LoadScopeScheduling):
    def __init__(self, config: pytest.Config, log: object = None) -> None:
        config.option.loadscopereorder = False  # keep the collection order (docstring)
        super().__init__(config, log)  # type: ignore[arg-type]

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return nodeid if module in ONE_TEST_AT_A_TIME else module
