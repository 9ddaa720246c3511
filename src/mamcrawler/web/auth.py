"""Dashboard sign-in: the API key once, then a signed session cookie; CSRF tokens.

The cookie holds only a random session id, whether it is signed in, and its expiry,
signed with HMAC-SHA256. The signing key is a random key kept in DATA_DIR/web-session-key
(owner only) mixed with the API key, so changing the API key signs every browser out.
Every state-changing form carries a token derived from the session id; a request from
another origin is refused as well.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response

from mamcrawler.store.secret_file import read_or_create

COOKIE = "mamcrawler_session"
KEY_FILE = "web-session-key"
MAX_AGE_S = 30 * 24 * 3600


class LoginRequired(Exception):
    """The page needs a signed-in session; the handler redirects to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRejected(Exception):
    """A form without the right token, or sent from another origin."""


@dataclass(frozen=True)
class WebSession:
    sid: str
    signed_in: bool
    expires: int


def signing_key(data_dir: Path, api_key: str) -> bytes:
    """The random part is made once, readable by the owner only."""
    stored, _ = read_or_create(Path(data_dir) / KEY_FILE, lambda: secrets.token_hex(32))
    return hmac.new(stored.encode(), b"session:" + api_key.encode(), hashlib.sha256).digest()


_keys: dict[tuple[str, str], bytes] = {}


def _key(request: Request) -> bytes:
    rt = request.app.state.runtime
    cache_key = (str(rt.settings.data_dir), rt.api_key)
    if cache_key not in _keys:
        _keys[cache_key] = signing_key(rt.settings.data_dir, rt.api_key)
    return _keys[cache_key]


def csrf_token(request: Request, session: WebSession) -> str:
    """The token of `session`'s forms: only our pages (which know the HttpOnly session)
    can put it in a form."""
    return hmac.new(_key(request), b"csrf:" + session.sid.encode(), hashlib.sha256).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(session: WebSession, key: bytes) -> str:
    body = _b64(json.dumps({"sid": session.sid, "in": session.signed_in,
                            "exp": session.expires}).encode())
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def decode(value: str, key: bytes, now: float) -> WebSession | None:
    try:
        body, mac = value.split(".", 1)
        expected = hmac.new(key, body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        data = json.loads(_unb64(body))
        session = WebSession(str(data["sid"]), bool(data["in"]), int(data["exp"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > now else None


def new_session(signed_in: bool) -> WebSession:
    return WebSession(secrets.token_urlsafe(24), signed_in, int(time.time()) + MAX_AGE_S)


def current(request: Request) -> WebSession | None:
    """This browser's session, if its cookie is valid."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    return decode(value, _key(request), time.time())


def ensure(request: Request) -> WebSession:
    """The browser's session, or a new signed-out one (set by `remember`)."""
    session = current(request)
    if session is None:
        session = new_session(False)
        request.state.new_web_session = session
    return session


def remember(request: Request, response: Response, session: WebSession | None = None) -> None:
    """Set the cookie for `session`, or for a session `ensure` had to create."""
    session = session or getattr(request.state, "new_web_session", None)
    if session is None:
        return
    response.set_cookie(COOKIE, encode(session, _key(request)), max_age=MAX_AGE_S,
                        httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def key_matches(request: Request, given: str) -> bool:
    expected = request.app.state.runtime.api_key
    return bool(given) and secrets.compare_digest(given.encode(), expected.encode())


def require_login(request: Request) -> WebSession:
    """Page dependency: a signed-in session, else a redirect to the login page."""
    session = current(request)
    if session is None or not session.signed_in:
        raise LoginRequired(request.url.path)
    return session


def check_form(request: Request, session: WebSession, token: str) -> None:
    """A state-changing form: same origin, and the token of this session."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise CsrfRejected("the form was sent from another site")
    if not token or not hmac.compare_digest(token, csrf_token(request, session)):
        raise CsrfRejected("the form's security token is missing or old; reload the page")


def safe_next(path: str | None) -> str:
    """Only paths on this site: never an open redirect."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path
