from django.db import migrations

from guanxi.core.search import install_index, remove_index

TABLE = "knowledge_article"


def forwards(apps, schema_editor):
    install_index(schema_editor, TABLE)


def backwards(apps, schema_editor):
    remove_index(schema_editor, TABLE)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
