"""``/carbon.txt``: where this site's sustainability data is, for machines.

The file follows the carbon.txt syntax of the Green Web Foundation
(https://carbontxt.org/): the ``/impronta`` page as the disclosure, the hosting provider
(``GREENWEB_HOSTING_PROVIDER``) as the upstream service.
"""

from __future__ import annotations

import json
from typing import Final
from urllib.parse import urlsplit

CARBON_TXT_VERSION: Final = "0.4"
"""The carbon.txt syntax written (https://carbontxt.org/, the Green Web Foundation)."""


def _toml_string(value: str) -> str:
    # A JSON string is a valid TOML basic string: same quotes, same escapes.
    return json.dumps(value, ensure_ascii=False)


def carbon_txt(*, disclosure_url: str, hosting_provider: str) -> str:
    """A carbon.txt file: the footprint page as disclosure, the host as upstream service."""
    domain = urlsplit(disclosure_url).hostname or ""
    disclosure = (
        f"doc_type = {_toml_string('web-page')}, url = {_toml_string(disclosure_url)}, "
        f"domain = {_toml_string(domain)}, "
        f"title = {_toml_string('Impronta: peso e CO2e di ogni pagina di greenweb')}"
    )
    lines = [
        "# carbon.txt: where to find this site's sustainability data (https://carbontxt.org/).",
        f"version = {_toml_string(CARBON_TXT_VERSION)}",
        "",
        "[org]",
        f"disclosures = [{{ {disclosure} }}]",
        "",
        "[upstream]",
    ]
    if hosting_provider:
        lines.append(f"services = [{{ domain = {_toml_string(hosting_provider)} }}]")
    else:
        lines.append("# No hosting provider configured (GREENWEB_HOSTING_PROVIDER).")
        lines.append("services = []")
    return "\n".join(lines) + "\n"
