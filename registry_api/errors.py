"""The registry service's errors: one root, `RegistryApiError`, and every error of this
package below it.

- The service's own failures (`ServiceConfigError`, `ProjectionError`, `ChainMovedError`)
  carry the exit code `python -m registry_api` (and so `idsreg api …`) ends with.
- `ApiError` and its leaves carry the HTTP status they answer with: routes and their helpers
  raise these, and `registry_api.api.errors` turns each into a JSON body
  `{"error": message, "status": code, "field": name-or-null}`.

The root derives from the client's root error (`client.errors.IdsRegistryError`): the service
builds on the client, and a command line reports either kind the same way (one line, the exit
code of the kind). Errors the client raises (a `ConfigError` from parsing a sign-in message,
say) stay the client's.
"""

from __future__ import annotations

from client.errors import IdsRegistryError


class RegistryApiError(IdsRegistryError):
    """Root of every error the registry service (indexer and API) raises."""


class ServiceConfigError(RegistryApiError):
    """A setting, database or address the service cannot use (the message names it and says
    what to do): exit code 2."""

    exit_code = 2


class ProjectionError(RegistryApiError):
    """An event that does not fit the indexed state (a bug, or a chain the index does not belong to)."""


class ChainMovedError(RegistryApiError):
    """The chain changed while a range was being read; the range is dropped and re-read."""


class LeadershipLost(RegistryApiError):
    """The indexer's hold on the indexing lock is gone (`registry_api.leader`): it stops, since
    another service may index now."""


class ApiError(RegistryApiError):
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
