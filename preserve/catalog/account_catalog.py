"""The accounts half of `Catalog` (issue 15, migration 0010): users, API tokens, web sessions.

Rows only: hashing passwords, making secrets and deciding who may log in belong to
`preserve.accounts`. Secrets (tokens, session cookies) arrive here as their sha256 and are
looked up by it; a copy of the catalog holds nothing that opens an account.
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from preserve.catalog.records import ApiTokenRecord, UserRecord, WebSessionRecord


@dataclass(frozen=True, slots=True)
class UserView:
    """An account as shown: never its password hash."""

    id: int
    name: str
    role: str
    created_at: dt.datetime
    disabled: bool

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": self.role,
                "created_at": self.created_at.isoformat(), "disabled": self.disabled}


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a login is checked against (`preserve.accounts.authenticate` only)."""

    user: UserView
    password_hash: str
    failed_logins: int
    last_failed_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class TokenView:
    """An API token as listed: its id and owner, never the secret."""

    id: int
    user: str
    label: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        def iso(t: dt.datetime | None) -> str | None:
            return t.isoformat() if t is not None else None
        return {"id": self.id, "user": self.user, "label": self.label,
                "created_at": iso(self.created_at), "last_used_at": iso(self.last_used_at),
                "revoked_at": iso(self.revoked_at)}


def _user(record: UserRecord) -> UserView:
    return UserView(id=record.id, name=record.name, role=record.role,
                    created_at=record.created_at, disabled=record.disabled)


#: How often a token's `last_used_at` is brought up to date (at most once this often).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class AccountCatalog:
    """Account rows of the catalog; `Catalog` supplies `_transaction`."""

    def _transaction(self) -> AbstractContextManager[Session]:
        raise NotImplementedError  # pragma: no cover - provided by Catalog

    # --- users ------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password_hash: str, at: dt.datetime) -> UserView:
        with self._transaction() as session:
            record = UserRecord(name=name, role=role, password_hash=password_hash,
                                created_at=at, disabled=False, failed_logins=0)
            session.add(record)
            session.flush()
            return _user(record)

    def users(self) -> list[UserView]:
        with self._transaction() as session:
            return [_user(r) for r in session.scalars(select(UserRecord).order_by(UserRecord.name))]

    def user(self, name: str) -> UserView | None:
        with self._transaction() as session:
            record = session.scalar(select(UserRecord).where(UserRecord.name == name))
            return _user(record) if record is not None else None

    def credentials(self, name: str) -> Credentials | None:
        with self._transaction() as session:
            record = session.scalar(select(UserRecord).where(UserRecord.name == name))
            if record is None:
                return None
            return Credentials(_user(record), record.password_hash, record.failed_logins,
                               record.last_failed_at)

    def update_user(self, name: str, **values: Any) -> UserView | None:
        """Set `password_hash`, `role` or `disabled`; a new password or a disabled account
        ends every web session of the account (a stolen cookie dies with the old password)."""
        with self._transaction() as session:
            record = session.scalar(select(UserRecord).where(UserRecord.name == name))
            if record is None:
                return None
            for key, value in values.items():
                setattr(record, key, value)
            if "password_hash" in values or values.get("disabled"):
                record.failed_logins = 0
                session.execute(delete(WebSessionRecord)
                                .where(WebSessionRecord.user_id == record.id))
            return _user(record)

    def record_login(self, user_id: int, *, ok: bool, at: dt.datetime) -> None:
        """Count a failed login (throttling), or clear the count after a good one."""
        with self._transaction() as session:
            if ok:
                session.execute(update(UserRecord).where(UserRecord.id == user_id)
                                .values(failed_logins=0, last_failed_at=None))
            else:
                session.execute(update(UserRecord).where(UserRecord.id == user_id)
                                .values(failed_logins=UserRecord.failed_logins + 1,
                                        last_failed_at=at))

    # --- API tokens -------------------------------------------------------------------------

    def add_token(self, user_id: int, token_sha256: str, label: str, at: dt.datetime) -> int:
        with self._transaction() as session:
            record = ApiTokenRecord(user_id=user_id, token_sha256=token_sha256, label=label,
                                    created_at=at)
            session.add(record)
            session.flush()
            return record.id

    def token_user(self, token_sha256: str, at: dt.datetime) -> UserView | None:
        """The active account of an unrevoked token (its last use recorded), or None."""
        with self._transaction() as session:
            row = session.execute(
                select(ApiTokenRecord, UserRecord)
                .join(UserRecord, ApiTokenRecord.user_id == UserRecord.id)
                .where(ApiTokenRecord.token_sha256 == token_sha256,
                       ApiTokenRecord.revoked_at.is_(None))).first()
            if row is None or row[1].disabled:
                return None
            # The last use to the minute: a script's every request need not be a write.
            last = row[0].last_used_at
            if last is None or at - last >= LAST_USED_RESOLUTION:
                row[0].last_used_at = at
            return _user(row[1])

    def tokens(self, name: str | None = None) -> list[TokenView]:
        with self._transaction() as session:
            query = (select(ApiTokenRecord, UserRecord.name)
                     .join(UserRecord, ApiTokenRecord.user_id == UserRecord.id)
                     .order_by(ApiTokenRecord.id))
            if name is not None:
                query = query.where(UserRecord.name == name)
            return [TokenView(t.id, user, t.label, t.created_at, t.last_used_at, t.revoked_at)
                    for t, user in session.execute(query)]

    def revoke_token(self, token_id: int, at: dt.datetime) -> bool:
        """Revoke a token; False if there is no such unrevoked token."""
        with self._transaction() as session:
            result = session.execute(
                update(ApiTokenRecord)
                .where(ApiTokenRecord.id == token_id, ApiTokenRecord.revoked_at.is_(None))
                .values(revoked_at=at))
            return bool(getattr(result, "rowcount", 0))

    # --- web sessions -----------------------------------------------------------------------

    def add_session(self, user_id: int, token_sha256: str, csrf_token: str,
                    at: dt.datetime, expires_at: dt.datetime) -> None:
        with self._transaction() as session:
            # Expired sessions go as new ones come: the table holds live sessions only.
            session.execute(delete(WebSessionRecord).where(WebSessionRecord.expires_at < at))
            session.add(WebSessionRecord(user_id=user_id, token_sha256=token_sha256,
                                         csrf_token=csrf_token, created_at=at,
                                         expires_at=expires_at))

    def session_user(self, token_sha256: str, at: dt.datetime
                     ) -> tuple[UserView, str] | None:
        """The active account of a live session and the session's CSRF token, or None."""
        with self._transaction() as session:
            row = session.execute(
                select(WebSessionRecord, UserRecord)
                .join(UserRecord, WebSessionRecord.user_id == UserRecord.id)
                .where(WebSessionRecord.token_sha256 == token_sha256,
                       WebSessionRecord.expires_at > at)).first()
            if row is None or row[1].disabled:
                return None
            return _user(row[1]), row[0].csrf_token

    def end_session(self, token_sha256: str) -> None:
        with self._transaction() as session:
            session.execute(delete(WebSessionRecord)
                            .where(WebSessionRecord.token_sha256 == token_sha256))
