"""The rule for missing tools: skip with an install hint locally, fail when CI is set."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import pytest

pytestmark = pytest.mark.browser


def test_missing_tool_skips_locally_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, missing_tool: Callable[[str], NoReturn]
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        missing_tool("Chromium not found: apt-get install chromium")


def test_missing_tool_fails_when_ci_is_set(
    monkeypatch: pytest.MonkeyPatch, missing_tool: Callable[[str], NoReturn]
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set.*apt-get install chromium"):
        missing_tool("Chromium not found: apt-get install chromium")
