"""Korean first-class: every text the reservation and payment pages show exists in both languages,
including the names of refusal rules, booking states and facility kinds built at run time."""

from __future__ import annotations

import json
import re
from importlib import resources

from smartseoul.services.reservations.models import BOOKING_STATES, FACILITY_KINDS

DOMAINS = ("reservations", "payments")


def _catalogue(domain: str, lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads(
        resources.files(f"smartseoul.services.{domain}").joinpath("i18n", f"{lang}.json").read_text()
    )
    return data


def test_both_languages_have_the_same_prefixed_non_empty_keys() -> None:
    for domain in DOMAINS:
        ko, en = _catalogue(domain, "ko"), _catalogue(domain, "en")
        assert set(ko) == set(en), domain
        assert all(key.startswith(f"{domain}_") for key in ko), domain
        assert all(ko.values()), domain
        assert all(en.values()), domain


def test_every_key_a_template_or_rule_needs_is_there() -> None:
    known = set(_catalogue("reservations", "ko")) | set(_catalogue("payments", "ko"))
    web = resources.files("smartseoul.web")
    used: set[str] = set()
    for domain in DOMAINS:
        for template in web.joinpath("templates", domain).iterdir():
            used |= set(
                re.findall(r"""t\(["']((?:reservations|payments)_[a-z_]+)["']\)""", template.read_text())
            )
    service = resources.files("smartseoul.services.reservations").joinpath("service.py").read_text()
    rules = set(re.findall(r'BookingRefused\(\s*"([a-z_]+)"', service))
    assert {"slot_full", "weekly_limit", "residents_only", "no_show_limit", "cancel_deadline"} <= rules
    used |= {f"reservations_rule_{rule}" for rule in rules}
    used |= {f"reservations_state_{state}" for state in BOOKING_STATES}
    used |= {f"reservations_kind_{kind}" for kind in FACILITY_KINDS}
    assert used - known == set()
