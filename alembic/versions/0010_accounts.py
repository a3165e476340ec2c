"""Accounts, API tokens, web sessions, and the person behind each event (issue 15).

Revision ID: 0010_accounts
Revises: 0009_intake
Create Date: 2026-12-05

`users` are the repository's accounts (viewer, archivist, admin) with an Argon2id password
hash (RFC 9106) and the counters of login throttling; `api_tokens` and `web_sessions` keep
only the sha256 of their secrets, so a copy of the catalog opens no account. The session row
also holds its CSRF token (a synchronizer token, OWASP CSRF Prevention Cheat Sheet).

`events.person_agent_id` names the person on whose behalf the software acted: the account
of a web or API request, the operating-system user of a command. It is a plain ADD COLUMN,
which keeps the append-only triggers of 0001 (a batch rebuild would drop them); rows before
this revision have none and hash as before (catalog/chain.py).
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0010_accounts"
down_revision = "0009_intake"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('viewer', 'archivist', 'admin')",
                           name="ck_users_user_role"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("label", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_api_tokens_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_sha256", name="uq_api_tokens_token_sha256"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name="fk_web_sessions_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
        sa.UniqueConstraint("token_sha256", name="uq_web_sessions_token_sha256"),
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite can add a column with an inline REFERENCES, not a named constraint later.
        op.execute("ALTER TABLE events ADD COLUMN person_agent_id INTEGER "
                   "REFERENCES agents (id)")
    else:
        op.add_column("events", sa.Column("person_agent_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_events_person_agent_id_agents", "events", "agents",
                              ["person_agent_id"], ["id"])


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35), as 0002: a batch rebuild would drop the triggers.
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_events_person_agent_id_agents", "events", type_="foreignkey")
    op.drop_column("events", "person_agent_id")
    op.drop_table("web_sessions")
    op.drop_table("api_tokens")
    op.drop_table("users")
