"""The folded title of each package, for searching titles in any script (issue 15, "Speed").

Revision ID: 0011_title_search
Revises: 0010_accounts
Create Date: 2026-12-05

`packages.title_folded` holds the title as `preserve.names.folded` makes it (NFKC, Unicode
case folding, one apostrophe for the ones typed for the Uzbek okina), written with the title
(records.py). A search then compares folded text with a plain LIKE: no per-row function call,
which on SQLite was a Python `lower()` for every one of 100,000 titles (800 ms a search), and
the same folding on SQLite and PostgreSQL. Existing titles are folded here, in batches.

`ix_packages_created` on (created, id), the package list's order: a page of a search stops
once it has its rows instead of sorting every match (60 -> 13 ms on 100,000 packages).
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op
from preserve.names import folded

revision = "0011_title_search"
down_revision = "0010_accounts"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    op.add_column("packages", sa.Column("title_folded", sa.Text(), nullable=True))
    connection = op.get_bind()
    packages = sa.table("packages", sa.column("id", sa.Text()), sa.column("title", sa.Text()),
                        sa.column("title_folded", sa.Text()))
    last = ""
    while True:
        rows = connection.execute(
            sa.select(packages.c.id, packages.c.title)
            .where(packages.c.id > last, packages.c.title.is_not(None))
            .order_by(packages.c.id).limit(BATCH)).all()
        if not rows:
            break
        connection.execute(
            packages.update().where(packages.c.id == sa.bindparam("pid"))
            .values(title_folded=sa.bindparam("folded")),
            [{"pid": pid, "folded": folded(title)} for pid, title in rows])
        last = rows[-1][0]
    op.create_index("ix_packages_created", "packages", ["created", "id"])


def downgrade() -> None:
    op.drop_index("ix_packages_created", table_name="packages")
    with op.batch_alter_table("packages") as batch:
        batch.drop_column("title_folded")
