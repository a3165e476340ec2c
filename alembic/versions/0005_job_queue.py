"""The job queue of `preserve worker`: procrastinate's schema, on PostgreSQL only.

Revision ID: 0005_job_queue
Revises: 0004_audit_integrity
Create Date: 2026-12-04

Issue 14: background jobs (replicate, audit a batch, repair) are rows of procrastinate's
tables in the catalog's own PostgreSQL database, next to the audit log: no other broker.
This revision runs procrastinate's `schema.sql` (the complete schema of the pinned version,
`procrastinate==3.10.0` in pyproject.toml) in the catalog's schema, so `preserve db upgrade`
is the one command that prepares a database for workers. A later procrastinate release is
adopted by a new revision that runs that release's own migration files
(`procrastinate/sql/migrations/*.sql`) in order, never by editing this one.

Two tables of our own, on both databases: `job_errors`, why each failed attempt of a job
failed (procrastinate's rows say only that it did), for `preserve jobs`; `bandwidth`, the
read budget of each location shared by every worker (`audit --enqueue --max-rate`). On
SQLite they stay empty and nothing else happens: an embedded repository has no queue and runs everything in
process, as before.
"""

from __future__ import annotations

from importlib import resources

import sqlalchemy as sa

from alembic import op
from preserve.errors import CatalogError

revision = "0005_job_queue"
down_revision = "0004_audit_integrity"
branch_labels = None
depends_on = None

_TABLES = ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs",
           "procrastinate_workers")
_TYPES = ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type",
          "procrastinate_job_status")


def _schema_sql() -> str:
    try:
        return resources.files("procrastinate.sql").joinpath("schema.sql").read_text("utf-8")
    except ModuleNotFoundError:
        raise CatalogError(detail=(
            "the PostgreSQL catalog holds the job queue of `preserve worker` and its schema "
            "comes from procrastinate, which is not installed: install `preserve[postgres]` "
            "(or pip install procrastinate==3.10.0), then run `preserve db upgrade` again; "
            "nothing was changed")) from None


def upgrade() -> None:
    op.create_table(
        "job_errors",
        sa.Column("job_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("attempt", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("task", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.CheckConstraint("attempt >= 0", name="ck_job_errors_attempt_non_negative"),
        sa.PrimaryKeyConstraint("job_id", "attempt", name="pk_job_errors"),
    )
    op.create_table(
        "bandwidth",
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("next_free", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("location", name="pk_bandwidth"),
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Several statements, dollar-quoted function bodies and '%' signs: the file goes to the
    # driver's cursor as it is, with no parameters, so nothing in it is read as a placeholder.
    _execute(_schema_sql())


def _execute(sql: str) -> None:
    cursor = op.get_bind().connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def downgrade() -> None:
    op.drop_table("bandwidth")
    op.drop_table("job_errors")
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in _TABLES:
        _execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    _execute("""
        DO $$
        DECLARE f regprocedure;
        BEGIN
            FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE p.proname LIKE 'procrastinate\\_%' AND n.nspname = current_schema()
            LOOP
                EXECUTE 'DROP FUNCTION ' || f || ' CASCADE';
            END LOOP;
        END $$;
    """)
    for type_name in _TYPES:
        _execute(f"DROP TYPE IF EXISTS {type_name} CASCADE")
