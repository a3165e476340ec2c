"""Accounts of the web app and API (issue 15): users and roles, passwords, API tokens, web
sessions, login throttling. docs/web.md, "Accounts".

- **Passwords** are hashed with Argon2id (RFC 9106) by argon2-cffi's `PasswordHasher`, whose
  defaults are RFC 9106's second recommended option; a hash made with weaker parameters is
  re-hashed at the next good login. At least `MIN_PASSWORD` characters, no composition rules
  (NIST SP 800-63B section 5.1.1.2).
- **API tokens and session cookies** are 256-bit random secrets (`secrets.token_urlsafe`);
  the catalog keeps only their sha256, enough for a secret of that strength (no salt or slow
  hash is needed: nothing can be guessed).
- **Throttling**: after `FREE_FAILURES` wrong passwords in a row an account refuses logins
  for a delay that doubles with each further failure, up to `MAX_DELAY` (OWASP
  Authentication Cheat Sheet); a good login clears the count. An unknown name costs as much
  time as a known one (a dummy hash is verified), so names cannot be told apart by timing.
- **Roles** are ordered: viewer < archivist < admin; `allows(role, needed)`.

Layer: a workflow over the catalog (argon2 only here).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from preserve.catalog import Catalog, TokenView, UserView
from preserve.errors import ExitCode, PreserveError
from preserve.findings import finding
from preserve.model import Agent, Finding, person_agent, utc_now

__all__ = [
    "MIN_PASSWORD", "ROLES", "AccountRefused", "LoginSession", "NewToken", "tokens", "add_user",
    "allows", "authenticate",
    "create_token", "end_session", "person_of", "revoke_token", "session_user", "set_disabled",
    "set_password", "set_role", "start_session", "token_user",
]

ROLES = ("viewer", "archivist", "admin")
MIN_PASSWORD = 12
MAX_NAME = 100
FREE_FAILURES = 5
FIRST_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(hours=8)

_HASHER = PasswordHasher()
#: Verified when the account does not exist, so that costs the same time as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password of any account")


class AccountRefused(PreserveError):
    """{message}"""

    exit_code = ExitCode.USAGE

    def __init__(self, found: Finding) -> None:
        super().__init__(message=f"{found.code}: {found.message}")
        self.finding = found


def _refuse(code: str, **fields: object) -> AccountRefused:
    return AccountRefused(finding(code, "", **fields))


def allows(role: str, needed: str) -> bool:
    """Whether an account of `role` may do what needs `needed` (viewer < archivist < admin)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def person_of(user: UserView) -> Agent:
    """The account as the PREMIS person of the events it causes."""
    return person_agent(user.name, kind="account")


def _check_name(name: str) -> None:
    if not name or name != name.strip():
        raise _refuse("ACC-E004", name=name, why="it is empty or starts or ends with a space")
    if len(name) > MAX_NAME:
        raise _refuse("ACC-E004", name=name, why=f"it is longer than {MAX_NAME} characters")
    if any(unicodedata.category(c)[0] in "CZ" and c != " " for c in name):
        raise _refuse("ACC-E004", name=name,
                      why="it holds a control, format or line-breaking character")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise _refuse("ACC-E002", role=role)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise _refuse("ACC-E003", minimum=MIN_PASSWORD)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def add_user(catalog: Catalog, name: str, role: str, password: str) -> UserView:
    """A new account (ACC-E001 if the name is taken, E002 role, E003 password, E004 name)."""
    _check_name(name)
    _check_role(role)
    _check_password(password)
    if catalog.user(name) is not None:
        raise _refuse("ACC-E001", name=name)
    return catalog.add_user(name, role, _HASHER.hash(password), utc_now())


def _existing(catalog: Catalog, name: str) -> UserView:
    user = catalog.user(name)
    if user is None:
        raise _refuse("ACC-E005", name=name)
    return user


def set_password(catalog: Catalog, name: str, password: str) -> UserView:
    """A new password; every web session of the account ends."""
    _existing(catalog, name)
    _check_password(password)
    user = catalog.update_user(name, password_hash=_HASHER.hash(password))
    assert user is not None  # checked above; accounts are never deleted
    return user


def set_role(catalog: Catalog, name: str, role: str) -> UserView:
    _existing(catalog, name)
    _check_role(role)
    user = catalog.update_user(name, role=role)
    assert user is not None
    return user


def set_disabled(catalog: Catalog, name: str, disabled: bool) -> UserView:
    """Disable (its sessions end, its tokens stop working) or enable an account. Accounts
    are never deleted: events name them."""
    _existing(catalog, name)
    user = catalog.update_user(name, disabled=disabled)
    assert user is not None
    return user


def authenticate(catalog: Catalog, name: str, password: str,
                 now: dt.datetime | None = None) -> UserView:
    """The account if `password` is its password; AccountRefused ACC-E006 otherwise (one
    message for an unknown name, a wrong password and a disabled account) or ACC-E007 while
    the account is throttled."""
    now = now or utc_now()
    credentials = catalog.credentials(name)
    if credentials is None:
        _verify(_DUMMY_HASH, password)
        raise _refuse("ACC-E006")
    if credentials.failed_logins >= FREE_FAILURES and credentials.last_failed_at is not None:
        delay = min(FIRST_DELAY * 2 ** (credentials.failed_logins - FREE_FAILURES), MAX_DELAY)
        until = credentials.last_failed_at + delay
        if now < until:
            raise _refuse("ACC-E007", until=until.astimezone(dt.UTC).strftime(
                "%Y-%m-%d %H:%M:%S UTC"))
    good = _verify(credentials.password_hash, password)
    if not good or credentials.user.disabled:
        catalog.record_login(credentials.user.id, ok=False, at=now)
        raise _refuse("ACC-E006")
    catalog.record_login(credentials.user.id, ok=True, at=now)
    if _HASHER.check_needs_rehash(credentials.password_hash):
        catalog.update_user(name, password_hash=_HASHER.hash(password))
    return credentials.user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# --- API tokens -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just made: `secret` is shown once and never stored."""

    id: int
    user: str
    label: str
    secret: str


def create_token(catalog: Catalog, name: str, label: str = "") -> NewToken:
    """A new API token of account `name`."""
    user = _existing(catalog, name)
    secret = "pt_" + secrets.token_urlsafe(32)
    token_id = catalog.add_token(user.id, _sha256(secret), label, utc_now())
    return NewToken(token_id, name, label, secret)


def token_user(catalog: Catalog, secret: str) -> UserView | None:
    """The active account of a token, or None (unknown, revoked, or its account disabled)."""
    if not secret.startswith("pt_"):
        return None
    return catalog.token_user(_sha256(secret), utc_now())


def revoke_token(catalog: Catalog, token_id: int) -> None:
    if not catalog.revoke_token(token_id, utc_now()):
        raise _refuse("ACC-E008", token=token_id)


def tokens(catalog: Catalog, name: str | None = None) -> list[TokenView]:
    return catalog.tokens(name)


# --- web sessions ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LoginSession:
    """A session just started: the cookie's secret and the CSRF token of its forms."""

    secret: str
    csrf_token: str
    user: UserView
    expires_at: dt.datetime


def start_session(catalog: Catalog, user: UserView,
                  lifetime: dt.timedelta = SESSION_LIFETIME) -> LoginSession:
    """A new session for a logged-in account (a fresh secret at every login: no fixation)."""
    now = utc_now()
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    catalog.add_session(user.id, _sha256(secret), csrf, now, now + lifetime)
    return LoginSession(secret, csrf, user, now + lifetime)


def session_user(catalog: Catalog, secret: str) -> tuple[UserView, str] | None:
    """The account and CSRF token of a live session cookie, or None."""
    if not secret:
        return None
    return catalog.session_user(_sha256(secret), utc_now())


def end_session(catalog: Catalog, secret: str) -> None:
    if secret:
        catalog.end_session(_sha256(secret))
