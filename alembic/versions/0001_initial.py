"""Initial catalog: locations, packages, versions, files, copies, events, agents, audits, deposits.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25

Written by hand (DESIGN.md, "Catalog"). Constraint names follow the naming convention of
preserve.catalog.records; a test checks that these tables and the models agree. The events
table is append-only: triggers refuse UPDATE and DELETE on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

HEX = "0123456789abcdef"
APPEND_ONLY_MESSAGE = "events are append-only: rows cannot be updated or deleted"


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _hex(table: str, column: str, length: int) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        f"length({column}) = {length} AND ltrim({column}, '{HEX}') = ''",
        name=f"ck_{table}_{column}_hex",
    )


def _non_negative(table: str, column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} >= 0", name=f"ck_{table}_{column}_non_negative")


def upgrade() -> None:
    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_locations"),
        sa.UniqueConstraint("name", name="uq_locations_name"),
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(400), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.String(50), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agents"),
        sa.UniqueConstraint("identifier", name="uq_agents_identifier"),
    )
    op.create_table(
        "deposits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _time("started"),
        _time("finished", nullable=True),
        sa.Column("package_id", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("warning_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deposits"),
        sa.CheckConstraint(
            "status IN ('in_progress', 'accepted', 'rejected', 'failed')", name="ck_deposits_status_known"
        ),
        _non_negative("deposits", "error_count"),
        _non_negative("deposits", "warning_count"),
    )
    op.create_table(
        "audit_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        _time("started"),
        _time("finished", nullable=True),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_runs"),
        *(_non_negative("audit_runs", c) for c in ("checked", "bytes", "passed", "failed")),
    )
    op.create_table(
        "packages",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        _time("created"),
        sa.Column("payload_fingerprint", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_packages"),
    )
    op.create_index("ix_packages_payload_fingerprint", "packages", ["payload_fingerprint"])
    op.create_table(
        "package_identifiers",
        sa.Column("package_id", sa.Text(), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("package_id", "type", "identifier", name="pk_package_identifiers"),
        sa.ForeignKeyConstraint(
            ["package_id"], ["packages.id"], name="fk_package_identifiers_package_id_packages"
        ),
    )
    op.create_index("ix_package_identifiers_identifier", "package_identifiers", ["identifier"])
    op.create_table(
        "package_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Text(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        _time("created"),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("deposit_id", sa.Integer(), nullable=True),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("byte_count", sa.BigInteger(), nullable=False),
        sa.Column("payload_fingerprint", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_package_versions"),
        sa.UniqueConstraint("package_id", "number", name="uq_package_versions_package_id_number"),
        sa.CheckConstraint("number >= 1", name="ck_package_versions_number_positive"),
        _non_negative("package_versions", "file_count"),
        _non_negative("package_versions", "byte_count"),
        sa.ForeignKeyConstraint(
            ["package_id"], ["packages.id"], name="fk_package_versions_package_id_packages"
        ),
        sa.ForeignKeyConstraint(
            ["deposit_id"], ["deposits.id"], name="fk_package_versions_deposit_id_deposits"
        ),
    )
    op.create_index(
        "ix_package_versions_payload_fingerprint", "package_versions", ["payload_fingerprint"]
    )
    op.create_table(
        "files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sha512", sa.String(128), nullable=False),
        sa.Column("format", sa.String(200), nullable=True),
        sa.Column("content_path", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_files"),
        sa.UniqueConstraint("package_id", "version", "path", name="uq_files_package_id_version_path"),
        sa.ForeignKeyConstraint(
            ["package_id", "version"],
            ["package_versions.package_id", "package_versions.number"],
            name="fk_files_package_id_version_package_versions",
        ),
        _non_negative("files", "size"),
        _hex("files", "sha256", 64),
        _hex("files", "sha512", 128),
    )
    op.create_table(
        "copies",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("content_path", sa.Text(), nullable=False),
        _time("last_fixity_at", nullable=True),
        sa.Column("last_fixity_outcome", sa.String(20), nullable=True),
        sa.Column("status", sa.String(20), server_default="ok", nullable=False),
        sa.PrimaryKeyConstraint("file_id", "location_id", name="pk_copies"),
        sa.ForeignKeyConstraint(["file_id"], ["files.id"], name="fk_copies_file_id_files"),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name="fk_copies_location_id_locations"
        ),
    )
    op.create_index("ix_copies_last_fixity_at", "copies", ["last_fixity_at"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(36), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        _time("time"),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("outcome_detail", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("deposit_id", sa.Integer(), nullable=True),
        sa.Column("object_paths", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("identifier", name="uq_events_identifier"),
        sa.UniqueConstraint("hash", name="uq_events_hash"),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_events_agent_id_agents"),
        _hex("events", "prev_hash", 64),
        _hex("events", "hash", 64),
    )
    op.create_index("ix_events_package_id", "events", ["package_id"])
    _create_append_only_triggers()


def _create_append_only_triggers() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
            "FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()"
        )
    elif dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER events_no_{action.lower()} BEFORE {action} ON events "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_no_truncate ON events")
        op.execute("DROP TRIGGER IF EXISTS events_append_only ON events")
        op.execute("DROP FUNCTION IF EXISTS events_append_only()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_no_update")
        op.execute("DROP TRIGGER IF EXISTS events_no_delete")
    op.drop_index("ix_events_package_id", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_copies_last_fixity_at", table_name="copies")
    op.drop_table("copies")
    op.drop_table("files")
    op.drop_index("ix_package_versions_payload_fingerprint", table_name="package_versions")
    op.drop_table("package_versions")
    op.drop_index("ix_package_identifiers_identifier", table_name="package_identifiers")
    op.drop_table("package_identifiers")
    op.drop_index("ix_packages_payload_fingerprint", table_name="packages")
    op.drop_table("packages")
    op.drop_table("audit_runs")
    op.drop_table("deposits")
    op.drop_table("agents")
    op.drop_table("locations")
