"""The registry API's errors: one root, leaves with the HTTP status they answer with.

Routes and their helpers raise these; `registry_api.api.errors` turns each into a JSON body
`{"error": message, "status": code, "field": name-or-null}`.
"""

from __future__ import annotations


class ApiError(Exception):
    """Root of the errors the API answers with; the message is shown to the caller as is."""

    status: int = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadInput(ApiError):
    """A parameter the API cannot use (malformed id, hash, address, cursor…): 422."""

    status = 422

    def __init__(self, field: str, value: object, expected: str) -> None:
        shown = value if isinstance(value, str) and len(value) <= 80 else f"{str(value)[:77]}…"
        super().__init__(f"{field} {shown!r} is not {expected}", field)
        self.value = value


class NotFound(ApiError):
    """Nothing with that id is indexed: 404."""

    status = 404


class Unauthorized(ApiError):
    """No valid bearer token where one is needed: 401."""

    status = 401


class Forbidden(ApiError):
    """A valid caller who may not see or do this: 403."""

    status = 403


class Unavailable(ApiError):
    """The chain node (or the manifest) needed to answer is not available: 503."""

    status = 503
