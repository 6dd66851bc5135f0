"""Pure ASGI middleware every request passes: size limits first, security headers last.

Both are plain ASGI, not `BaseHTTPMiddleware`: the limits must sit between the server and
the app's first `receive()`, and the headers must reach responses that never touch a route.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem

# Sent with every response. `strict-origin-when-cross-origin` rather than `no-referrer`:
# paths and query strings (ids, tokens) never leave for another origin, yet same-origin
# POSTs keep their `Origin` header, which `no-referrer` turns into `null`, breaking any
# Origin check (CSRF defence for the web chat page).
REFERRER_POLICY = "strict-origin-when-cross-origin"
# Only over HTTPS (the scope's scheme; uvicorn sets it from X-Forwarded-Proto for trusted
# proxies): an HSTS header over plain HTTP is ignored by browsers and would mislead.
HSTS = "max-age=31536000; includeSubDomains"
# Responses that are not HTML pages (JSON, problems, PDFs) load nothing and embed nowhere.
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def html_csp(*, script_hashes: Iterable[str] = ()) -> str:
    """The Content-Security-Policy of an HTML page: its own origin only, never a CDN.

    `script_hashes` are base64 sha256 digests of the page's inline scripts, allowed one by
    one instead of `'unsafe-inline'`. Styles are the page's own files only: Swagger UI sets
    its inline styles through the DOM, which `style-src 'self'` allows.
    """
    scripts = " ".join(["'self'", *(f"'sha256-{digest}'" for digest in script_hashes)])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


HTML_CSP = html_csp()


class SecurityHeaders:
    """Add the security headers to every HTTP response, errors and 404s included.

    A header the response already carries wins: a page that needs a looser or stricter
    Content-Security-Policy (the docs page allows its own inline script) sets it itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", REFERRER_POLICY)
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Content-Security-Policy", HTML_CSP if html else API_CSP)
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _BodyTooLarge(Exception):
    """The body grew past its limit while the app was reading it."""


class RequestLimits:
    """Refuse a request with too many or too large headers (431) or too large a body (413).

    A declared Content-Length over the limit is refused before a byte of the body is read.
    A body without one (chunked) is counted as it streams through `receive` and cut off at
    the limit: the app never gets more than the limit, and its answer to the truncated body
    is replaced with the 413 (unless it had already started answering).

    `body_limits` gives some routes, by (method, route path), their own limit: document
    uploads are larger than any JSON body.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_header_count: int,
        max_header_bytes: int,
        body_limits: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_header_count = max_header_count
        self.max_header_bytes = max_header_bytes
        self.body_limits = dict(body_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        if len(headers) > self.max_header_count:
            await _refuse(
                scope,
                send,
                431,
                "too_many_headers",
                f"A request may carry at most {self.max_header_count} headers.",
            )
            return
        if sum(len(name) + len(value) for name, value in headers) > self.max_header_bytes:
            await _refuse(
                scope,
                send,
                431,
                "headers_too_large",
                f"A request's headers may hold at most {self.max_header_bytes} bytes.",
            )
            return
        limit = self.body_limits.get((scope["method"], _route_path(scope)), self.max_body_bytes)
        declared = _content_length(headers)
        if declared is not None and declared > limit:
            await _refuse_body(scope, send, limit)
            return

        received = 0
        too_large = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                raise _BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if too_large and not response_started:
                return  # the app's answer to a body it never got whole; the 413 replaces it
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            # Whatever the app made of the cut-off body (FastAPI turns it into a 400, other
            # code may raise), the client is owed the 413.
            if not too_large or response_started:
                raise
        if too_large and not response_started:
            await _refuse_body(scope, send, limit)


def _route_path(scope: Scope) -> str:
    """The path as the app's routes see it: without the `root_path` a proxy mounts us at."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The largest Content-Length declared, or None (absent or unreadable: counted instead)."""
    lengths = []
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                lengths.append(int(value))
            except ValueError:
                return None
    return max(lengths) if lengths else None


async def _refuse_body(scope: Scope, send: Send, limit: int) -> None:
    await _refuse(
        scope,
        send,
        413,
        "payload_too_large",
        f"The request body is larger than {limit} bytes.",
        max_bytes=limit,
    )


async def _refuse(
    scope: Scope, send: Send, status: int, code: str, detail: str, **details: int
) -> None:
    # The body may still be on its way: closing the connection spares reading it.
    response = problem(
        status, code, detail, generic=True, headers={"Connection": "close"}, details=details or None
    )
    await response(scope, _never_receive, send)


async def _never_receive() -> Message:
    raise RuntimeError("a refused request's body is never read")
