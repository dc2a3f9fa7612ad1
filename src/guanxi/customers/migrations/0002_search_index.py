from django.db import migrations

from guanxi.core.search import install_index, remove_index

TABLES = ["customers_account", "customers_contact"]


def forwards(apps, schema_editor):
    for table in TABLES:
        install_index(schema_editor, table)


def backwards(apps, schema_editor):
    for table in TABLES:
        remove_index(schema_editor, table)


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
