"""Holdout assignments: who was held out of a worked list, and who was worked (issue 16,
decision 022).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # as in 0001: SQLite autoincrements INTEGER keys only


def upgrade() -> None:
    op.create_table(
        "holdout_assignments",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.BigInteger, nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("held_out", sa.Boolean(create_constraint=True, name="ck_holdout_held_out_bool"), nullable=False),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("assigned_on", sa.Date, nullable=False),
        sa.Column("list_as_of", sa.Date, nullable=False),
        sa.Column("assigned_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        # one assignment per customer and programme period: the first one stands
        sa.UniqueConstraint("customer_id", "period", name="uq_holdout_customer_period"),
    )
    op.create_index("ix_holdout_assignments_period", "holdout_assignments", ["period", "customer_id"])


def downgrade() -> None:
    op.drop_table("holdout_assignments")
