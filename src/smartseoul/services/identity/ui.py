"""What every civil-services page shares: the large-text mode and the citizen's assurance.

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
    """``render`` plus what the civil-services layout needs (large-text mode, the current path)."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(request, template, status, large_text=large_text(request), here=here, **context)
