"""Who is asking, and may they (issue 15, "Accounts, roles, and who did what"; docs/web.md).

- A browser logs in on /login and holds a session cookie: `HttpOnly`, `SameSite=Strict`,
  `Secure` (unless the app is told it is served over plain HTTP on a trusted host), no
  `Domain`; its secret is 256 random bits, kept in the catalog only as a sha256.
- Every state-changing request of a session carries the session's CSRF token (form field
  `csrf` or header `X-CSRF-Token`): the synchronizer-token pattern of the OWASP CSRF
  Prevention Cheat Sheet. SameSite=Strict is a second line, not the only one. The login
  form itself has a double-submit token (cookie and field), so nobody can log a browser
  into another account.
- Programs send `Authorization: Bearer TOKEN` (an API token): no cookie, so no CSRF token.
- Failed logins are throttled per account (`preserve.accounts`) and per client address here
  (`LoginLimiter`), so guessing is slow across accounts too.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from starlette.requests import Request

from preserve.catalog import Catalog, UserView

SESSION_COOKIE = "preserve_session"
LOGIN_CSRF_COOKIE = "preserve_login_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True)
class Caller:
    """The account behind a request; `csrf` is its session's token (None for API tokens)."""

    user: UserView
    csrf: str | None
    session_secret: str | None

    @property
    def by_token(self) -> bool:
        return self.csrf is None


def identify(request: Request,
             open_catalog: Callable[[], AbstractContextManager[Catalog]]) -> Caller | None:
    """The caller from a Bearer token, else from the session cookie; None if anonymous."""
    from preserve import accounts
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        with open_catalog() as catalog:
            user = accounts.token_user(catalog, credential.strip())
        return Caller(user, None, None) if user is not None else None
    secret = request.cookies.get(SESSION_COOKIE, "")
    if not secret:
        return None
    with open_catalog() as catalog:
        found = accounts.session_user(catalog, secret)
    if found is None:
        return None
    return Caller(found[0], found[1], secret)


def csrf_ok(caller: Caller, given: str | None) -> bool:
    """A session's state-changing request must carry its token; API tokens need none."""
    if caller.by_token:
        return True
    return bool(given) and caller.csrf is not None and hmac.compare_digest(
        caller.csrf.encode(), (given or "").encode())


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


class LoginLimiter:
    """At most `attempts` login attempts per client address per `window` seconds (in this
    process: the account's own throttle in the catalog holds across processes)."""

    def __init__(self, attempts: int = 20, window: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts, self.window, self.clock = attempts, window, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, address: str) -> bool:
        now = self.clock()
        with self._lock:
            times = self._seen.setdefault(address, deque())
            while times and now - times[0] > self.window:
                times.popleft()
            if len(times) >= self.attempts:
                return False
            times.append(now)
            if len(self._seen) > 10_000:  # forget idle addresses, keep memory bounded
                for key in [k for k, v in self._seen.items() if not v]:
                    del self._seen[key]
            return True
