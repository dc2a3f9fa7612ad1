"""Accounts' and contacts' search index serves two-character terms too (core.search.install_index with `pairs`),
on SQLite (the models' `search_pairs_indexed`): "yang li" in a million contacts was the slowest search
(docs/benchmarks.md); most Chinese given names are two characters. Not on PostgreSQL: the stored pairs column
made the contact table 2.3 times as large, which slowed every search that reads rows and the load."""

from django.db import migrations

from guanxi.core.search import reinstall_index

MODELS = ("Account", "Contact")


def search_pairs(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in MODELS:
            reinstall_index(schema_editor, apps.get_model("customers", name), pairs=True)


def search_without_pairs(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in MODELS:
            reinstall_index(schema_editor, apps.get_model("customers", name), pairs=False)


class Migration(migrations.Migration):

    dependencies = [("customers", "0009_contact_account_name_index")]

    operations = [migrations.RunPython(search_pairs, search_without_pairs)]
