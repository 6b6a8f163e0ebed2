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


_TEMPLATE = """\
# carbon.txt: where to find this site's sustainability data (https://carbontxt.org/).
version = {version}

[org]
disclosures = [{{ doc_type = "web-page", url = {url}, domain = {domain}, title = {title} }}]

[upstream]
{services}
"""

_NO_PROVIDER = """\
# No hosting provider configured (GREENWEB_HOSTING_PROVIDER).
services = []"""

_DISCLOSURE_TITLE = "Impronta: peso e CO2e di ogni pagina di greenweb"


def carbon_txt(*, disclosure_url: str, hosting_provider: str) -> str:
    """A carbon.txt file: the footprint page as disclosure, the host as upstream service."""
    services = (
        f"services = [{{ domain = {_toml_string(hosting_provider)} }}]"
        if hosting_provider
        else _NO_PROVIDER
    )
    return _TEMPLATE.format(
        version=_toml_string(CARBON_TXT_VERSION),
        url=_toml_string(disclosure_url),
        domain=_toml_string(urlsplit(disclosure_url).hostname or ""),
        title=_toml_string(_DISCLOSURE_TITLE),
        services=services,
    )
