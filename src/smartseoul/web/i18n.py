"""Korean and English UI text; every key exists in both languages (a test checks it).

The shared words live in ``web/i18n``; a domain keeps its own in ``<domain package>/i18n`` so that
domains never edit one file together. A key defined twice is an error, not a silent override.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from fastapi import Request

LANGUAGES = ("ko", "en")
LANG_COOKIE = "ss_lang"


def catalogue_packages() -> list[str]:
    """The packages whose ``i18n`` folder holds UI text: the web app's and each domain's."""
    from smartseoul.domains import DOMAIN_MODULES

    return ["smartseoul.web", *(module.rsplit(".", 1)[0] for module in DOMAIN_MODULES)]


def package_catalogue(package: str, lang: str) -> dict[str, str]:
    found = resources.files(package).joinpath("i18n", f"{lang}.json")
    if not found.is_file():
        return {}
    data: dict[str, str] = json.loads(found.read_text(encoding="utf-8"))
    return data


@cache
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for package in catalogue_packages():
        part = package_catalogue(package, lang)
        clash = sorted(set(part).intersection(merged))
        if clash:
            raise ValueError(f"UI text keys defined twice ({package}, {lang}): {', '.join(clash)}")
        merged.update(part)
    return merged


def choose_language(request: Request, default: str) -> str:
    """The cookie the user set, else the browser's first supported language, else the default."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return default


def translate(lang: str, key: str) -> str:
    return catalogue(lang).get(key) or catalogue("en").get(key) or key
