"""The moderation log is append-only in the database too.

PostgreSQL: a trigger refuses UPDATE and DELETE of a row (TRUNCATE, used only by test-database
flushes and restores, is a table-level statement and not covered). SQLite: a trigger refuses
UPDATE; DELETE is left to the model layer, because Django's test runner empties tables between
transactional tests with DELETE on SQLite.
"""

from django.db import migrations

TABLE = "moderation_moderationaction"

POSTGRES_FORWARD = f"""
CREATE OR REPLACE FUNCTION moderation_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the moderation log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER moderation_log_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION moderation_log_append_only();
"""
POSTGRES_BACKWARD = f"""
DROP TRIGGER IF EXISTS moderation_log_append_only ON {TABLE};
DROP FUNCTION IF EXISTS moderation_log_append_only();
"""
SQLITE_FORWARD = f"""
CREATE TRIGGER moderation_log_no_update BEFORE UPDATE ON {TABLE}
BEGIN
    SELECT RAISE(ABORT, 'the moderation log is append-only (UPDATE refused)');
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS moderation_log_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
