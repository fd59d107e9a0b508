"""Who may read and who may write, and the headers every page carries.

Reading needs nothing on a loopback address (unless a reverse proxy passed the request on);
anywhere else it needs the token. Every write
(verdicts, mutes) needs the token whatever the address: given once at ``/login`` (the browser
then keeps a session cookie: an HMAC of the token, never the token itself; HttpOnly,
SameSite=Strict) or on each request as ``Authorization: Bearer <token>`` (scripts). Tokens are
compared in constant time. A form carries a CSRF field (an HMAC of the token) and is refused
when it comes from another origin. Every page has a strict Content-Security-Policy: no inline
script, no style or script from anywhere but the console itself.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from aiohttp import web

COOKIE = "monitor_console"

#: every response: nothing runs but the console's own script, nothing frames it
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # nothing of the console's addresses leaves for other sites (a link to an article); not
    # "no-referrer", which makes a browser send "Origin: null" with the console's own forms
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True)
class Gate:
    """The token (None: the console is read-only) and whether reading is open (loopback)."""

    token: str | None
    open_reading: bool

    def _mac(self, purpose: bytes) -> str:
        assert self.token is not None
        return hmac.new(self.token.encode(), purpose, hashlib.sha256).hexdigest()

    @property
    def session(self) -> str:
        """The session cookie's value."""
        return self._mac(b"monitor console session")

    @property
    def csrf(self) -> str:
        """The field every form carries (empty without a token: no form can write)."""
        return self._mac(b"monitor console form") if self.token else ""

    def right_token(self, given: str) -> bool:
        return self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def signed_in(self, request: web.Request) -> bool:
        """The token was given: as a bearer, or earlier at /login (the session cookie)."""
        if self.token is None:
            return False
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and self.right_token(auth[len("Bearer ") :].strip()):
            return True
        cookie = request.cookies.get(COOKIE, "")
        return bool(cookie) and hmac.compare_digest(cookie.encode(), self.session.encode())

    def may_read(self, request: web.Request) -> bool:
        """Open on loopback, unless the request came through a proxy (which may be serving
        the console to anyone): then, as off loopback, the token."""
        if self.open_reading and not proxied(request):
            return True
        return self.signed_in(request)

    def write_refusal(self, request: web.Request, form_csrf: str | None) -> str | None:
        """Why this write is refused (None: it may go on)."""
        if self.token is None:
            return "the console is read-only: set console.token to write from it"
        if not self.signed_in(request):
            return "sign in with the console's token first"
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return None  # a script's request: no cookie, no forgery
        if not same_origin(request):
            return "a form posted from another site"
        if form_csrf is None or not hmac.compare_digest(form_csrf.encode(), self.csrf.encode()):
            return "the form is stale or forged: reload the page"
        return None


def proxied(request: web.Request) -> bool:
    """Did a reverse proxy pass this request on (it says so in its headers)?"""
    return any(h in request.headers for h in ("Forwarded", "X-Forwarded-For", "X-Real-IP"))


def same_origin(request: web.Request) -> bool:
    """A state-changing request from this console's own pages: its Origin (or, lacking one,
    its Referer) is this host's."""
    host = request.headers.get("Host", "")
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin in (f"http://{host}", f"https://{host}")
    referer = request.headers.get("Referer")
    if referer is not None:
        return referer.startswith((f"http://{host}/", f"https://{host}/"))
    return True  # neither: not a browser's cross-site form (browsers send Origin on POST)
