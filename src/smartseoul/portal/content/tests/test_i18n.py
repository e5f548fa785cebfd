"""Every UI text of the portal exists in Korean and English, and every key the templates use exists."""

from __future__ import annotations

import json
import re
from importlib import resources

TEMPLATES = resources.files("smartseoul.web").joinpath("templates", "content")
CATALOGUE = resources.files("smartseoul.portal.content").joinpath("i18n")


def _load(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads(CATALOGUE.joinpath(f"{lang}.json").read_text(encoding="utf-8"))
    return data


def test_both_languages_have_the_same_prefixed_keys() -> None:
    korean, english = _load("ko"), _load("en")
    assert korean.keys() == english.keys()
    assert all(key.startswith("content_") for key in korean)
    assert all(value.strip() for value in (*korean.values(), *english.values()))


def test_every_key_a_template_uses_exists() -> None:
    keys = set(_load("ko"))
    used: set[str] = set()
    for template in TEMPLATES.iterdir():
        text = template.read_text(encoding="utf-8")
        used.update(re.findall(r"""t\(["'](content_[a-z_]+)["']\)""", text))
        for prefix in re.findall(r"""t\(["'](content_[a-z_]+_)["'] ~""", text):
            assert any(key.startswith(prefix) for key in keys), prefix
    assert used
    assert used <= keys, sorted(used - keys)
