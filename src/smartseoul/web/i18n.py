"""Korean and English UI text; every key exists in both languages (a test checks it)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from fastapi import Request

LANGUAGES = ("ko", "en")
LANG_COOKIE = "ss_lang"


@cache
def catalogue(lang: str) -> dict[str, str]:
    text = resources.files("smartseoul.web").joinpath("i18n", f"{lang}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


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
