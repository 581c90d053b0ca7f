"""Every error answer is JSON `{"error", "status", "field"}`: ApiError as raised, validation
failures as 422 naming the first bad field, HTTP errors from routing (404, 405) as they are."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from ..errors import ApiError
from ..ratelimit import TooManyRequests
from .params import PATTERNS

log = logging.getLogger(__name__)


def error_response(
    status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message, "status": status, "field": field}, status_code=status, headers=headers)


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        return error_response(exc.status, exc.message, exc.field, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid request"}
        field = _field_name(tuple(first.get("loc", ())))
        message = str(first.get("msg", "invalid value"))
        if first.get("type") == "json_invalid":
            context = first.get("ctx")
            reason = str(context.get("error", "")) if isinstance(context, dict) else ""
            location = tuple(first.get("loc", ()))
            at = f" at character {location[-1]}" if location and isinstance(location[-1], int) else ""
            return error_response(422, f"the request body is not JSON: {reason}{at}", "body")
        if first.get("type") == "string_pattern_mismatch":
            context = first.get("ctx")
            pattern = str(context.get("pattern", "")) if isinstance(context, dict) else ""
            message = f"is not {PATTERNS[pattern]}" if pattern in PATTERNS else message
            message = f"{field} {_shown(first.get('input'))} {message}"
        elif "input" in first and first.get("type") != "missing":
            message = f"{field} {_shown(first['input'])}: {message}"
        else:
            message = f"{field}: {message}"
        return error_response(422, message, field)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(
            exc.status_code, str(exc.detail), getattr(exc, "field", None), getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug: logged with its traceback; the caller gets one line, never the traceback.
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return error_response(500, f"internal error ({type(exc).__name__}); the API's log has the details")

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            log.warning("lost the index database connection answering %s: %s", request.url.path, exc.orig)
            return error_response(503, "the connection to the index database was lost; try again")
        return await _unexpected(request, exc)
