"""RFC 9457 problem details: every refusal is JSON that says what went wrong."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from smartseoul.core.auth import AuthError, InvalidInput

log = logging.getLogger("smartseoul.web")
PROBLEM_TYPE = "application/problem+json"


class Problem(Exception):
    """Raise from any handler to answer with a problem body."""

    def __init__(self, status: int, title: str, detail: str = "", code: str = "", **extra: Any) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.code, self.extra = status, title, detail, code, extra


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str = "",
    code: str = "",
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:smartseoul:problem:{code}" if code else "about:blank",
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if code:
        body["code"] = code
    body.update(extra)
    log.info("problem %s %s %s: %s %s", status, request.method, request.url.path, code or title, detail)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(request, exc.status, exc.title, exc.detail, exc.code, **exc.extra)


async def on_auth(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return problem_response(request, exc.status, exc.title, exc.detail, exc.code, headers=headers)


async def _on_invalid_input(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(request, 422, "Invalid input", str(exc), "invalid_input")


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 413: "Request too large"}
    detail = exc.detail if isinstance(exc.detail, str) else ""
    return problem_response(
        request,
        exc.status_code,
        titles.get(exc.status_code, detail or "Error"),
        detail if detail not in titles.values() else "",
        headers=exc.headers,
    )


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "location": ".".join(str(p) for p in err.get("loc", ())),
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]
    if any(err["type"] == "json_invalid" for err in errors):
        return problem_response(
            request,
            400,
            "Malformed JSON",
            "the request body is not valid JSON",
            "malformed_json",
            errors=errors,
        )
    return problem_response(
        request,
        422,
        "Invalid request",
        "; ".join(f"{e['location']}: {e['message']}" for e in errors),
        "validation_failed",
        errors=errors,
    )


def install(app: Any) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(AuthError, on_auth)
    app.add_exception_handler(InvalidInput, _on_invalid_input)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(HTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
