"""Bounds on request bodies, enforced before anything parses them.

Python's JSON parser recurses once per nesting level, and a library the API imports (py_ecc)
raises the recursion limit to 100,000: a body nested that deep overflows the C stack and kills
the process instead of raising. So every body is read here first, up to
`settings.max_body_bytes` (413 beyond), and must be UTF-8 nested at most
`settings.max_body_depth` levels deep (422 otherwise), checked by a flat scan that recurses
nowhere. Only then does FastAPI parse it.

The check runs when a route reads its body. GET and HEAD requests pass untouched: no such
route reads a body, and the lookup routes keep their microseconds.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import RegistryApiError
from .schemas import ErrorPublic

#: The bytes that matter to nesting: brackets, and the quotes and escapes that hide them in strings.
_SPECIAL = re.compile(rb'[\[\]{}"\\]')
_OPEN, _CLOSE, _QUOTE, _ESCAPE = frozenset(b"[{"), frozenset(b"]}"), ord('"'), ord("\\")
#: Methods whose routes read no body here.
_BODILESS = frozenset({"GET", "HEAD"})


#: What a route that takes a body declares besides its own answers.
BODY_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorPublic, "description": "The body is larger than the API reads (`IDSREG_API_MAX_BODY_BYTES`)."}
}


class BodyRefused(RegistryApiError, HTTPException):
    """A body the API does not read: too large (413), too deep or not UTF-8 (422). An
    HTTPException, because FastAPI answers any other error while it reads a body with a 400."""

    field = "body"


def deeper_than(body: bytes, limit: int) -> bool:
    """Whether JSON text `body` nests arrays and objects more than `limit` levels deep (brackets
    inside strings do not count). Iterative: any depth costs one pass over the special bytes.

    >>> deeper_than(b'{"a": [[1]], "b": "[[[[["}', 3), deeper_than(b'[[[[1]]]]', 3)
    (False, True)
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, -1
    for found in _SPECIAL.finditer(body):
        at = found.start()
        byte = body[at]
        if in_string:
            if at == escaped:
                continue
            if byte == _ESCAPE:
                escaped = at + 1
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif byte in _CLOSE:
            depth -= 1
    return False


class BodyLimits:
    """ASGI middleware: a route that reads its body gets it whole and checked, or the request
    is answered 413/422 (raised as `BodyRefused`, answered by the API's error handler)."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_depth: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODILESS:
            await self.app(scope, receive, send)
            return
        await self.app(scope, _CheckedBody(self, scope, receive).receive, send)


class _CheckedBody:
    def __init__(self, limits: BodyLimits, scope: Scope, receive: Receive) -> None:
        self.limits = limits
        self.scope = scope
        self.upstream = receive
        self.delivered = False

    async def receive(self) -> Message:
        if self.delivered:  # after the body: the disconnect, when it comes
            return await self.upstream()
        self.delivered = True
        limit = self.limits.max_bytes
        for name, value in self.scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                raise BodyRefused(
                    413, f"the request body ({int(value)} bytes) is larger than the {limit} bytes this API reads"
                )
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.upstream()
            if message["type"] != "http.request":
                return message  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyRefused(413, f"the request body is larger than the {limit} bytes this API reads")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BodyRefused(422, f"the request body is not UTF-8 text (byte {exc.start})") from None
        if deeper_than(body, self.limits.max_depth):
            raise BodyRefused(
                422, f"the request body nests arrays and objects more than {self.limits.max_depth} levels deep"
            )
        return {"type": "http.request", "body": body, "more_body": False}
