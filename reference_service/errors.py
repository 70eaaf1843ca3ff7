"""Domain errors and their one rendering: RFC 9457 problem+json, with no internals."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SqlTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

PROBLEM_MEDIA_TYPE = "application/problem+json"
DATABASE_RETRY_AFTER_S = 2


class DomainError(Exception):
    """A business rule said no; `code` becomes the problem type's last path segment."""

    def __init__(
        self,
        code: str,
        http_status: int,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.http_status = http_status
        self.detail = detail
        self.title = title or code.replace("-", " ").capitalize()
        self.headers = headers or {}
        self.extra = extra or {}


class NotFoundError(DomainError):
    """The thing does not exist, or is not the caller's to see."""

    def __init__(self, what: str) -> None:
        super().__init__("not-found", 404, f"{what} not found", title="Not found")


class ConflictError(DomainError):
    """The request conflicts with the current state."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, 409, detail)


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """Build a problem+json response."""
    body = {"type": f"/problems/{code}", "title": title, "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_STATUS_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-requests",
    503: "service-unavailable",
}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only where and what: never echo the input back (it may be huge or hostile).
    return [
        {"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", ""))}
        for err in exc.errors()[:20]
    ]


def _allowed_methods(request: Request) -> str:
    # Starlette answers 405 with the methods of the first route whose path matched; RFC 9110
    # wants every method the resource supports, so ask the router about each one.
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error the app can raise as problem+json, and hide unexpected ones."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return problem(
            exc.http_status, exc.code, exc.title, exc.detail, headers=exc.headers, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(
            422,
            "validation-error",
            "Validation error",
            "The request is not valid.",
            errors=_validation_errors(exc),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else code.replace("-", " ")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return problem(
            exc.status_code,
            code,
            code.replace("-", " ").capitalize(),
            detail,
            headers=headers,
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(SqlTimeoutError)
    async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database is unreachable or failing over: a temporary condition the client may
        # retry (readiness is 503 meanwhile), not a bug. The log still has the details.
        request.app.state.log_unexpected(request, exc)
        return problem(
            503,
            "database-unavailable",
            "Service unavailable",
            "The database is unavailable; retry shortly.",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The log carries the traceback (with the request id); the client gets none of it.
        request.app.state.log_unexpected(request, exc)
        return problem(500, "internal-error", "Internal error", "An unexpected error occurred.")
