"""greenweb.footprint.carbon_txt: the /carbon.txt file, valid TOML of the carbon.txt syntax."""

from __future__ import annotations

import tomllib

from greenweb.footprint.carbon_txt import carbon_txt


def test_carbon_txt_is_valid_toml_with_disclosure_and_upstream() -> None:
    text = carbon_txt(
        disclosure_url="https://greenweb.example/impronta", hosting_provider="hetzner.com"
    )
    data = tomllib.loads(text)
    assert data["version"] == "0.4"
    [disclosure] = data["org"]["disclosures"]
    assert disclosure["doc_type"] == "web-page"
    assert disclosure["url"] == "https://greenweb.example/impronta"
    assert disclosure["domain"] == "greenweb.example"
    assert data["upstream"]["services"] == [{"domain": "hetzner.com"}]
    quoted = tomllib.loads(carbon_txt(disclosure_url="https://x/", hosting_provider='a"b\\c'))
    assert quoted["upstream"]["services"] == [{"domain": 'a"b\\c'}]


def test_without_a_hosting_provider_no_service_is_listed() -> None:
    text = carbon_txt(disclosure_url="https://x/impronta", hosting_provider="")
    assert tomllib.loads(text)["upstream"]["services"] == []
    assert "# No hosting provider configured (GREENWEB_HOSTING_PROVIDER)." in text
