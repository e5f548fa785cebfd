"""Korean first-class: every UI text of the civil-services pages exists in Korean and English,
each key prefixed with its domain, and every key a template or script asks for is there."""

from __future__ import annotations

import json
import re
from importlib import resources

from smartseoul.web.i18n import catalogue

DOMAINS = ("catalog", "identity", "certificates")


def _used_keys() -> set[str]:
    web = resources.files("smartseoul.web")
    keys: set[str] = set()
    for domain in DOMAINS:
        for template in web.joinpath("templates", domain).iterdir():
            keys |= set(re.findall(r"""t\(["']([a-z_]+)["']\)""", template.read_text()))
    script = web.joinpath("static", "identity", "pki.js").read_text()
    return keys | set(re.findall(r'"(identity_js_[a-z_]+)"', script))


def test_every_key_is_in_both_languages_and_prefixed() -> None:
    for domain in DOMAINS:
        folder = resources.files(f"smartseoul.services.{domain}").joinpath("i18n")
        ko = json.loads(folder.joinpath("ko.json").read_text())
        en = json.loads(folder.joinpath("en.json").read_text())
        assert set(ko) == set(en), domain
        assert all(key.startswith(domain + "_") for key in ko), domain
        assert all(value.strip() for value in [*ko.values(), *en.values()]), domain
    ko_all, en_all = catalogue("ko"), catalogue("en")
    missing = sorted(key for key in _used_keys() if key not in ko_all or key not in en_all)
    assert missing == []
