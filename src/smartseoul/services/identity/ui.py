"""What every citizen page shares (civil services, reservations, complaints): the large-text mode.

Large text is a cookie (``ss_large_text``) remembered for a year, so an elderly citizen turns it
on once per device; the pages add a style sheet that scales type and touch targets.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from smartseoul.web.pages import render

LARGE_TEXT_COOKIE = "ss_large_text"


def large_text(request: Request) -> bool:
    return request.cookies.get(LARGE_TEXT_COOKIE) == "1"


def civil_render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """``render`` plus what the civil-services layout needs: the large-text mode of this device.
    (The bar's switch sends the citizen back to the page it was on, query string included.)"""
    return render(request, template, status, large_text=large_text(request), **context)
