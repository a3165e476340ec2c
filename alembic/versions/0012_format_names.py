"""PRONOM format names: `files.format_name` and `files.format_version` (issue 16 §6).

Revision ID: 0012_format_names
Revises: 0011_title_search
Create Date: 2026-12-05

`preserve report` lists formats "PRONOM, with names". siegfried gives a file's PRONOM
format name and version with its PUID when it identifies it (PRONOM's FormatName and
FormatVersion, as in its signature file), and no lookup of a name by PUID, so the name is
kept beside the PUID at identification time. Rows written before this revision have an
empty name and version (their PUID stands alone); both columns are NOT NULL with a server
default of "", added in place (no table rebuild).
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0012_format_names"
down_revision = "0011_title_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.add_column(sa.Column("format_name", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("format_version", sa.Text(), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.drop_column("format_version")
        batch.drop_column("format_name")
