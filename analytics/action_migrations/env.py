"""Alembic environment of the action store (analytics.actions; decision 021).

Run only through `analytics.actions.upgrade`, which builds the alembic `Config` in code and
hands over an open connection inside its write transaction (`config.attributes`): there is
no alembic.ini and no URL here.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None,
                  version_table=context.config.attributes["version_table"])
with context.begin_transaction():
    context.run_migrations()
